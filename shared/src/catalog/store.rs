//! Where the catalog lives.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | product (options, variants, images inside) | `T#<t>#PRODUCT#<id>` | `PRODUCT` |
//! | stock summary of a variant (units not reserved, by location) | `T#<t>#PRODUCT#<id>` | `STOCK#<variant id>` (one per shard of a split level: `…#<k>`) |
//! | availability record (selling locations, what the listing shows) | `T#<t>#PRODUCT#<id>` | `AVAILABILITY` |
//! | product handle guard and lookup | `T#<t>#PRODUCT_HANDLE#<handle>` | `HANDLE` |
//! | SKU guard | `T#<t>#SKU#<SKU in upper case>` | `SKU` |
//! | listing entry, one per sort order | `T#<t>#PRODUCT_LIST` | `C#<created>#<id>`, `U#<updated>#<id>`, `T#<title key>#<id>`, `P#<lowest price, 19 digits>#<id>` |
//! | category | `T#<t>#TAXONOMY` | `CAT#<id>` |
//! | attribute definition | `T#<t>#TAXONOMY` | `ATTR#<id>` |
//! | taxonomy version (serialises tree changes) | `T#<t>#TAXONOMY` | `VERSION` |
//! | category handle guard | `T#<t>#CATEGORY_HANDLE#<handle>` | `HANDLE` |
//! | attribute key guard | `T#<t>#ATTRIBUTE_KEY#<key>` | `KEY` |
//! | pending image upload | `T#<t>#UPLOAD#<upload id>` | `UPLOAD` |
//! | variant lookup (the product holding a variant) | `T#<t>#VARIANT#<variant id>` | `VARIANT` |
//!
//! | object | key |
//! |---|---|
//! | image upload (presigned `PUT`, expires) | `uploads/t/<t>/products/<product id>/<upload id>` |
//! | product image (copied from its upload when attached) | `t/<t>/products/<product id>/<image id>` |

use super::availability::{AvailabilityRecord, UnitsByLocation};
use super::listing::Summary;
use super::model::{AttributeDefinition, Category, Product};
use super::placements::{Placed, Placements, Shelf};
use crate::auth::TenantId;
use crate::ids::{LocationId, ProductId, VariantId};
use crate::store::{self, attr, Condition, Index, Item, Key, Query, SortKey, StoreError, Table};
use crate::store::{TxOp, Update};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

pub const PRODUCT: &str = "product";
pub const ENTRY: &str = "product_list_entry";
/// A storefront listing entry: a rendered card (see `catalog::cards`).
pub const CARD_ENTRY: &str = "product_card_entry";
pub const CATEGORY: &str = "category";
pub const ATTRIBUTE: &str = "attribute_definition";
pub const STOCK_SUMMARY: &str = "stock_summary";
pub const AVAILABILITY: &str = "availability";

fn product_partition(tenant: &TenantId, id: &str) -> String {
    format!("T#{tenant}#PRODUCT#{id}")
}

pub fn product_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(product_partition(tenant, id), "PRODUCT")
}

fn stock_summary_key(
    tenant: &TenantId,
    product: &ProductId,
    variant: &VariantId,
    shard: u32,
) -> Key {
    let sk = match shard {
        0 => format!("STOCK#{variant}"),
        k => format!("STOCK#{variant}#{k}"),
    };
    Key::new(product_partition(tenant, product.as_str()), sk)
}

fn availability_key(tenant: &TenantId, product: &ProductId) -> Key {
    Key::new(product_partition(tenant, product.as_str()), "AVAILABILITY")
}

pub fn variant_key(tenant: &TenantId, variant_id: &str) -> Key {
    Key::new(format!("T#{tenant}#VARIANT#{variant_id}"), "VARIANT")
}

