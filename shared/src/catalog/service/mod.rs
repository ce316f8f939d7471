//! Product rules: creating, changing and deleting products, their options and variants.
//!
//! Every change reads the product, applies itself to a copy and writes it back conditioned on
//! the version read, in one transaction with the handle and SKU guards it moves, the listing
//! entries and the domain events. A change that loses a race to another re-reads and applies
//! again (unless the caller pinned a version with If-Match: then 412).

use super::availability::AvailabilityRecord;
use super::listing::Summary;
use super::model::{DescriptionFormat, Money, Product, ProductOption, ProductStatus, Seo, Variant};
use super::placements::{Placements, Shelf, MAX_PLACEMENTS};
use super::store;
use super::store::ProductPartition;
use super::taxonomy::{self, Taxonomy};
use crate::app::App;
use crate::auth::TenantId;
use crate::catalog::errors::ProductError;
use crate::clock::rfc3339;
use crate::events::event;
use crate::http::FieldError;
use crate::ids::{ProductId, VariantId};
use crate::settings::groups::{General, Inventory};
use crate::store::{Condition, StoreError, TxOp};
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use utoipa::ToSchema;

pub const MAX_OPTIONS: usize = 3;
pub const MAX_OPTION_VALUES: usize = 100;
pub const MAX_VARIANTS: usize = 100;
pub const MAX_TAGS: usize = 50;
pub const MAX_CATEGORIES_PER_PRODUCT: usize = 20;
pub const MAX_DESCRIPTION: usize = 100_000;
/// The rendered description is stored beside the source; Markdown can nearly triple in HTML, and
/// both must leave room in the product's item (400 KB) for 100 variants and 50 images.
pub const MAX_DESCRIPTION_HTML: usize = 150_000;

/// The events a change emits: (type, data).
pub type Events = Vec<(super::events::CatalogEvent, Value)>;
/// An operation that commits with a change, and what its failing condition means.
pub type Extra = (TxOp, fn() -> ProductError);
/// Where a guard put sits in a transaction, what its failure means, and its SKU if it is one.
type GuardMeaning = (usize, ProductError, Option<String>);

/// What an applied change produced: the product after it, its events and the answer.
pub struct Applied<T> {
    pub product: Product,
    pub events: Events,
    pub answer: T,
}

fn not_found() -> ProductError {
    ProductError::NotFound("product")
}

/// The guard operations that move a product's handle and SKUs from `before` to `after`, and
/// for each guard put, what its failure means.
fn guard_ops(
    tenant: &TenantId,
    before: Option<&Product>,
    after: Option<&Product>,
) -> (Vec<TxOp>, Vec<GuardMeaning>) {
    let mut ops = Vec::new();
    let mut meanings = Vec::new();
    let old_handle = before.map(|p| p.handle.as_str());
    let new_handle = after.map(|p| p.handle.as_str());
    if old_handle != new_handle {
        if let Some(product) = after {
            meanings.push((ops.len(), ProductError::HandleTaken, None));
            ops.push(store::guard_put(
                store::handle_key(tenant, &product.handle),
                "product_handle",
                &[("product_id", product.id.as_str())],
            ));
        }
        if let Some(old) = old_handle {
            ops.push(store::delete(store::handle_key(tenant, old)));
        }
    }
    let skus = |p: Option<&Product>| -> BTreeMap<String, (String, String)> {
        p.into_iter()
            .flat_map(|p| {
                p.variants.iter().filter_map(|v| {
                    v.sku
                        .as_ref()
                        .map(|s| (s.to_uppercase(), (s.clone(), v.id.to_string())))
                })
            })
            .collect()
    };
    let (old, new) = (skus(before), skus(after));
    for (upper, (sku, variant)) in &new {
        if !old.contains_key(upper) {
            let product = after.map(|p| p.id.as_str()).unwrap_or_default();
            meanings.push((
                ops.len(),
                ProductError::SkuTaken(sku.clone()),
                Some(sku.clone()),
            ));
            ops.push(store::guard_put(
                store::sku_key(tenant, sku),
                "sku",
                &[
                    ("product_id", product),
                    ("variant_id", variant),
                    ("sku", sku),
                ],
            ));
        }
    }
    for (upper, (sku, _)) in &old {
        if !new.contains_key(upper) {
            ops.push(store::delete(store::sku_key(tenant, sku)));
        }
    }
    (ops, meanings)
}

