//! The collections worker, on the `events` queue: keeps automated collections current.
//!
//! - A product event (`product.*`, `variant.*`) reconsiders that product: it joins every
//!   automated collection whose rules it now matches and leaves the others (its manual
//!   collections stay), and leaves collections that no longer exist.
//! - `collection.created`, or `collection.updated` with changed rules, gathers an automated
//!   collection's products again: one page of the company's listing per message, the rest sent
//!   back to the queue as a continuation, then marks it `ready` (only if its rules did not change
//!   again meanwhile: that change has its own rebuild).
//! - `collection.deleted` takes every product out of the deleted collection, the same way.
//! - `category.updated` for a category that moved, and `category.deleted`, move every product
//!   with categories to the category listings it now belongs in, the same way; so does
//!   `listings.rebuild_requested` for every product (staff ask for it after an upgrade that adds
//!   listings).
//! - `settings.updated` for the inventory group publishes every product's availability under the
//!   new threshold and quantity setting, the same way (product pages show it at once).
//!
//! Each step reads fresh and writes only differences, so a message delivered twice does nothing
//! the second time.

use super::model::Collection;
use super::store as collections_store;
use crate::app::App;
use crate::catalog::events::CatalogEvent;
use crate::catalog::listing::Summary;
use crate::catalog::service::{
    listed_summary, publish_availability, relist, set_placements, Placement,
};
use crate::catalog::store::{self, Order};
use crate::catalog::taxonomy;
use crate::events::DomainEvent;
use crate::identity::TenantId;
use crate::ids::{CollectionId, ProductId};
use crate::queue::names;
use crate::store::{Item, SortKey};
use crate::workers::{Worker, WorkerError, WorkerFuture};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub static WORKER: Worker = Worker {
    name: "collections_worker",
    queue: names::EVENTS,
    timeout: Duration::from_secs(60),
    sends_mail: false,
    defers: true,
    secrets: &[],
    handle,
};

/// Listing entries one rebuild message goes through.
const PAGE: u32 = 100;

fn handle(app: Arc<App>, body: String) -> WorkerFuture {
    Box::pin(async move { consume(&app, &body).await })
}

fn retry(e: impl std::fmt::Display) -> WorkerError {
    WorkerError::Retry(e.to_string())
}

/// Handles one message (the worker's step, also driven by tests).
pub async fn consume(app: &App, body: &str) -> Result<(), WorkerError> {
    let event: DomainEvent = serde_json::from_str(body)
        .map_err(|e| WorkerError::Rejected(format!("not an event: {e}")))?;
    let tenant = event.tenant();
    let kind = event.kind.as_str();
    let product_event = [
        CatalogEvent::ProductCreated,
        CatalogEvent::ProductUpdated,
        CatalogEvent::VariantCreated,
        CatalogEvent::VariantUpdated,
        CatalogEvent::VariantDeleted,
    ]
    .iter()
    .any(|k| k.name() == kind);
    if product_event {
        let id = event.data["product_id"]
            .as_str()
            .or_else(|| event.data["product"]["id"].as_str())
            .and_then(ProductId::parse)
            .ok_or_else(|| WorkerError::Rejected("no product id".into()))?;
        return reconsider(app, &tenant, &id).await;
    }
    let after = event.data["cursor"].as_object().cloned();
    if kind == CatalogEvent::CategoryUpdated.name() && event.data["moved"] != Value::Bool(true) {
        return Ok(());
    }
    if kind == CatalogEvent::CategoryUpdated.name() || kind == CatalogEvent::CategoryDeleted.name()
    {
        return relist_all(app, &tenant, body, after, true).await;
    }
    if kind == CatalogEvent::ListingsRebuildRequested.name() {
        return relist_all(app, &tenant, body, after, false).await;
    }
    if kind == crate::settings::events::SettingsEvent::Updated.name() {
        if event.data["group"] != "inventory" {
            return Ok(());
        }
        return republish_all(app, &tenant, body, after).await;
    }
    let collection: Collection = serde_json::from_value(event.data["collection"].clone())
        .map_err(|e| WorkerError::Rejected(format!("no collection: {e}")))?;
    if kind == CatalogEvent::CollectionDeleted.name() {
        return sweep(app, &tenant, body, &collection, after, true).await;
    }
    let rebuild = kind == CatalogEvent::CollectionCreated.name()
        || event.data["rules_changed"] == Value::Bool(true);
    if rebuild && !collection.is_manual() {
        return sweep(app, &tenant, body, &collection, after, false).await;
    }
    Ok(())
}

/// Sends the message back to the queue to go on after `last` (a listing key).
async fn continue_after(app: &App, body: &str, last: Item) -> Result<(), WorkerError> {
    let mut next: Value = serde_json::from_str(body).map_err(retry)?;
    next["data"]["cursor"] = Value::Object(last);
    app.queue
        .send(names::EVENTS, &next.to_string(), Duration::ZERO)
        .await
        .map(|_| ())
        .map_err(retry)
}

/// Goes through one page of the company's listing moving each product's entries to the listings
/// it belongs in (only products with categories, after a category moved or was deleted); sends
/// the rest back to the queue.
async fn relist_all(
    app: &App,
    tenant: &TenantId,
    body: &str,
    after: Option<Item>,
    categorised_only: bool,
) -> Result<(), WorkerError> {
    let (items, last) = store::entries(
        app.table.as_ref(),
        tenant,
        None,
        Order::Created,
        SortKey::Any,
        false,
        PAGE,
        after,
    )
    .await
    .map_err(retry)?;
    for item in items {
        let summary: Summary = crate::store::from_item(item).map_err(retry)?;
        if categorised_only && summary.category_ids.is_empty() {
            continue;
        }
        let Some(product) = ProductId::parse(&summary.id) else {
            continue;
        };
        match relist(app, tenant, &product).await {
            Ok(_) | Err(crate::catalog::errors::ProductError::TooManyPlacements { .. }) => {}
            Err(e) => return Err(retry(e)),
        }
    }
    match last {
        Some(last) => continue_after(app, body, last).await,
        None => Ok(()),
    }
}