/// Records which product holds a new variant. Written before the product change that adds the
/// variant, outside its transaction (a product change may add 100 variants): a lookup left by a
/// change that then failed names a product without that variant, and readers check.
pub fn variant_lookup_put(tenant: &TenantId, variant_id: &str, product_id: &ProductId) -> TxOp {
    let key = variant_key(tenant, variant_id);
    let mut item = Item::new();
    item.insert(attr::PK.into(), key.pk.into());
    item.insert(attr::SK.into(), key.sk.into());
    item.insert(attr::ENTITY.into(), "variant_lookup".into());
    item.insert(attr::VERSION.into(), 1.into());
    item.insert("product_id".into(), product_id.as_str().into());
    TxOp::Put {
        item,
        condition: None,
    }
}

/// The products that the lookups of these variants name (absent lookups are left out).
pub async fn variant_products(
    table: &dyn Table,
    tenant: &TenantId,
    variant_ids: &[&str],
) -> Result<Vec<(String, ProductId)>, StoreError> {
    let keys: Vec<Key> = variant_ids.iter().map(|v| variant_key(tenant, v)).collect();
    Ok(table
        .batch_get(&keys)
        .await?
        .iter()
        .filter_map(variant_lookup_in)
        .collect())
}

/// A variant's lookup, when a batched read's item is one: the variant and its product.
pub fn variant_lookup_in(item: &Item) -> Option<(String, ProductId)> {
    if item.get(attr::ENTITY).and_then(Value::as_str) != Some("variant_lookup") {
        return None;
    }
    let variant = item
        .get(attr::PK)
        .and_then(Value::as_str)
        .and_then(|pk| pk.rsplit_once("#VARIANT#"))
        .map(|(_, id)| id.to_owned());
    let product = item
        .get("product_id")
        .and_then(Value::as_str)
        .and_then(ProductId::parse);
    variant.zip(product)
}

/// A product, when a batched read's item is one.
pub fn product_in(item: &Item) -> Option<Result<Product, StoreError>> {
    (item.get(attr::ENTITY).and_then(Value::as_str) == Some(PRODUCT))
        .then(|| store::from_item(item.clone()))
}

pub fn handle_key(tenant: &TenantId, handle: &str) -> Key {
    Key::new(format!("T#{tenant}#PRODUCT_HANDLE#{handle}"), "HANDLE")
}

pub fn sku_key(tenant: &TenantId, sku: &str) -> Key {
    Key::new(format!("T#{tenant}#SKU#{}", sku.to_uppercase()), "SKU")
}

pub fn list_partition(tenant: &TenantId) -> String {
    format!("T#{tenant}#PRODUCT_LIST")
}

fn taxonomy_partition(tenant: &TenantId) -> String {
    format!("T#{tenant}#TAXONOMY")
}

pub fn category_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(taxonomy_partition(tenant), format!("CAT#{id}"))
}

pub fn attribute_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(taxonomy_partition(tenant), format!("ATTR#{id}"))
}

fn taxonomy_version_key(tenant: &TenantId) -> Key {
    Key::new(taxonomy_partition(tenant), "VERSION")
}

pub fn category_handle_key(tenant: &TenantId, handle: &str) -> Key {
    Key::new(format!("T#{tenant}#CATEGORY_HANDLE#{handle}"), "HANDLE")
}

pub fn attribute_key_guard(tenant: &TenantId, key: &str) -> Key {
    Key::new(format!("T#{tenant}#ATTRIBUTE_KEY#{key}"), "KEY")
}

pub fn upload_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(format!("T#{tenant}#UPLOAD#{id}"), "UPLOAD")
}

/// Where a presigned upload puts an image's bytes: under the bucket's uploads prefix, whose
/// objects expire, and which no live image is ever under.
pub fn upload_object_key(tenant: &TenantId, product_id: &str, upload_id: &str) -> String {
    format!(
        "{}{}{tenant}/products/{product_id}/{upload_id}",
        crate::blobs::UPLOADS_PREFIX,
        crate::blobs::COMPANY_OBJECTS_PREFIX
    )
}

/// Where an attached image lives: a key no presigned URL names.
pub fn image_object_key(tenant: &TenantId, product_id: &str, image_id: &str) -> String {
    format!(
        "{}{tenant}/products/{product_id}/{image_id}",
        crate::blobs::COMPANY_OBJECTS_PREFIX
    )
}

