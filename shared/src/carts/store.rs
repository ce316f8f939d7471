//! Where carts live.
//!
//! | item | pk | sk | gsi1 (pk / sk) | gsi2 (pk / sk) |
//! |---|---|---|---|---|
//! | cart (header and lines) | `T#<t>#CART#<cart id>` | `CART` | `T#<t>#CARTS` / `<updated at>#<cart id>` | a customer's: `T#<t>#CUSTOMER_CARTS#<customer id>` / `<status>#<updated at>#<cart id>` |
//!
//! A cart's lines live in its one item (at most 100 small lines), so reading a cart is one
//! `GetItem` and every change is one `Put` conditioned on the version read. Its stock is
//! reserved by inventory under the cart's id as holder, in the same transaction.

use super::model::StoredCart;
use crate::catalog::model::Product;
use crate::customers::model::{CustomerGroup, StoredCustomer};
use crate::identity::TenantId;
use crate::ids::{CartId, CustomerId, LocationId, ProductId, VariantId};
use crate::inventory::model::StoredLevel;
use crate::store::{self, attr, Condition, Key, StoreError, Table, TxOp};
use serde_json::Value;

pub const CART: &str = "cart";

fn cart_key(tenant: &TenantId, id: &CartId) -> Key {
    Key::new(format!("T#{tenant}#CART#{id}"), "CART")
}

pub async fn cart(
    table: &dyn Table,
    tenant: &TenantId,
    id: &CartId,
) -> Result<Option<StoredCart>, StoreError> {
    table
        .get(&cart_key(tenant, id))
        .await?
        .map(store::from_item)
        .transpose()
}

/// What a batched read for a cart found (absent items are left out; levels are their first
/// shards).
#[derive(Default)]
pub struct Found {
    pub cart: Option<StoredCart>,
    /// Variant → product, from the catalog's lookups.
    pub lookups: Vec<(String, ProductId)>,
    pub products: Vec<Product>,
    pub levels: Vec<StoredLevel>,
    pub customer: Option<StoredCustomer>,
    pub groups: Vec<CustomerGroup>,
    /// Product → its collections, for the products whose placements were asked for.
    pub collections: Vec<(ProductId, Vec<String>)>,
    /// The discount codes asked for that exist.
    pub codes: Vec<String>,
}

/// What a batched read for a cart asks for.
#[derive(Default)]
pub struct Wanted<'a> {
    pub cart: Option<&'a CartId>,
    pub lookups: &'a [VariantId],
    pub products: &'a [ProductId],
    pub levels: &'a [(LocationId, VariantId)],
    pub customer: Option<&'a CustomerId>,
    /// Customer groups (`cgrp_…`).
    pub groups: &'a [String],
    /// Products whose collections are wanted (for discounts that target collections).
    pub placements: &'a [ProductId],
    /// Discount codes (upper case) the cart holds, to see that they still exist.
    pub codes: &'a [String],
}

/// Reads a cart and the catalog, stock and customer items a change of it needs in one
/// `BatchGetItem` (more only past 100 keys).
pub async fn read(
    table: &dyn Table,
    tenant: &TenantId,
    wanted: Wanted<'_>,
) -> Result<Found, StoreError> {
    let mut keys: Vec<Key> = Vec::new();
    keys.extend(wanted.cart.map(|id| cart_key(tenant, id)));
    keys.extend(
        wanted
            .lookups
            .iter()
            .map(|v| crate::catalog::store::variant_key(tenant, v.as_str())),
    );
    keys.extend(
        wanted
            .products
            .iter()
            .map(|p| crate::catalog::store::product_key(tenant, p.as_str())),
    );
    keys.extend(crate::inventory::store::level_keys(tenant, wanted.levels));
    keys.extend(
        wanted
            .customer
            .map(|c| crate::customers::store::key(tenant, c.as_str())),
    );
    keys.extend(
        wanted
            .groups
            .iter()
            .map(|g| crate::customers::store::group_key(tenant, g)),
    );
    keys.extend(
        wanted
            .placements
            .iter()
            .map(|p| crate::catalog::store::placements_key(tenant, p)),
    );
    keys.extend(
        wanted
            .codes
            .iter()
            .map(|c| crate::discounts::store::code_key(tenant, c)),
    );
    keys.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
    keys.dedup_by(|a, b| a.pk == b.pk && a.sk == b.sk);
    let mut found = Found::default();
    for chunk in keys.chunks(store::MAX_BATCH_GET_KEYS) {
        for item in table.batch_get(chunk).await? {
            if item.get(attr::ENTITY).and_then(Value::as_str) == Some(CART) {
                found.cart = Some(store::from_item(item)?);
            } else if let Some(lookup) = crate::catalog::store::variant_lookup_in(&item) {
                found.lookups.push(lookup);
            } else if let Some(product) = crate::catalog::store::product_in(&item) {
                found.products.push(product?);
            } else if let Some(level) = crate::inventory::store::level_in(&item) {
                found.levels.push(level?);
            } else if let Some(customer) = crate::customers::store::customer_in(&item) {
                found.customer = Some(customer?);
            } else if let Some(group) = crate::customers::store::group_in(&item) {
                found.groups.push(group?);
            } else if let Some(collections) = crate::catalog::store::collections_in(&item) {
                found.collections.push(collections?);
            } else if item.get(attr::ENTITY).and_then(Value::as_str)
                == Some(crate::discounts::store::CODE)
            {
                if let Some(code) = item.get("code").and_then(Value::as_str) {
                    found.codes.push(code.to_owned());
                }
            }
        }
    }
    Ok(found)
}

