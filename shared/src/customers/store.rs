//! Where customers live.
//!
//! | item | pk | sk | gsi1 (pk / sk) | gsi2 (pk / sk) |
//! |---|---|---|---|---|
//! | profile | `T#<t>#CUSTOMER#<id>` | `PROFILE` | `T#<t>#CUSTOMERS#EMAIL` / `<email>#<id>` | `T#<t>#CUSTOMERS#CREATED` / `<created_at>#<id>` |
//! | address | `T#<t>#CUSTOMER#<id>` | `ADDR#<address id>` | | |
//! | email guard | `T#<t>#CUSTOMER_EMAIL#<email>` | `EMAIL` | | |
//! | group | `T#<t>#CUSTOMER_GROUPS` | `GROUP#<group id>` | | |
//! | one-time token | `T#<t>#CUSTOMER_TOKEN#<purpose>#<sha256(secret)>` | `TOKEN` | | |
//!
//! An email change waiting for confirmation is kept on the profile (the new address and the
//! token's hash), not in a token item: only the signed-in customer confirms it, and erasing the
//! profile erases it.
//!
//! Sessions use the shared session items (`T#<t>#SESSIONS#<customer id>`). An erased profile
//! loses its index attributes, so it leaves every listing.

use super::model::{Address, CustomerGroup, StoredCustomer};
use crate::auth::TenantId;
use crate::store::{self, attr, Condition, Index, Item, Key, Query, SortKey, Table};
use crate::store::{StoreError, TxOp, Update};
use serde_json::Value;

pub const ENTITY: &str = "customer";
pub const ADDRESS_ENTITY: &str = "customer_address";
pub const GROUP_ENTITY: &str = "customer_group";

fn partition(tenant: &TenantId, id: &str) -> String {
    format!("T#{tenant}#CUSTOMER#{id}")
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(partition(tenant, id), "PROFILE")
}

pub fn address_key(tenant: &TenantId, customer_id: &str, id: &str) -> Key {
    Key::new(partition(tenant, customer_id), format!("ADDR#{id}"))
}

pub fn email_key(tenant: &TenantId, email: &str) -> Key {
    Key::new(format!("T#{tenant}#CUSTOMER_EMAIL#{email}"), "EMAIL")
}

pub fn email_index(tenant: &TenantId) -> String {
    format!("T#{tenant}#CUSTOMERS#EMAIL")
}

pub fn created_index(tenant: &TenantId) -> String {
    format!("T#{tenant}#CUSTOMERS#CREATED")
}

fn group_partition(tenant: &TenantId) -> String {
    format!("T#{tenant}#CUSTOMER_GROUPS")
}

pub fn group_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(group_partition(tenant), format!("GROUP#{id}"))
}

pub fn token_key(tenant: &TenantId, purpose: &str, secret_hash: &str) -> Key {
    Key::new(
        format!("T#{tenant}#CUSTOMER_TOKEN#{purpose}#{secret_hash}"),
        "TOKEN",
    )
}

fn profile_item(tenant: &TenantId, stored: &StoredCustomer) -> Item {
    let c = &stored.customer;
    let mut item = store::to_item(&key(tenant, &c.id), ENTITY, stored);
    if let Some(email) = &c.email {
        item.insert(attr::GSI1PK.into(), email_index(tenant).into());
        item.insert(attr::GSI1SK.into(), format!("{email}#{}", c.id).into());
        item.insert(attr::GSI2PK.into(), created_index(tenant).into());
        item.insert(
            attr::GSI2SK.into(),
            format!("{}#{}", c.created_at, c.id).into(),
        );
    }
    item
}

fn email_guard(tenant: &TenantId, email: &str, customer_id: &str) -> Item {
    let key = email_key(tenant, email);
    let mut item = Item::new();
    item.insert(attr::PK.into(), key.pk.into());
    item.insert(attr::SK.into(), key.sk.into());
    item.insert(attr::ENTITY.into(), "customer_email".into());
    item.insert(attr::VERSION.into(), 1.into());
    item.insert("customer_id".into(), customer_id.into());
    item
}

/// Index of the email guard in [`create_ops`]: its failure means the email is taken.
pub const EMAIL_OP: usize = 1;

pub fn create_ops(tenant: &TenantId, stored: &StoredCustomer) -> Vec<TxOp> {
    let email = stored.customer.email.as_deref().unwrap_or_default();
    vec![
        TxOp::Put {
            item: profile_item(tenant, stored),
            condition: Some(Condition::NotExists),
        },
        TxOp::Put {
            item: email_guard(tenant, email, &stored.customer.id),
            condition: Some(Condition::NotExists),
        },
    ]
}

/// Replaces a profile, only from the version the caller read.
pub fn replace_op(tenant: &TenantId, stored: &StoredCustomer, expected: u64) -> TxOp {
    TxOp::Put {
        item: profile_item(tenant, stored),
        condition: Some(Condition::VersionIs(expected)),
    }
}