/// Goes through one page of the company's listing publishing each product's availability under
/// the inventory settings as they are now; sends the rest back to the queue.
async fn republish_all(
    app: &App,
    tenant: &TenantId,
    body: &str,
    after: Option<Item>,
) -> Result<(), WorkerError> {
    let settings =
        crate::settings::service::fresh::<crate::settings::groups::Inventory>(app, tenant)
            .await
            .map_err(retry)?;
    let (items, last) = store::entries(
        app.table.as_ref(),
        tenant,
        None,
        Order::Created,
        SortKey::Any,
        false,
        PAGE,
        after,
    )
    .await
    .map_err(retry)?;
    for item in items {
        let summary: Summary = crate::store::from_item(item).map_err(retry)?;
        let Some(product) = ProductId::parse(&summary.id) else {
            continue;
        };
        publish_availability(app, tenant, &product, None, &settings)
            .await
            .map_err(retry)?;
    }
    match last {
        Some(last) => continue_after(app, body, last).await,
        None => Ok(()),
    }
}

/// Puts a product in exactly the automated collections it matches.
async fn reconsider(app: &App, tenant: &TenantId, id: &ProductId) -> Result<(), WorkerError> {
    let Some((read, _)) = store::product_stock(app.table.as_ref(), tenant, id)
        .await
        .map_err(retry)?
    else {
        return Ok(());
    };
    let collections = collections_store::all(app.table.as_ref(), tenant)
        .await
        .map_err(retry)?;
    let taxonomy = taxonomy::read(app, tenant).await.map_err(retry)?;
    let summary = listed_summary(&read, &read.placements);
    let mut changes: BTreeMap<CollectionId, Placement> = BTreeMap::new();
    for c in &collections {
        let Some(rules) = &c.rules else { continue };
        let wanted = rules.matches(&summary, &taxonomy);
        let held = read.placements.collections.contains_key(c.id.as_str());
        if wanted != held {
            changes.insert(
                c.id.clone(),
                if wanted {
                    Placement::In(None)
                } else {
                    Placement::Out
                },
            );
        }
    }
    for held in read.placements.collections.keys() {
        if !collections.iter().any(|c| c.id.as_str() == held) {
            if let Some(id) = CollectionId::parse(held) {
                changes.insert(id, Placement::Out);
            }
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    match set_placements(app, tenant, id, &changes).await {
        Ok(_) => Ok(()),
        // A product listed in as many places as it may be stays out of further collections.
        Err(crate::catalog::errors::ProductError::TooManyPlacements { .. }) => {
            tracing::warn!(product = %id, "too many placements; left out of a collection");
            Ok(())
        }
        Err(e) => Err(retry(e)),
    }
}

/// Goes through one page of the company's listing for a collection: places the products its
/// rules match and takes out those they do not (all of them for a deleted collection); sends
/// the rest back to the queue, or finishes.
async fn sweep(
    app: &App,
    tenant: &TenantId,
    body: &str,
    collection: &Collection,
    after: Option<Item>,
    deleted: bool,
) -> Result<(), WorkerError> {
    let current = if deleted {
        None
    } else {
        match collections_store::get(app.table.as_ref(), tenant, &collection.id)
            .await
            .map_err(retry)?
        {
            // Deleted since, or rules changed again: that event does the work.
            Some(c) if c.rules_version == collection.rules_version => Some(c),
            _ => return Ok(()),
        }
    };
    let taxonomy = taxonomy::read(app, tenant).await.map_err(retry)?;
    let (items, last) = store::entries(
        app.table.as_ref(),
        tenant,
        None,
        Order::Created,
        SortKey::Any,
        false,
        PAGE,
        after,
    )
    .await
    .map_err(retry)?;
    for item in items {
        let summary: Summary = crate::store::from_item(item).map_err(retry)?;
        let held = summary
            .collection_ids
            .iter()
            .any(|c| c == collection.id.as_str());
        let wanted = current
            .as_ref()
            .and_then(|c| c.rules.as_ref())
            .is_some_and(|rules| rules.matches(&summary, &taxonomy));
        if held == wanted {
            continue;
        }
        let Some(product) = ProductId::parse(&summary.id) else {
            continue;
        };
        let change = BTreeMap::from([(
            collection.id.clone(),
            if wanted {
                Placement::In(None)
            } else {
                Placement::Out
            },
        )]);
        match set_placements(app, tenant, &product, &change).await {
            Ok(_) | Err(crate::catalog::errors::ProductError::TooManyPlacements { .. }) => {}
            Err(e) => return Err(retry(e)),
        }
    }
    match last {
        Some(last) => continue_after(app, body, last).await?,
        None if !deleted => {
            collections_store::finish_rebuild(
                app.table.as_ref(),
                tenant,
                &collection.id,
                collection.rules_version,
            )
            .await
            .map_err(retry)?;
            app.cache::<super::Cache>()
                .entries
                .0
                .invalidate(&tenant.to_string());
        }
        None => {}
    }
    Ok(())
}