/// Writes a cart (at its new version) over the version read, or as new (`expected`: `None`).
pub fn cart_put(tenant: &TenantId, cart: &StoredCart, expected: Option<u64>) -> TxOp {
    let mut item = store::to_item(&cart_key(tenant, &cart.id), CART, cart);
    item.insert(attr::GSI1PK.into(), format!("T#{tenant}#CARTS").into());
    item.insert(
        attr::GSI1SK.into(),
        format!("{}#{}", cart.updated_at, cart.id).into(),
    );
    if let Some(customer) = &cart.customer_id {
        item.insert(
            attr::GSI2PK.into(),
            format!("T#{tenant}#CUSTOMER_CARTS#{customer}").into(),
        );
        item.insert(
            attr::GSI2SK.into(),
            format!("{}#{}#{}", cart.status.as_str(), cart.updated_at, cart.id).into(),
        );
    }
    TxOp::Put {
        item,
        condition: Some(match expected {
            None => Condition::NotExists,
            Some(v) => Condition::VersionIs(v),
        }),
    }
}

/// Which carts a page lists.
pub enum CartsOf<'a> {
    /// Every cart of the company, most recently changed first, optionally changed within a range
    /// of `updated_at` (RFC 3339, inclusive).
    Company {
        from: Option<&'a str>,
        to: Option<&'a str>,
    },
    /// One customer's carts, optionally in one status, most recently changed first.
    Customer {
        customer: &'a crate::ids::CustomerId,
        status: Option<super::model::CartStatus>,
    },
}

pub async fn cart_page(
    table: &dyn Table,
    tenant: &TenantId,
    of: CartsOf<'_>,
    limit: u32,
    after: Option<store::Item>,
) -> Result<(Vec<StoredCart>, Option<store::Item>), StoreError> {
    use crate::store::{Index, Query, SortKey};
    let query = match of {
        CartsOf::Company { from, to } => {
            let sk = match (from, to) {
                (None, None) => SortKey::Any,
                // Sort keys are `<updated_at>#<id>`: `~` sorts after every id character.
                (Some(from), None) => SortKey::Ge(from.to_owned()),
                (None, Some(to)) => SortKey::Le(format!("{to}~")),
                (Some(from), Some(to)) => SortKey::Between(from.to_owned(), format!("{to}~")),
            };
            Query::partition(Index::Gsi1, format!("T#{tenant}#CARTS")).sk(sk)
        }
        CartsOf::Customer { customer, status } => {
            let query =
                Query::partition(Index::Gsi2, format!("T#{tenant}#CUSTOMER_CARTS#{customer}"));
            match status {
                Some(status) => query.sk(SortKey::BeginsWith(format!("{}#", status.as_str()))),
                None => query,
            }
        }
    };
    let page = table
        .query(&query.backward().limit(limit).after(after))
        .await?;
    let carts = page
        .items
        .into_iter()
        .map(store::from_item)
        .collect::<Result<_, _>>()?;
    Ok((carts, page.last_key))
}
