//! Collections: groups of products with a handle, shown on the storefront.
//!
//! A **manual** collection holds the products staff place in it, in the order they give. An
//! **automated** one holds the products matching its rules (`all` or `any` of: tag, product type,
//! vendor, price above or below, attribute value, in a category): its worker
//! (`worker.rs`, on the `events` queue) reconsiders a product whenever a product event names it,
//! and gathers the whole membership again in the background when the rules change, showing
//! `rebuilding` until done. Nothing is computed at read time.
//!
//! Membership lives with each product (its placements, see `catalog::placements`), so a product
//! change rewrites its entries in every collection listing in its own transaction, and a
//! product deletion takes it out of every collection. Each collection's listing holds its active
//! products in every shopper order, so a collection page is one query.

pub mod model;
pub mod routes;
pub mod store;
pub mod worker;

use self::model::{Collection, CollectionImage, CollectionState, Rule, RuleSet, SortOrder};
use super::errors::ProductError;
use super::events::CatalogEvent;
use super::model::Seo;
use super::placements::{Placements, Shelf, MAX_PLACEMENTS};
use super::service::{set_placements, Placement};
use super::taxonomy::{self, check_handle, check_seo, Taxonomy};
use crate::app::App;
use crate::auth::TenantId;
use crate::clock::rfc3339;
use crate::events::event;
use crate::http::FieldError;
use crate::ids::{CollectionId, ProductId};
use crate::store::{Index, Query, SortKey, StoreError};
use crate::ttl_cache::TtlCache;
use crate::validate::{self, Errors};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

/// Rules one automated collection has at most.
pub const MAX_RULES: usize = 20;
/// Products one request places at most.
pub const MAX_PLACED: usize = 50;
/// The gap left between manual positions, so that most moves rewrite only the moved products.
const GAP: i64 = 1024;
const MAX_POSITION: i64 = 9_000_000_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCollection {
    pub title: String,
    /// Default: from the title.
    pub handle: Option<String>,
    pub description: Option<String>,
    pub image: Option<CollectionImage>,
    pub seo: Option<Seo>,
    /// Default `manual` for a manual collection, `newest` for an automated one.
    pub sort_order: Option<SortOrder>,
    /// Makes the collection automated (it stays so).
    pub rules: Option<RuleSet>,
}

/// A partial change; `image: null` removes the image. `rules` only for an automated collection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionChange {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<CollectionImage>)]
    pub image: Option<Option<CollectionImage>>,
    pub seo: Option<Seo>,
    pub sort_order: Option<SortOrder>,
    pub rules: Option<RuleSet>,
}

/// Products to place in a manual collection, at a position (0 is first; default: the end).
/// Products already there move.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Placing {
    pub product_ids: Vec<String>,
    pub position: Option<u32>,
}

/// Where a product now sits in a manual collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Placed {
    pub product_id: String,
    /// Sorts the collection (the gaps between positions carry no meaning).
    pub position: i64,
}

fn invalid(field: &str, code: &str, message: &str) -> ProductError {
    ProductError::Invalid(vec![FieldError::new(field, code, message)])
}

fn not_found() -> ProductError {
    ProductError::NotFound("collection")
}

/// Checks a collection as it would be saved. Its rules are checked when they are new or
/// changed: a category deleted since they were written never blocks an unrelated edit (the rule
/// then matches nothing, and an edit of the rules must name another).
fn check(errors: &mut Errors, c: &Collection, taxonomy: &Taxonomy, rules_changed: bool) {
    let title = c.title.trim();
    if title.is_empty() || title.chars().count() > 255 {
        errors.push(FieldError::new("title", "invalid", "1 to 255 characters"));
    }
    check_handle(errors, "handle", &c.handle);
    if c.description.chars().count() > 10_000 {
        errors.push(FieldError::new(
            "description",
            "too_long",
            "use at most 10000 characters",
        ));
    }
    if let Some(image) = &c.image {
        let url_ok = image.url.len() <= 2048
            && image.url.starts_with("https://")
            && image.url.len() > "https://".len()
            && !image
                .url
                .chars()
                .any(|ch| ch.is_control() || ch.is_whitespace());
        if !url_ok {
            errors.push(FieldError::new(
                "image.url",
                "invalid",
                "an https URL of at most 2048 characters",
            ));
        }
        if image.alt.chars().count() > 512 {
            errors.push(FieldError::new(
                "image.alt",
                "too_long",
                "use at most 512 characters",
            ));
        }
    }
    check_seo(errors, &c.seo);
    if c.sort_order == SortOrder::Manual && !c.is_manual() {
        errors.push(FieldError::new(
            "sort_order",
            "invalid",
            "an automated collection sorts by newest, title, price or -price",
        ));
    }
    if let Some(rules) = c.rules.as_ref().filter(|_| rules_changed) {
        check_rules(errors, rules, taxonomy);
    }
}