/// Index of the new email guard in [`change_email_ops`]: its failure means the email is taken.
pub const NEW_EMAIL_OP: usize = 1;

/// Moves the email guard when a customer changes email.
pub fn change_email_ops(tenant: &TenantId, old: &str, new: &str, customer_id: &str) -> Vec<TxOp> {
    vec![
        TxOp::Delete {
            key: email_key(tenant, old),
            condition: None,
        },
        TxOp::Put {
            item: email_guard(tenant, new, customer_id),
            condition: Some(Condition::NotExists),
        },
    ]
}

pub fn delete_email_op(tenant: &TenantId, email: &str) -> TxOp {
    TxOp::Delete {
        key: email_key(tenant, email),
        condition: None,
    }
}

pub async fn get(
    table: &dyn Table,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<StoredCustomer>, StoreError> {
    if !crate::ids::is_id(id, "cus") {
        return Ok(None);
    }
    table
        .get(&key(tenant, id))
        .await?
        .map(store::from_item)
        .transpose()
}

/// A customer profile, when a batched read's item is one.
pub fn customer_in(item: &Item) -> Option<Result<StoredCustomer, StoreError>> {
    (item.get(attr::ENTITY).and_then(Value::as_str) == Some(ENTITY))
        .then(|| store::from_item(item.clone()))
}

/// A customer group, when a batched read's item is one.
pub fn group_in(item: &Item) -> Option<Result<CustomerGroup, StoreError>> {
    (item.get(attr::ENTITY).and_then(Value::as_str) == Some(GROUP_ENTITY))
        .then(|| store::from_item(item.clone()))
}

/// A customer id no customer has (the ULID of the epoch's first millisecond is never issued).
const NOBODY: &str = "cus_00000000000000000000000000";

/// The customer holding an email in two reads whether or not there is one: for the public
/// routes, where a missing second read would tell an unknown email from a known one.
pub async fn by_email_evenly(
    table: &dyn Table,
    tenant: &TenantId,
    email: &str,
) -> Result<Option<StoredCustomer>, StoreError> {
    let guard = table.get(&email_key(tenant, email)).await?;
    let id = guard
        .as_ref()
        .and_then(|g| g.get("customer_id").and_then(Value::as_str))
        .filter(|id| crate::ids::is_id(id, "cus"))
        .unwrap_or(NOBODY);
    get(table, tenant, id).await
}

/// A customer with every address, in one query of the customer's item collection.
pub async fn with_addresses(
    table: &dyn Table,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<(StoredCustomer, Vec<Address>)>, StoreError> {
    if !crate::ids::is_id(id, "cus") {
        return Ok(None);
    }
    // A profile and at most MAX_ADDRESSES addresses fit one page.
    let page = table
        .query(&Query::partition(Index::Table, partition(tenant, id)).limit(1000))
        .await?;
    let mut customer = None;
    let mut addresses = Vec::new();
    for item in page.items {
        match item.get(attr::ENTITY).and_then(Value::as_str) {
            Some(ENTITY) => customer = Some(store::from_item(item)?),
            Some(ADDRESS_ENTITY) => addresses.push(store::from_item(item)?),
            _ => {}
        }
    }
    Ok(customer.map(|c| (c, addresses)))
}

pub fn address_put_op(
    tenant: &TenantId,
    customer_id: &str,
    address: &Address,
    condition: Condition,
) -> TxOp {
    TxOp::Put {
        item: store::to_item(
            &address_key(tenant, customer_id, &address.id),
            ADDRESS_ENTITY,
            address,
        ),
        condition: Some(condition),
    }
}

pub fn address_delete_op(tenant: &TenantId, customer_id: &str, id: &str) -> TxOp {
    TxOp::Delete {
        key: address_key(tenant, customer_id, id),
        condition: Some(Condition::Exists),
    }
}

/// Which index a customer listing walks.
#[derive(Debug, Clone)]
pub enum Listing {
    /// Newest first, optionally within a creation range (RFC 3339 bounds).
    Created {
        after: Option<String>,
        before: Option<String>,
    },
    /// By email, those starting with the prefix.
    EmailPrefix(String),
}

/// One page of raw profile items from a listing index, starting after `after`.
pub async fn list_page(
    table: &dyn Table,
    tenant: &TenantId,
    listing: &Listing,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<Item>, Option<Item>, Index), StoreError> {
    let (index, query) = match listing {
        Listing::Created {
            after: lo,
            before: hi,
        } => {
            // Sort keys are `<created_at>#<id>`; `~` sorts after every id character, so
            // `<instant>~` is past every customer created at that instant.
            let hi = hi.as_ref().map(|h| format!("{h}~"));
            let sk = match (lo.clone(), hi) {
                (None, None) => SortKey::Any,
                (Some(lo), None) => SortKey::Ge(lo),
                (None, Some(hi)) => SortKey::Le(hi),
                (Some(lo), Some(hi)) => SortKey::Between(lo, hi),
            };
            (
                Index::Gsi2,
                Query::partition(Index::Gsi2, created_index(tenant))
                    .sk(sk)
                    .backward(),
            )
        }
        Listing::EmailPrefix(prefix) => (
            Index::Gsi1,
            Query::partition(Index::Gsi1, email_index(tenant))
                .sk(SortKey::BeginsWith(prefix.clone())),
        ),
    };
    let page = table.query(&query.limit(limit).after(after)).await?;
    Ok((page.items, page.last_key, index))
}

// Groups ---------------------------------------------------------------------------------------

pub fn group_create_op(tenant: &TenantId, group: &CustomerGroup) -> TxOp {
    TxOp::Put {
        item: store::to_item(&group_key(tenant, &group.id), GROUP_ENTITY, group),
        condition: Some(Condition::NotExists),
    }
}

/// Changes a group's name and description from the version read (the member count moves on
/// its own, so the item is updated, never replaced).
pub fn group_update_op(tenant: &TenantId, group: &CustomerGroup, expected: u64) -> TxOp {
    TxOp::Update {
        key: group_key(tenant, &group.id),
        update: Update::new()
            .set("name", group.name.clone())
            .set("description", group.description.clone())
            .set("tax_exempt", group.tax_exempt)
            .set("updated_at", group.updated_at.clone())
            .set(attr::VERSION, group.version),
        condition: Some(Condition::VersionIs(expected)),
    }
}

/// Deletes a group that has no members.
pub fn group_delete_op(tenant: &TenantId, id: &str, expected: u64) -> TxOp {
    TxOp::Delete {
        key: group_key(tenant, id),
        condition: Some(Condition::All(vec![
            Condition::VersionIs(expected),
            Condition::Number {
                attr: "member_count".into(),
                cmp: crate::store::Comparison::Eq,
                value: 0,
            },
        ])),
    }
}

/// Counts a customer into (`+1`) or out of (`-1`) a group that must exist.
pub fn group_count_op(tenant: &TenantId, id: &str, delta: i64) -> TxOp {
    TxOp::Update {
        key: group_key(tenant, id),
        update: Update::new().add("member_count", delta),
        condition: Some(Condition::Exists),
    }
}

pub async fn group_get(
    table: &dyn Table,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<CustomerGroup>, StoreError> {
    table
        .get(&group_key(tenant, id))
        .await?
        .map(store::from_item)
        .transpose()
}

pub async fn group_page(
    table: &dyn Table,
    tenant: &TenantId,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<CustomerGroup>, Option<Item>), StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, group_partition(tenant))
                .limit(limit)
                .after(after),
        )
        .await?;
    let groups = page
        .items
        .into_iter()
        .map(store::from_item)
        .collect::<Result<_, _>>()?;
    Ok((groups, page.last_key))
}