/// A SKU that two of the product's variants share, compared without case.
fn repeated_sku(product: &Product) -> Option<String> {
    let mut seen = HashSet::new();
    product
        .variants
        .iter()
        .filter_map(|v| v.sku.as_ref())
        .find(|sku| !seen.insert(sku.to_uppercase()))
        .cloned()
}

/// Removes a SKU guard whose product or variant no longer holds the SKU (left by an interrupted
/// delete); `true` when one was removed, so the change may try again.
async fn clear_stale_sku(app: &App, tenant: &TenantId, sku: &str) -> Result<bool, ProductError> {
    let key = store::sku_key(tenant, sku);
    let Some(guard) = app.table.get(&key).await? else {
        return Ok(true);
    };
    let field = |name: &str| guard.get(name).and_then(Value::as_str).unwrap_or_default();
    let holder = match ProductId::parse(field("product_id")) {
        Some(id) => store::product(app.table.as_ref(), tenant, &id).await?,
        None => None,
    };
    let held = holder.is_some_and(|p| {
        p.variants.iter().any(|v| {
            v.id == field("variant_id")
                && v.sku.as_ref().is_some_and(|s| s.eq_ignore_ascii_case(sku))
        })
    });
    if held {
        return Ok(false);
    }
    // Only the stale guard read above may go: a concurrent change may have released it and
    // another product claimed the SKU since, and that claim must stand.
    let still_stale = Condition::All(vec![
        Condition::Equals {
            attr: "product_id".into(),
            value: field("product_id").into(),
        },
        Condition::Equals {
            attr: "variant_id".into(),
            value: field("variant_id").into(),
        },
    ]);
    match app.table.delete(&key, Some(still_stale)).await {
        // Gone or taken over meanwhile: the caller's next attempt looks again.
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// Writes a product change: `read` is what was read (`None` for a new product).
#[allow(clippy::too_many_arguments)]
async fn save(
    app: &App,
    tenant: &TenantId,
    context: &Context,
    actor: &str,
    read: Option<&ProductPartition>,
    after: &Product,
    events: &Events,
    extra: &[Extra],
) -> Result<(), SaveError> {
    let before = read.map(|r| &r.product);
    // SKUs are unique without regard to case, within a product too: its guards are keyed by the
    // upper-cased SKU, so two of its variants could otherwise share one guard.
    if let Some(sku) = repeated_sku(after) {
        return Err(SaveError::Refused(ProductError::SkuTaken(sku)));
    }
    let mut ops = vec![store::product_put(
        tenant,
        after,
        before.map_or(0, |p| p.version),
    )];
    let mut extra_meanings = Vec::new();
    for (op, meaning) in extra {
        extra_meanings.push((ops.len(), *meaning));
        ops.push(op.clone());
    }
    // The listing shows each variant's availability as of the stock read with the product; the
    // record's check makes a concurrent publication by inventory send this change round again.
    let empty = ProductPartition {
        product: after.clone(),
        units: Default::default(),
        record: Default::default(),
        placements: Default::default(),
    };
    let stock = read.unwrap_or(&empty);
    let listed = stock.listing(after, &stock.record.sellable, &context.inventory);
    let availability_at = ops.len();
    ops.push(if listed == stock.record.listed {
        store::availability_check(tenant, &after.id, stock.record.version)
    } else {
        store::availability_put(
            tenant,
            &after.id,
            &AvailabilityRecord {
                listed: listed.clone(),
                ..stock.record.clone()
            },
        )
    });
    let (guards, meanings) = guard_ops(tenant, before, Some(after));
    let offset = ops.len();
    ops.extend(guards);
    let collection_ids: Vec<String> = stock.placements.collections.keys().cloned().collect();
    let before_summary = before.map(|b| Summary {
        collection_ids: collection_ids.clone(),
        ..Summary::with_stock(b, stock.record.listed.clone())
    });
    let after_summary = Summary {
        collection_ids,
        ..Summary::with_stock(after, listed)
    };
    ops.extend(store::entry_ops(
        tenant,
        before_summary.as_ref(),
        Some(&after_summary),
    ));
    // The category and collection listings, from where they were last written to where the
    // product belongs now; the placements' check or put makes a concurrent collection change
    // send this change round again.
    let placements = &stock.placements;
    let shelves = placements.shelves(after, &context.taxonomy);
    if !Placements::within_limit(&shelves) {
        return Err(SaveError::Refused(ProductError::TooManyPlacements {
            max: MAX_PLACEMENTS,
        }));
    }
    ops.extend(shelf_ops(
        tenant,
        &placements.written,
        before_summary.as_ref(),
        &shelves,
        &after_summary,
    ));
    let placements_at = ops.len();
    ops.push(if shelves == placements.written {
        store::placements_check(tenant, &after.id, placements.version)
    } else {
        store::placements_put(
            tenant,
            &after.id,
            &Placements {
                written: shelves,
                ..placements.clone()
            },
        )
    });
    for (kind, data) in events {
        ops.push(event(app, tenant, *kind, Some(actor), data.clone()));
    }
    if ops.len() > crate::store::MAX_TRANSACTION_OPS {
        return Err(SaveError::Refused(ProductError::ChangeTooLarge));
    }
    register_new_variants(app, tenant, before, after).await?;
    match app.table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(e) if e.failed_at(0) => Err(SaveError::Stale),
        Err(e) if e.failed_at(availability_at) || e.failed_at(placements_at) => {
            Err(SaveError::Raced)
        }
        Err(StoreError::Conflict) => Err(SaveError::Stale),
        Err(e) => {
            for (index, meaning) in extra_meanings {
                if e.failed_at(index) {
                    return Err(SaveError::Refused(meaning()));
                }
            }
            for (index, error, sku) in meanings {
                if e.failed_at(index + offset) {
                    return Err(match sku {
                        Some(sku) => SaveError::Sku(sku, error),
                        None => SaveError::Refused(error),
                    });
                }
            }
            Err(SaveError::Refused(e.into()))
        }
    }
}

/// The operations that move a product's entries in category and collection listings from the
/// shelves `written` (holding `before`) to `shelves` (holding `after`).
pub(crate) fn shelf_ops(
    tenant: &TenantId,
    written: &[(Shelf, Option<i64>)],
    before: Option<&Summary>,
    shelves: &[(Shelf, Option<i64>)],
    after: &Summary,
) -> Vec<TxOp> {
    let mut ops = Vec::new();
    for (shelf, position) in written {
        let now = shelves.iter().find(|(s, _)| s == shelf);
        ops.extend(store::shelf_entry_ops(
            tenant,
            shelf,
            before.map(|b| (b, *position)),
            now.map(|(_, p)| (after, *p)),
        ));
    }
    for (shelf, position) in shelves {
        if !written.iter().any(|(s, _)| s == shelf) {
            ops.extend(store::shelf_entry_ops(
                tenant,
                shelf,
                None,
                Some((after, *position)),
            ));
        }
    }
    ops
}

/// Writes the variant lookups of the variants `after` adds (see [`store::variant_lookup_put`]).
async fn register_new_variants(
    app: &App,
    tenant: &TenantId,
    before: Option<&Product>,
    after: &Product,
) -> Result<(), SaveError> {
    let known: HashSet<&VariantId> = before
        .map(|p| p.variants.iter().map(|v| &v.id).collect())
        .unwrap_or_default();
    let puts: Vec<TxOp> = after
        .variants
        .iter()
        .filter(|v| !known.contains(&v.id))
        .map(|v| store::variant_lookup_put(tenant, v.id.as_str(), &after.id))
        .collect();
    for chunk in puts.chunks(crate::store::MAX_TRANSACTION_OPS) {
        app.table
            .transact(chunk.to_vec())
            .await
            .map_err(|e| SaveError::Refused(e.into()))?;
    }
    Ok(())
}

/// A variant and the product holding it, found by the variant's id alone.
pub async fn find_variant(
    app: &App,
    tenant: &TenantId,
    variant_id: &VariantId,
) -> Result<Option<(Product, Variant)>, ProductError> {
    Ok(find_variants(app, tenant, std::slice::from_ref(variant_id))
        .await?
        .into_iter()
        .next()
        .map(|(_, product, variant)| (product, variant)))
}

/// Variants and their products, found by the variants' ids alone (two batched reads); unknown
/// ids are left out.
pub async fn find_variants(
    app: &App,
    tenant: &TenantId,
    variant_ids: &[VariantId],
) -> Result<Vec<(VariantId, Product, Variant)>, ProductError> {
    let ids: Vec<&str> = variant_ids.iter().map(|v| v.as_str()).collect();
    let owners = store::variant_products(app.table.as_ref(), tenant, &ids).await?;
    let mut product_ids: Vec<&ProductId> = owners.iter().map(|(_, p)| p).collect();
    product_ids.sort_by_key(|p| p.as_str());
    product_ids.dedup();
    let products = store::products(app.table.as_ref(), tenant, &product_ids).await?;
    let mut found = Vec::new();
    for id in variant_ids {
        let holder = owners
            .iter()
            .find(|(v, _)| v == id.as_str())
            .map(|(_, p)| p);
        let product = holder.and_then(|p| products.iter().find(|x| x.id == *p));
        if let Some(product) = product {
            if let Some(variant) = product.variants.iter().find(|v| v.id == *id) {
                found.push((id.clone(), product.clone(), variant.clone()));
            }
        }
    }
    Ok(found)
}

enum SaveError {
    /// Another change won: read again.
    Stale,
    /// Inventory published the product's availability meanwhile: read again (even under
    /// If-Match, as the product itself did not change).
    Raced,
    /// A SKU guard is held; it may be stale.
    Sku(String, ProductError),
    Refused(ProductError),
}

/// Applies a change to a product from a fresh read, retrying when it loses a race; answers the
/// change's own answer and the product as saved. A change that changes nothing writes nothing.
pub async fn change<T>(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &ProductId,
    if_match: Option<u64>,
    apply: impl Fn(&Product, &Context) -> Result<Applied<T>, ProductError>,
) -> Result<(T, Product), ProductError> {
    change_with(app, tenant, actor, id, if_match, &[], apply).await
}

/// [`change`], with operations that must commit with it (and what their failure means).
pub async fn change_with<T>(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &ProductId,
    if_match: Option<u64>,
    extra: &[Extra],
    apply: impl Fn(&Product, &Context) -> Result<Applied<T>, ProductError>,
) -> Result<(T, Product), ProductError> {
    let context = Context::load(app, tenant).await?;
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let (read, registered) = store::product_stock(app.table.as_ref(), tenant, id)
            .await?
            .ok_or_else(not_found)?;
        let before = &read.product;
        if if_match.is_some_and(|v| v != before.version) {
            return Err(ProductError::Stale);
        }
        let Applied {
            mut product,
            events,
            answer,
        } = apply(before, &context)?;
        if product == *before && events.is_empty() {
            return Ok((answer, read.product));
        }
        product.version = before.version + 1;
        product.updated_at = context.now.clone();
        // A product saved before variant lookups existed registers all its variants now.
        if !registered {
            register_new_variants(app, tenant, None, &product)
                .await
                .map_err(|e| match e {
                    SaveError::Refused(e) => e,
                    _ => ProductError::Busy,
                })?;
        }
        match save(
            app,
            tenant,
            &context,
            actor,
            Some(&read),
            &product,
            &events,
            extra,
        )
        .await
        {
            Ok(()) => return Ok((answer, product)),
            Err(SaveError::Raced) => continue,
            Err(SaveError::Stale) if if_match.is_none() => continue,
            Err(SaveError::Stale) => return Err(ProductError::Stale),
            Err(SaveError::Sku(sku, error)) => {
                if !clear_stale_sku(app, tenant, &sku).await? {
                    return Err(error);
                }
            }
            Err(SaveError::Refused(error)) => return Err(error),
        }
    }
    Err(ProductError::Busy)
}

/// What validation needs besides the product: the company's currency and taxonomy.
pub struct Context {
    pub currency: String,
    pub inventory: Inventory,
    /// The tax classes a variant may name.
    pub tax: crate::settings::groups::Tax,
    pub taxonomy: std::sync::Arc<Taxonomy>,
    pub now: String,
}

impl Context {
    pub async fn load(app: &App, tenant: &TenantId) -> Result<Self, ProductError> {
        let general: General = crate::settings::service::typed::<General>(app, tenant).await?;
        Ok(Context {
            currency: general.default_currency,
            inventory: crate::settings::service::typed::<Inventory>(app, tenant).await?,
            tax: crate::settings::service::typed::<crate::settings::groups::Tax>(app, tenant)
                .await?,
            taxonomy: taxonomy::read(app, tenant).await.map(std::sync::Arc::new)?,
            now: rfc3339(app.clock.now()),
        })
    }
}

mod products;
pub use products::*;
mod options;
pub use options::*;
mod variants;
pub use variants::*;
mod placements;
pub use placements::*;