/// A small item that only claims a key (a handle, a SKU), pointing at its owner.
pub fn guard_put(key: Key, entity: &str, fields: &[(&str, &str)]) -> TxOp {
    let mut item = Item::new();
    item.insert(attr::PK.into(), key.pk.into());
    item.insert(attr::SK.into(), key.sk.into());
    item.insert(attr::ENTITY.into(), entity.into());
    item.insert(attr::VERSION.into(), 1.into());
    for (name, value) in fields {
        item.insert((*name).into(), (*value).into());
    }
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

pub fn delete(key: Key) -> TxOp {
    TxOp::Delete {
        key,
        condition: None,
    }
}

// Products -----------------------------------------------------------------------------------------

/// Writes a product; `expected` is the version read (0 for a new product).
pub fn product_put(tenant: &TenantId, product: &Product, expected: u64) -> TxOp {
    let mut stored = product.clone();
    for image in &mut stored.images {
        image.url.clear();
    }
    let mut item = store::to_item(&product_key(tenant, product.id.as_str()), PRODUCT, &stored);
    item.insert(VARIANT_LOOKUPS.into(), true.into());
    TxOp::Put {
        item,
        condition: Some(if expected == 0 {
            Condition::NotExists
        } else {
            Condition::VersionIs(expected)
        }),
    }
}

pub fn product_delete(tenant: &TenantId, product: &Product) -> TxOp {
    TxOp::Delete {
        key: product_key(tenant, product.id.as_str()),
        condition: Some(Condition::VersionIs(product.version)),
    }
}

/// Marks a product item whose variants all have their lookups ([`variant_lookup_put`]):
/// products saved before lookups existed lack it, and their next change registers every variant.
const VARIANT_LOOKUPS: &str = "variant_lookups";

pub async fn product(
    table: &dyn Table,
    tenant: &TenantId,
    id: &ProductId,
) -> Result<Option<Product>, StoreError> {
    table
        .get(&product_key(tenant, id.as_str()))
        .await?
        .map(store::from_item)
        .transpose()
}

/// Several products by id, in one batched read (absent ones are left out).
pub async fn products(
    table: &dyn Table,
    tenant: &TenantId,
    ids: &[&ProductId],
) -> Result<Vec<Product>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<Key> = ids
        .iter()
        .map(|id| product_key(tenant, id.as_str()))
        .collect();
    table
        .batch_get(&keys)
        .await?
        .into_iter()
        .map(store::from_item)
        .collect()
}

/// The product a handle names, with its stock (the storefront's product page: two reads).
pub async fn product_by_handle(
    table: &dyn Table,
    tenant: &TenantId,
    handle: &str,
) -> Result<Option<ProductPartition>, StoreError> {
    if handle.is_empty() || handle.len() > 100 {
        return Ok(None);
    }
    let Some(guard) = table.get(&handle_key(tenant, handle)).await? else {
        return Ok(None);
    };
    match guard
        .get("product_id")
        .and_then(Value::as_str)
        .and_then(ProductId::parse)
    {
        Some(id) => Ok(product_stock(table, tenant, &id).await?.map(|(p, _)| p)),
        None => Ok(None),
    }
}

// Stock summaries and availability -------------------------------------------------------------

/// The attribute of a stock summary holding the units not reserved at a location.
const UNITS_PREFIX: &str = "u_";

/// Moves a variant's units not reserved at locations by the deltas given (in the stock levels'
/// transaction; creates the summary when absent). A level split into shards moves one summary
/// per shard, so that a flash sale's reservations do not all write one item.
pub fn stock_summary_add(
    tenant: &TenantId,
    product: &ProductId,
    variant: &VariantId,
    shard: u32,
    deltas: &BTreeMap<LocationId, i64>,
) -> TxOp {
    let mut update = Update::new()
        .set(attr::ENTITY, STOCK_SUMMARY)
        .set("variant_id", variant.as_str());
    for (location, delta) in deltas {
        update = update.add(format!("{UNITS_PREFIX}{location}"), *delta);
    }
    TxOp::Update {
        key: stock_summary_key(tenant, product, variant, shard),
        update,
        condition: None,
    }
}