fn check_rules(errors: &mut Errors, rules: &RuleSet, taxonomy: &Taxonomy) {
    if rules.rules.is_empty() || rules.rules.len() > MAX_RULES {
        errors.push(FieldError::new(
            "rules.rules",
            "invalid",
            format!("1 to {MAX_RULES} rules"),
        ));
    }
    for (i, rule) in rules.rules.iter().enumerate() {
        let field = |name: &str| format!("rules.rules[{i}].{name}");
        let text_ok = |v: &str| !v.trim().is_empty() && v.chars().count() <= 255;
        match rule {
            Rule::Tag { value }
            | Rule::ProductType { value }
            | Rule::Vendor { value }
            | Rule::Attribute { value, .. } => {
                if !text_ok(value) {
                    errors.push(FieldError::new(
                        field("value"),
                        "invalid",
                        "1 to 255 characters",
                    ));
                }
            }
            Rule::Price { value, .. } => {
                if !(0..=crate::ids::MAX_STOCK_UNITS * 1000).contains(value) {
                    errors.push(FieldError::new(
                        field("value"),
                        "out_of_range",
                        "an amount in minor units, not negative",
                    ));
                }
            }
            Rule::Category { value } => {
                if taxonomy.category(value).is_none() {
                    errors.push(FieldError::new(
                        field("value"),
                        "unknown_category",
                        "no such category",
                    ));
                }
            }
        }
        if let Rule::Attribute { key, value } = rule {
            // The key of a defined attribute, and for a `select` one, one of its values: a typo
            // would make a collection that stays empty without a word.
            match taxonomy.attribute(key) {
                None => errors.push(FieldError::new(
                    field("key"),
                    "unknown_attribute",
                    "no attribute has this key (GET /admin/attributes)",
                )),
                Some(definition)
                    if definition.kind == crate::catalog::model::AttributeType::Select
                        && !definition.values.contains(value) =>
                {
                    errors.push(FieldError::new(
                        field("value"),
                        "invalid",
                        format!("one of {}", definition.values.join(", ")),
                    ))
                }
                Some(_) => {}
            }
        }
    }
}

/// The collections of a company as recently read (per container, 30 s; a change made through
/// this container is seen at once).
#[derive(Default)]
pub struct Cache {
    entries: TtlCacheSlot,
}

struct TtlCacheSlot(TtlCache<String, Arc<Vec<Collection>>>);

impl Default for TtlCacheSlot {
    fn default() -> Self {
        TtlCacheSlot(TtlCache::new(taxonomy::TTL_MS, 10_000))
    }
}

pub async fn cached(app: &App, tenant: &TenantId) -> Result<Arc<Vec<Collection>>, ProductError> {
    let now = app.clock.epoch_millis();
    let cache = app.cache::<Cache>();
    if let Some(found) = cache.entries.0.get(&tenant.to_string(), now) {
        return Ok(found);
    }
    let fresh = Arc::new(store::all(app.table.as_ref(), tenant).await?);
    cache.entries.0.put(tenant.to_string(), now, fresh.clone());
    Ok(fresh)
}

fn forget(app: &App, tenant: &TenantId) {
    app.cache::<Cache>()
        .entries
        .0
        .invalidate(&tenant.to_string());
}

