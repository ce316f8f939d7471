//! Placing products in collections and taking them out.
//!
//! A product's collections live in its placements item (see `catalog::placements`). Changing
//! them is one transaction on the product's side: the placements item (conditioned on the version
//! read), the product's main listing entries (their summary names its collections; at the
//! product's version, so a concurrent product change sends this one round again) and its entries
//! in the listings of the collections it joins or leaves.

use super::{shelf_ops, Context};
use crate::app::App;
use crate::auth::TenantId;
use crate::catalog::availability::AvailabilityRecord;
use crate::catalog::errors::ProductError;
use crate::catalog::listing::Summary;
use crate::catalog::placements::{Placements, MAX_PLACEMENTS};
use crate::catalog::store;
use crate::ids::{CollectionId, ProductId};
use crate::settings::groups::Inventory;
use crate::store::{Condition, StoreError, TxOp};
use std::collections::BTreeMap;

/// What becomes of a product in one collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// In the collection; at this position when it is manual.
    In(Option<i64>),
    Out,
}

/// A product's summary as its listing entries hold it: with the availability published and the
/// collections holding it.
pub(crate) fn listed_summary(read: &store::ProductPartition, collections: &Placements) -> Summary {
    let mut summary = Summary::with_stock(&read.product, read.record.listed.clone());
    summary.collection_ids = collections.collections.keys().cloned().collect();
    summary
}

/// Applies `changes` to a product's collections, and moves its listing entries to the
/// listings it belongs in (with no changes, that alone: see [`relist`]); answers `false` when
/// the product does not exist (deleted meanwhile: it is in no collection).
pub async fn set_placements(
    app: &App,
    tenant: &TenantId,
    product: &ProductId,
    changes: &BTreeMap<CollectionId, Placement>,
) -> Result<bool, ProductError> {
    let context = Context::load(app, tenant).await?;
    for attempt in 0..crate::store::ATTEMPTS * 2 {
        if attempt > 0 {
            crate::store::back_off(attempt.min(crate::store::ATTEMPTS)).await;
        }
        let Some((read, _)) = store::product_stock(app.table.as_ref(), tenant, product).await?
        else {
            return Ok(false);
        };
        let before = &read.placements;
        let mut after = before.clone();
        for (collection, placement) in changes {
            match placement {
                Placement::In(position) => {
                    after.collections.insert(collection.to_string(), *position);
                }
                Placement::Out => {
                    after.collections.remove(collection.as_str());
                }
            }
        }
        let shelves = after.shelves(&read.product, &context.taxonomy);
        // Nothing to move: the same collections, and the listings it is in are those it
        // belongs in (a category moved elsewhere, or a product listed before the storefront's
        // own listings existed, has entries to move).
        if after.collections == before.collections && shelves == before.written {
            return Ok(true);
        }
        if !Placements::within_limit(&shelves) {
            return Err(ProductError::TooManyPlacements {
                max: MAX_PLACEMENTS,
            });
        }
        let old_summary = listed_summary(&read, before);
        let new_summary = listed_summary(&read, &after);
        let mut ops = vec![store::placements_put(
            tenant,
            product,
            &Placements {
                written: shelves.clone(),
                ..after.clone()
            },
        )];
        ops.push(TxOp::Check {
            key: store::product_key(tenant, product.as_str()),
            condition: Condition::VersionIs(read.product.version),
        });
        ops.push(store::availability_check(
            tenant,
            product,
            read.record.version,
        ));
        ops.extend(store::entry_ops(
            tenant,
            Some(&old_summary),
            Some(&new_summary),
        ));
        ops.extend(shelf_ops(
            tenant,
            &before.written,
            Some(&old_summary),
            &shelves,
            &new_summary,
        ));
        if ops.len() > crate::store::MAX_TRANSACTION_OPS {
            return Err(ProductError::ChangeTooLarge);
        }
        match app.table.transact(ops).await {
            Ok(()) => return Ok(true),
            // The product, its placements or its availability moved: read again.
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ProductError::Busy)
}

/// Moves a product's entries to the storefront, category and collection listings it belongs in
/// now: after its category moved in the tree, or for a product saved before these listings
/// existed. Answers `false` when the product does not exist.
pub async fn relist(
    app: &App,
    tenant: &TenantId,
    product: &ProductId,
) -> Result<bool, ProductError> {
    set_placements(app, tenant, product, &BTreeMap::new()).await
}

/// Writes what the storefront shows of a product's stock, when it changed: its availability
/// record (with `selling`, the locations that sell online, or the ones it holds) and, when a
/// status or a shown quantity changed, its listing entries; one transaction conditioned on the
/// record's and the product's versions, read again after a loss. Inventory calls it after each
/// stock change; the collections worker after a change of the inventory settings.
pub async fn publish_availability(
    app: &App,
    tenant: &TenantId,
    id: &ProductId,
    selling: Option<&[String]>,
    settings: &Inventory,
) -> Result<(), ProductError> {
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let Some((stock, _)) = store::product_stock(app.table.as_ref(), tenant, id).await? else {
            // Deleted: nothing shows it.
            return Ok(());
        };
        let record = &stock.record;
        let selling = selling.unwrap_or(&record.sellable);
        let listed = stock.listing(&stock.product, selling, settings);
        if record.sellable == selling && record.listed == listed {
            return Ok(());
        }
        let mut ops = vec![store::availability_put(
            tenant,
            id,
            &AvailabilityRecord {
                sellable: selling.to_vec(),
                listed: listed.clone(),
                version: record.version,
            },
        )];
        if record.listed != listed {
            let summary = Summary {
                stock: listed.clone(),
                ..listed_summary(&stock, &stock.placements)
            };
            ops.extend(store::entry_stock_ops(
                tenant,
                &summary,
                &stock.placements.written,
            ));
        }
        match app.table.transact(ops).await {
            Ok(()) => return Ok(()),
            // The record or the product moved meanwhile: read again.
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ProductError::Busy)
}