/// Writes the availability record; its `version` is the one read (0: none was).
pub fn availability_put(
    tenant: &TenantId,
    product: &ProductId,
    record: &AvailabilityRecord,
) -> TxOp {
    let stored = AvailabilityRecord {
        version: record.version + 1,
        ..record.clone()
    };
    TxOp::Put {
        item: store::to_item(&availability_key(tenant, product), AVAILABILITY, &stored),
        condition: Some(unchanged_since(record.version)),
    }
}

/// Holds a change back if the availability record moved since it was read at `version`.
pub fn availability_check(tenant: &TenantId, product: &ProductId, version: u64) -> TxOp {
    TxOp::Check {
        key: availability_key(tenant, product),
        condition: unchanged_since(version),
    }
}

/// The item is as read at `version` (0: it was absent).
fn unchanged_since(version: u64) -> Condition {
    if version == 0 {
        Condition::NotExists
    } else {
        Condition::VersionIs(version)
    }
}

/// Sets the availability the listing entries of `summary`'s product show (in the main listing,
/// and its cards on the shelves `written`), provided the product is still at the summary's
/// version (a product change writes its entries itself). `summary` shows the new availability.
pub fn entry_stock_ops(
    tenant: &TenantId,
    summary: &Summary,
    written: &[(Shelf, Option<i64>)],
) -> Vec<TxOp> {
    let stock = serde_json::to_value(&summary.stock).unwrap_or_default();
    let unchanged = Some(Condition::VersionIs(summary.version));
    let mut ops: Vec<TxOp> = Order::ALL
        .iter()
        .map(|order| TxOp::Update {
            key: Key::new(list_partition(tenant), entry_sk(summary, *order)),
            update: Update::new().set("stock", stock.clone()),
            condition: unchanged.clone(),
        })
        .collect();
    let card = super::cards::entry_attributes(summary)
        .into_iter()
        .find(|(name, _)| *name == "card")
        .map(|(_, card)| card)
        .unwrap_or_default();
    for (shelf, position) in written {
        let partition = shelf_partition(tenant, shelf);
        let mut keys: Vec<Key> = Order::SHELF
            .iter()
            .map(|order| Key::new(partition.clone(), entry_sk(summary, *order)))
            .collect();
        if let Some(position) = position {
            keys.push(Key::new(
                partition.clone(),
                manual_sk(*position, &summary.id),
            ));
        }
        ops.extend(keys.into_iter().map(|key| TxOp::Update {
            key,
            update: Update::new().set("card", card.clone()),
            condition: unchanged.clone(),
        }));
    }
    ops
}

/// A product with everything its partition holds (one query).
#[derive(Debug, Clone)]
pub struct ProductPartition {
    pub product: Product,
    /// Stock summaries by variant id.
    pub units: HashMap<String, UnitsByLocation>,
    pub record: AvailabilityRecord,
    pub placements: Placements,
}

/// A product with its stock summaries, availability record and placements (one query of its
/// partition), and whether its variants' lookups are all written.
pub async fn product_stock(
    table: &dyn Table,
    tenant: &TenantId,
    id: &ProductId,
) -> Result<Option<(ProductPartition, bool)>, StoreError> {
    let mut query =
        Query::partition(Index::Table, product_partition(tenant, id.as_str())).limit(1000);
    let mut product = None;
    let mut registered = false;
    let mut units: HashMap<String, UnitsByLocation> = HashMap::new();
    let mut record = AvailabilityRecord::default();
    let mut placements = Placements::default();
    loop {
        let page = table.query(&query).await?;
        for item in page.items {
            let sk = item.get(attr::SK).and_then(Value::as_str).unwrap_or("");
            if sk == "PRODUCT" {
                registered = item.get(VARIANT_LOOKUPS) == Some(&Value::Bool(true));
                product = Some(store::from_item::<Product>(item)?);
            } else if let Some(summary) = sk.strip_prefix("STOCK#") {
                // `<variant>` or, for a shard, `<variant>#<k>`: the shards add up.
                let variant = summary.split('#').next().unwrap_or(summary);
                let by_location = units.entry(variant.to_owned()).or_default();
                for (name, value) in &item {
                    if let (Some(location), Some(n)) =
                        (name.strip_prefix(UNITS_PREFIX), value.as_i64())
                    {
                        *by_location.entry(location.to_owned()).or_insert(0) += n;
                    }
                }
            } else if sk == "AVAILABILITY" {
                record = store::from_item(item)?;
            } else if sk == "PLACEMENTS" {
                placements = store::from_item(item)?;
            }
        }
        match page.last_key {
            Some(last) => query = query.after(Some(last)),
            None => break,
        }
    }
    Ok(product.map(|product| {
        (
            ProductPartition {
                product,
                units,
                record,
                placements,
            },
            registered,
        )
    }))
}