pub async fn get(app: &App, tenant: &TenantId, id: &str) -> Result<Collection, ProductError> {
    let id = CollectionId::parse(id).ok_or_else(not_found)?;
    store::get(app.table.as_ref(), tenant, &id)
        .await?
        .ok_or_else(not_found)
}

pub async fn list(app: &App, tenant: &TenantId) -> Result<Vec<Collection>, ProductError> {
    let mut all = store::all(app.table.as_ref(), tenant).await?;
    all.sort_by_key(|c| c.title.to_lowercase());
    Ok(all)
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewCollection,
) -> Result<Collection, ProductError> {
    let taxonomy = taxonomy::read(app, tenant).await?;
    let now = rfc3339(app.clock.now());
    let automated = input.rules.is_some();
    let collection = Collection {
        id: CollectionId::generate(app.ids.as_ref()),
        handle: input
            .handle
            .clone()
            .unwrap_or_else(|| super::text::slugify(&input.title)),
        title: input.title.trim().to_owned(),
        description: input.description.unwrap_or_default(),
        image: input.image,
        seo: input.seo.unwrap_or_default(),
        sort_order: input.sort_order.unwrap_or(if automated {
            SortOrder::Newest
        } else {
            SortOrder::Manual
        }),
        rules: input.rules,
        state: if automated {
            CollectionState::Rebuilding
        } else {
            CollectionState::Ready
        },
        rules_version: u64::from(automated),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let mut errors = Errors::new();
    check(&mut errors, &collection, &taxonomy, true);
    errors.into_result()?;
    let ops = vec![
        store::put(tenant, &collection, 0),
        store::handle_put(tenant, &collection.handle, &collection.id),
        event(
            app,
            tenant,
            CatalogEvent::CollectionCreated,
            Some(actor),
            json!({"collection": collection}),
        ),
    ];
    let result = app.table.transact(ops).await;
    forget(app, tenant);
    match result {
        Ok(()) => Ok(collection),
        Err(e) if e.failed_at(1) => Err(ProductError::HandleTaken),
        Err(e) => Err(e.into()),
    }
}

pub async fn update(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: CollectionChange,
    if_match: Option<u64>,
) -> Result<Collection, ProductError> {
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(ProductError::Stale);
    }
    let taxonomy = taxonomy::read(app, tenant).await?;
    let mut c = current.clone();
    if let Some(v) = input.title {
        c.title = v.trim().to_owned();
    }
    if let Some(v) = input.handle {
        c.handle = v;
    }
    if let Some(v) = input.description {
        c.description = v;
    }
    if let Some(v) = input.image {
        c.image = v;
    }
    if let Some(v) = input.seo {
        c.seo = v;
    }
    if let Some(v) = input.sort_order {
        c.sort_order = v;
    }
    let mut rules_changed = false;
    if let Some(rules) = input.rules {
        if current.is_manual() {
            return Err(invalid(
                "rules",
                "manual_collection",
                "a manual collection stays manual; create an automated collection instead",
            ));
        }
        rules_changed = current.rules.as_ref() != Some(&rules);
        c.rules = Some(rules);
    }
    let mut errors = Errors::new();
    check(&mut errors, &c, &taxonomy, rules_changed);
    errors.into_result()?;
    if c == current {
        return Ok(current);
    }
    if rules_changed {
        c.rules_version += 1;
        c.state = CollectionState::Rebuilding;
    }
    c.version += 1;
    c.updated_at = rfc3339(app.clock.now());
    let mut ops = vec![store::put(tenant, &c, current.version)];
    let handle_at = ops.len();
    if c.handle != current.handle {
        ops.push(store::handle_put(tenant, &c.handle, &c.id));
        ops.push(store::handle_delete(tenant, &current.handle));
    }
    ops.push(event(
        app,
        tenant,
        CatalogEvent::CollectionUpdated,
        Some(actor),
        json!({"collection": c, "rules_changed": rules_changed}),
    ));
    let result = app.table.transact(ops).await;
    forget(app, tenant);
    match result {
        Ok(()) => Ok(c),
        Err(e) if e.failed_at(0) => Err(ProductError::Stale),
        Err(e) if c.handle != current.handle && e.failed_at(handle_at) => {
            Err(ProductError::HandleTaken)
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes a collection; its products leave it in the background (its worker), and nothing
/// shows it meanwhile.
pub async fn delete(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<(), ProductError> {
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(ProductError::Stale);
    }
    let result = app
        .table
        .transact(vec![
            store::delete(tenant, &current),
            store::handle_delete(tenant, &current.handle),
            event(
                app,
                tenant,
                CatalogEvent::CollectionDeleted,
                Some(actor),
                json!({"collection": current}),
            ),
        ])
        .await;
    forget(app, tenant);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.failed_at(0) => Err(ProductError::Stale),
        Err(e) => Err(e.into()),
    }
}

/// The active products of a manual collection with their positions, in order.
async fn positions(
    app: &App,
    tenant: &TenantId,
    collection: &CollectionId,
) -> Result<Vec<(String, i64)>, StoreError> {
    let shelf = Shelf::Collection(collection.to_string());
    let mut query = Query::partition(Index::Table, super::store::shelf_partition(tenant, &shelf))
        .sk(SortKey::BeginsWith("M#".into()))
        .limit(1000);
    let mut found = Vec::new();
    loop {
        let page = app.table.query(&query).await?;
        for item in &page.items {
            let sk = item.get("sk").and_then(|v| v.as_str()).unwrap_or_default();
            let mut parts = sk.trim_start_matches("M#").splitn(2, '#');
            let position = parts.next().and_then(|p| p.parse().ok());
            if let (Some(position), Some(product)) = (position, parts.next()) {
                found.push((product.to_owned(), position));
            }
        }
        match page.last_key {
            Some(last) => query = query.after(Some(last)),
            None => return Ok(found),
        }
    }
}

/// Positions for `count` products inserted at `index` among `order` (the others' positions), or
/// `None` when there is no room between the neighbours.
fn slots(order: &[i64], index: usize, count: usize) -> Option<Vec<i64>> {
    let count = count as i64;
    let before = index.checked_sub(1).map(|i| order[i]);
    let after = order.get(index).copied();
    let slots: Vec<i64> = match (before, after) {
        (None, None) => (0..count).map(|i| i * GAP).collect(),
        (Some(b), None) => (1..=count).map(|i| b + i * GAP).collect(),
        (None, Some(a)) => {
            let first = a - count * GAP;
            if first < 0 {
                let step = a / (count + 1);
                if step < 1 {
                    return None;
                }
                (1..=count).map(|i| i * step).collect()
            } else {
                (0..count).map(|i| first + i * GAP).collect()
            }
        }
        (Some(b), Some(a)) => {
            let step = (a - b) / (count + 1);
            if step < 1 {
                return None;
            }
            (1..=count).map(|i| b + i * step).collect()
        }
    };
    slots.iter().all(|p| *p <= MAX_POSITION).then_some(slots)
}

/// Places products in a manual collection at a position (see [`Placing`]). Every product is
/// checked before any moves, so a refused request places none.
pub async fn place_products(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: Placing,
) -> Result<Vec<Placed>, ProductError> {
    let collection = get(app, tenant, id).await?;
    if !collection.is_manual() {
        return Err(invalid(
            "collection",
            "automated_collection",
            "an automated collection holds the products its rules match",
        ));
    }
    if input.product_ids.is_empty() || input.product_ids.len() > MAX_PLACED {
        return Err(invalid(
            "product_ids",
            "invalid",
            &format!("1 to {MAX_PLACED} product ids"),
        ));
    }
    let mut ids: Vec<ProductId> = Vec::new();
    for (i, raw) in input.product_ids.iter().enumerate() {
        let id = ProductId::parse(raw).ok_or_else(|| {
            invalid(
                &format!("product_ids[{i}]"),
                "unknown_product",
                "no such product",
            )
        })?;
        if ids.contains(&id) {
            return Err(invalid(
                &format!("product_ids[{i}]"),
                "duplicate",
                "named twice",
            ));
        }
        ids.push(id);
    }
    let context = super::service::Context::load(app, tenant).await?;
    for (i, id) in ids.iter().enumerate() {
        let read = super::store::product_stock(app.table.as_ref(), tenant, id).await?;
        let Some((read, _)) = read else {
            return Err(invalid(
                &format!("product_ids[{i}]"),
                "unknown_product",
                "no such product",
            ));
        };
        let mut placements = read.placements.clone();
        placements
            .collections
            .insert(collection.id.to_string(), Some(0));
        if !Placements::within_limit(&placements.shelves(&read.product, &context.taxonomy)) {
            return Err(ProductError::TooManyPlacements {
                max: MAX_PLACEMENTS,
            });
        }
    }
    let moving: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let others: Vec<(String, i64)> = positions(app, tenant, &collection.id)
        .await?
        .into_iter()
        .filter(|(p, _)| !moving.contains(p))
        .collect();
    let index = input
        .position
        .map_or(others.len(), |p| (p as usize).min(others.len()));
    let order: Vec<i64> = others.iter().map(|(_, p)| *p).collect();
    let mut changes: Vec<(ProductId, i64)> = Vec::new();
    match slots(&order, index, ids.len()) {
        Some(slots) => changes.extend(ids.iter().cloned().zip(slots)),
        None => {
            // No room: number everything again, the moved products at their place.
            let mut all: Vec<ProductId> = others
                .iter()
                .filter_map(|(p, _)| ProductId::parse(p))
                .collect();
            for (offset, id) in ids.iter().enumerate() {
                all.insert(index + offset, id.clone());
            }
            changes.extend(all.into_iter().zip((0..).map(|i: i64| i * GAP)));
        }
    }
    let mut placed = Vec::new();
    for (product, position) in changes {
        let change = BTreeMap::from([(collection.id.clone(), Placement::In(Some(position)))]);
        if set_placements(app, tenant, &product, &change).await? && ids.contains(&product) {
            placed.push(Placed {
                product_id: product.to_string(),
                position,
            });
        }
    }
    let added: Vec<&String> = placed.iter().map(|p| &p.product_id).collect();
    app.table
        .transact(vec![event(
            app,
            tenant,
            CatalogEvent::CollectionProductsChanged,
            Some(actor),
            json!({"collection_id": collection.id, "added": added, "removed": []}),
        )])
        .await?;
    Ok(placed)
}

/// Takes a product out of a manual collection (404 when it is not in it).
pub async fn remove_product(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    product: &str,
) -> Result<(), ProductError> {
    let collection = get(app, tenant, id).await?;
    if !collection.is_manual() {
        return Err(invalid(
            "collection",
            "automated_collection",
            "an automated collection holds the products its rules match",
        ));
    }
    let product = ProductId::parse(product).ok_or(ProductError::NotFound("product"))?;
    let held = super::store::product_stock(app.table.as_ref(), tenant, &product)
        .await?
        .is_some_and(|(p, _)| {
            p.placements
                .collections
                .contains_key(collection.id.as_str())
        });
    if !held {
        return Err(ProductError::NotFound("product"));
    }
    let change = BTreeMap::from([(collection.id.clone(), Placement::Out)]);
    set_placements(app, tenant, &product, &change).await?;
    app.table
        .transact(vec![event(
            app,
            tenant,
            CatalogEvent::CollectionProductsChanged,
            Some(actor),
            json!({"collection_id": collection.id, "added": [], "removed": [product]}),
        )])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::slots;

    #[test]
    fn positions_fit_between_neighbours_or_ask_for_renumbering() {
        assert_eq!(slots(&[], 0, 2), Some(vec![0, 1024]));
        assert_eq!(slots(&[0, 1024], 2, 1), Some(vec![2048]));
        assert_eq!(slots(&[0, 1024], 1, 1), Some(vec![512]));
        assert_eq!(slots(&[0, 1024], 1, 3), Some(vec![256, 512, 768]));
        assert_eq!(slots(&[4096], 0, 2), Some(vec![2048, 3072]));
        assert_eq!(slots(&[2], 0, 1), Some(vec![1]));
        assert_eq!(slots(&[0, 1], 1, 1), None);
        assert_eq!(slots(&[0], 0, 1), None);
    }
}