// One-time tokens (email verification, password reset) ---------------------------------------

/// Stores a token for `holder` (the customer's id and the stamp the token is bound to), or, with
/// `None`, a token naming nobody (written where a request found no account, so that it writes
/// alike either way).
pub fn token_put_op(
    tenant: &TenantId,
    purpose: &str,
    secret_hash: &str,
    holder: Option<(&str, &str)>,
    expires_epoch: i64,
) -> TxOp {
    let key = token_key(tenant, purpose, secret_hash);
    let mut item = Item::new();
    item.insert(attr::PK.into(), key.pk.into());
    item.insert(attr::SK.into(), key.sk.into());
    item.insert(
        attr::ENTITY.into(),
        format!("customer_{purpose}_token").into(),
    );
    item.insert(attr::VERSION.into(), 1.into());
    if let Some((customer_id, stamp)) = holder {
        item.insert("customer_id".into(), customer_id.into());
        item.insert("stamp".into(), stamp.into());
    }
    item.insert(attr::TTL.into(), expires_epoch.into());
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

/// Whom a live token was issued to.
pub struct TokenHolder {
    pub customer_id: String,
    /// What the token is bound to; absent on tokens issued before tokens were bound.
    pub stamp: Option<String>,
}

pub async fn token_holder(
    table: &dyn Table,
    tenant: &TenantId,
    purpose: &str,
    secret_hash: &str,
) -> Result<Option<TokenHolder>, StoreError> {
    let Some(item) = table.get(&token_key(tenant, purpose, secret_hash)).await? else {
        return Ok(None);
    };
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(text("customer_id").map(|customer_id| TokenHolder {
        customer_id,
        stamp: text("stamp"),
    }))
}

/// Uses up a token (fails when it was used meanwhile).
pub fn token_use_op(tenant: &TenantId, purpose: &str, secret_hash: &str) -> TxOp {
    TxOp::Delete {
        key: token_key(tenant, purpose, secret_hash),
        condition: Some(Condition::Exists),
    }
}