// Placements ----------------------------------------------------------------------------------

pub const PLACEMENTS: &str = "placements";

pub fn placements_key(tenant: &TenantId, product: &ProductId) -> Key {
    Key::new(product_partition(tenant, product.as_str()), "PLACEMENTS")
}

/// A product's collections, if `item` is its placements item (the product named by its key).
pub fn collections_in(item: &Item) -> Option<Result<(ProductId, Vec<String>), StoreError>> {
    if item.get(attr::ENTITY).and_then(Value::as_str) != Some(PLACEMENTS) {
        return None;
    }
    let product = item
        .get(attr::PK)
        .and_then(Value::as_str)
        .and_then(|pk| pk.rsplit('#').next())
        .and_then(ProductId::parse)?;
    Some(
        store::from_item::<Placements>(item.clone())
            .map(|p| (product, p.collections.into_keys().collect())),
    )
}

/// Writes the placements item; its `version` is the one read (0: none was).
pub fn placements_put(tenant: &TenantId, product: &ProductId, placements: &Placements) -> TxOp {
    let stored = Placements {
        version: placements.version + 1,
        ..placements.clone()
    };
    TxOp::Put {
        item: store::to_item(&placements_key(tenant, product), PLACEMENTS, &stored),
        condition: Some(unchanged_since(placements.version)),
    }
}

/// Holds a change back if the placements moved since they were read at `version`.
pub fn placements_check(tenant: &TenantId, product: &ProductId, version: u64) -> TxOp {
    TxOp::Check {
        key: placements_key(tenant, product),
        condition: unchanged_since(version),
    }
}

/// Removes the placements item with its product, if they did not move since read at `version`.
pub fn placements_delete(tenant: &TenantId, product: &ProductId, version: u64) -> TxOp {
    TxOp::Delete {
        key: placements_key(tenant, product),
        condition: Some(unchanged_since(version)),
    }
}

/// The listing partition of a category or collection.
pub fn shelf_partition(tenant: &TenantId, shelf: &Shelf) -> String {
    format!("{}#{}", list_partition(tenant), shelf.suffix())
}

/// The sort key of a product's entry at a position of a manual collection.
fn manual_sk(position: i64, product: &str) -> String {
    format!(
        "{}{:010}#{product}",
        Order::Manual.prefix(),
        position.max(0)
    )
}

/// The operations that move a product's entries in a category's or collection's listing from
/// `before` to `after` (either absent: the product arrives or leaves).
pub fn shelf_entry_ops(
    tenant: &TenantId,
    shelf: &Shelf,
    before: Option<Placed>,
    after: Option<Placed>,
) -> Vec<TxOp> {
    let partition = shelf_partition(tenant, shelf);
    let sks = |placed: Option<Placed>| -> Vec<String> {
        let Some((summary, position)) = placed else {
            return Vec::new();
        };
        let mut sks: Vec<String> = Order::SHELF
            .iter()
            .map(|order| entry_sk(summary, *order))
            .collect();
        if let Some(position) = position {
            sks.push(manual_sk(position, &summary.id));
        }
        sks
    };
    let (old, new) = (sks(before), sks(after));
    let mut ops = Vec::new();
    if let Some((summary, _)) = after {
        let unchanged = before.is_some_and(|(b, _)| {
            super::cards::entry_attributes(b) == super::cards::entry_attributes(summary)
        });
        let attributes = super::cards::entry_attributes(summary);
        for sk in &new {
            if unchanged && old.contains(sk) {
                continue;
            }
            let key = Key::new(partition.clone(), sk.clone());
            let mut item = Item::new();
            item.insert(attr::PK.into(), key.pk.into());
            item.insert(attr::SK.into(), key.sk.into());
            item.insert(attr::ENTITY.into(), CARD_ENTRY.into());
            item.insert(attr::VERSION.into(), summary.version.into());
            for (name, value) in &attributes {
                item.insert((*name).into(), value.clone());
            }
            ops.push(TxOp::Put {
                item,
                condition: None,
            });
        }
    }
    for sk in old {
        if !new.contains(&sk) {
            ops.push(delete(Key::new(partition.clone(), sk)));
        }
    }
    ops
}

// Listing entries --------------------------------------------------------------------------------

/// The sort orders a listing entry exists for, with their sort-key prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Created,
    Updated,
    Title,
    Price,
    /// A manual collection's order (its listing only).
    Manual,
}

impl Order {
    /// The orders of the company's main listing.
    pub const ALL: [Order; 4] = [Order::Created, Order::Updated, Order::Title, Order::Price];
    /// The orders of a category's or collection's listing (besides a manual collection's own).
    pub const SHELF: [Order; 3] = [Order::Created, Order::Title, Order::Price];

    pub fn prefix(self) -> &'static str {
        match self {
            Order::Created => "C#",
            Order::Updated => "U#",
            Order::Title => "T#",
            Order::Price => "P#",
            Order::Manual => "M#",
        }
    }
}

/// An RFC 3339 UTC instant with nine fractional digits, so that instants sort as text (the
/// formatter drops trailing zeros, and `…05Z` would sort after `…05.1Z`).
pub fn sortable_instant(instant: &str) -> String {
    let Some(body) = instant.strip_suffix('Z') else {
        return instant.to_owned();
    };
    let (seconds, fraction) = body.split_once('.').unwrap_or((body, ""));
    format!("{seconds}.{fraction:0<9}Z")
}

/// The sort key of a summary's entry in one order.
pub fn entry_sk(summary: &Summary, order: Order) -> String {
    let value = match order {
        Order::Created => sortable_instant(&summary.created_at),
        Order::Updated => sortable_instant(&summary.updated_at),
        Order::Title => summary.title_key(),
        // Unpriced products sort last.
        Order::Price => format!(
            "{:019}",
            summary
                .price_min
                .as_ref()
                .map_or(i64::MAX, |m| m.amount.max(0))
        ),
        // Positions live with the collection's placements, not in the summary.
        Order::Manual => String::new(),
    };
    format!("{}{value}#{}", order.prefix(), summary.id)
}

/// The operations that move a product's listing entries from `before` to `after` (either may be
/// absent: a new or a deleted product).
pub fn entry_ops(
    tenant: &TenantId,
    before: Option<&Summary>,
    after: Option<&Summary>,
) -> Vec<TxOp> {
    let mut ops = Vec::new();
    for order in Order::ALL {
        let old = before.map(|s| entry_sk(s, order));
        let new = after.map(|s| entry_sk(s, order));
        if let (Some(summary), Some(sk)) = (after, &new) {
            let changed = before != Some(summary) || old.as_ref() != Some(sk);
            if changed {
                let mut item = store::to_item(
                    &Key::new(list_partition(tenant), sk.clone()),
                    ENTRY,
                    summary,
                );
                item.insert(attr::VERSION.into(), summary.version.into());
                ops.push(TxOp::Put {
                    item,
                    condition: None,
                });
            }
        }
        if let Some(old) = old {
            if new.as_ref() != Some(&old) {
                ops.push(delete(Key::new(list_partition(tenant), old)));
            }
        }
    }
    ops
}

/// One page of listing entries in an order, from where the previous page stopped: of the
/// company's main listing, or of a category's or collection's (`shelf`).
#[allow(clippy::too_many_arguments)]
pub async fn entries(
    table: &dyn Table,
    tenant: &TenantId,
    shelf: Option<&Shelf>,
    order: Order,
    range: SortKey,
    descending: bool,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<Item>, Option<Item>), StoreError> {
    let partition = match shelf {
        Some(shelf) => shelf_partition(tenant, shelf),
        None => list_partition(tenant),
    };
    let mut query = Query::partition(Index::Table, partition)
        .sk(match range {
            SortKey::Any => SortKey::BeginsWith(order.prefix().into()),
            other => other,
        })
        .limit(limit)
        .after(after);
    if descending {
        query = query.backward();
    }
    let page = table.query(&query).await?;
    Ok((page.items, page.last_key))
}

// Taxonomy ---------------------------------------------------------------------------------------

/// Every category and attribute definition of the company, in one query.
pub async fn taxonomy(
    table: &dyn Table,
    tenant: &TenantId,
) -> Result<(Vec<Category>, Vec<AttributeDefinition>, u64), StoreError> {
    let (mut categories, mut attributes, mut version) = (Vec::new(), Vec::new(), 0);
    let mut after = None;
    // Usually one page; long descriptions may spread the taxonomy over a few (1 MB each).
    loop {
        let page = table
            .query(
                &Query::partition(Index::Table, taxonomy_partition(tenant))
                    .limit(1000)
                    .after(after),
            )
            .await?;
        for item in page.items {
            match item.get(attr::ENTITY).and_then(Value::as_str) {
                Some(CATEGORY) => categories.push(store::from_item(item)?),
                Some(ATTRIBUTE) => attributes.push(store::from_item(item)?),
                _ => {
                    version = item.get("counter").and_then(Value::as_u64).unwrap_or(0);
                }
            }
        }
        match page.last_key {
            Some(last) => after = Some(last),
            None => return Ok((categories, attributes, version)),
        }
    }
}

/// Moves the taxonomy to its next version, from the one read: concurrent changes to the tree
/// (which could otherwise build a cycle between them) serialise on it.
pub fn taxonomy_bump(tenant: &TenantId, read: u64) -> TxOp {
    TxOp::Update {
        key: taxonomy_version_key(tenant),
        update: Update::new()
            .set("counter", read + 1)
            .set(attr::ENTITY, "taxonomy_version")
            .set(attr::VERSION, 1),
        condition: Some(if read == 0 {
            Condition::NotExists
        } else {
            Condition::Number {
                attr: "counter".into(),
                cmp: crate::store::Comparison::Eq,
                value: read as i64,
            }
        }),
    }
}

pub fn category_put(tenant: &TenantId, category: &Category, expected: u64) -> TxOp {
    TxOp::Put {
        item: store::to_item(&category_key(tenant, &category.id), CATEGORY, category),
        condition: Some(if expected == 0 {
            Condition::NotExists
        } else {
            Condition::VersionIs(expected)
        }),
    }
}

pub fn attribute_put(tenant: &TenantId, definition: &AttributeDefinition, expected: u64) -> TxOp {
    TxOp::Put {
        item: store::to_item(
            &attribute_key(tenant, &definition.id),
            ATTRIBUTE,
            definition,
        ),
        condition: Some(if expected == 0 {
            Condition::NotExists
        } else {
            Condition::VersionIs(expected)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::sortable_instant;

    #[test]
    fn instants_sort_as_text() {
        let whole = sortable_instant("2026-11-25T06:00:05Z");
        let tenth = sortable_instant("2026-11-25T06:00:05.1Z");
        let nanos = sortable_instant("2026-11-25T06:00:05.000000002Z");
        assert!(whole < nanos && nanos < tenth, "{whole} {nanos} {tenth}");
        assert_eq!(whole, "2026-11-25T06:00:05.000000000Z");
    }
}
