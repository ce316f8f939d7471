//! Keys of the staff module.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | staff user | `T#<tenant>#ORG` | `USER#<user id>` |
//! | email guard | `T#<tenant>#STAFFEMAIL#<email>` | `EMAIL` |

use super::model::StoredStaffUser;
use crate::auth::TenantId;
use crate::companies::store::org_pk;
use crate::store::{
    self, attr, Condition, Index, Item, Key, Query, SortKey, StoreError, Table, TxOp,
};
use serde_json::Value;

pub const ENTITY: &str = "staff_user";
const EMAIL_ENTITY: &str = "staff_email";

pub fn key(tenant: &TenantId, user_id: &str) -> Key {
    Key::new(org_pk(tenant), format!("USER#{user_id}"))
}

fn email_key(tenant: &TenantId, email: &str) -> Key {
    Key::new(format!("T#{tenant}#STAFFEMAIL#{email}"), "EMAIL")
}

/// The operations that create a user and claim its email (operation 1: taken email).
pub fn create_ops(tenant: &TenantId, user: &StoredStaffUser) -> Vec<TxOp> {
    let guard = email_key(tenant, &user.user.email);
    let mut item = Item::new();
    item.insert(attr::PK.into(), guard.pk.into());
    item.insert(attr::SK.into(), guard.sk.into());
    item.insert(attr::ENTITY.into(), EMAIL_ENTITY.into());
    item.insert(attr::VERSION.into(), 1.into());
    item.insert("user_id".into(), user.user.id.clone().into());
    vec![
        TxOp::Put {
            item: store::to_item(&key(tenant, &user.user.id), ENTITY, user),
            condition: Some(Condition::NotExists),
        },
        TxOp::Put {
            item,
            condition: Some(Condition::NotExists),
        },
    ]
}

pub const EMAIL_OP: usize = 1;

pub async fn get(
    table: &dyn Table,
    tenant: &TenantId,
    user_id: &str,
) -> Result<Option<StoredStaffUser>, StoreError> {
    table
        .get(&key(tenant, user_id))
        .await?
        .map(store::from_item)
        .transpose()
}

/// The user with this (normalised) email, through its guard.
pub async fn by_email(
    table: &dyn Table,
    tenant: &TenantId,
    email: &str,
) -> Result<Option<StoredStaffUser>, StoreError> {
    let Some(guard) = table.get(&email_key(tenant, email)).await? else {
        return Ok(None);
    };
    match guard.get("user_id").and_then(Value::as_str) {
        Some(id) => get(table, tenant, id).await,
        None => Ok(None),
    }
}

/// A user id no user has (the ULID of the epoch's first millisecond is never issued).
const NOBODY: &str = "usr_00000000000000000000000000";

/// The user with this email in two reads whether or not it exists: for the public routes, where
/// a missing second read would tell an unknown email from a known one.
pub async fn by_email_evenly(
    table: &dyn Table,
    tenant: &TenantId,
    email: &str,
) -> Result<Option<StoredStaffUser>, StoreError> {
    let guard = table.get(&email_key(tenant, email)).await?;
    let id = guard
        .as_ref()
        .and_then(|g| g.get("user_id").and_then(Value::as_str))
        .unwrap_or(NOBODY);
    get(table, tenant, id).await
}

/// Every staff user of the company, oldest first.
pub async fn list(
    table: &dyn Table,
    tenant: &TenantId,
) -> Result<Vec<StoredStaffUser>, StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, org_pk(tenant))
                .sk(SortKey::BeginsWith("USER#".into()))
                .limit(1000),
        )
        .await?;
    page.items.into_iter().map(store::from_item).collect()
}

/// Replaces a user at `expected` version.
pub fn replace_op(tenant: &TenantId, user: &StoredStaffUser, expected: u64) -> TxOp {
    TxOp::Put {
        item: store::to_item(&key(tenant, &user.user.id), ENTITY, user),
        condition: Some(Condition::VersionIs(expected)),
    }
}

/// The operations that remove a user and free its email (operation 0 checks the version).
pub fn delete_ops(tenant: &TenantId, user: &StoredStaffUser) -> Vec<TxOp> {
    vec![
        TxOp::Delete {
            key: key(tenant, &user.user.id),
            condition: Some(Condition::VersionIs(user.user.version)),
        },
        TxOp::Delete {
            key: email_key(tenant, &user.user.email),
            condition: None,
        },
    ]
}

/// One page of staff users, oldest first, starting after `after`.
pub async fn page(
    table: &dyn Table,
    tenant: &TenantId,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<StoredStaffUser>, Option<Item>), StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, org_pk(tenant))
                .sk(SortKey::BeginsWith("USER#".into()))
                .limit(limit)
                .after(after),
        )
        .await?;
    let users = page
        .items
        .into_iter()
        .map(store::from_item)
        .collect::<Result<_, _>>()?;
    Ok((users, page.last_key))
}
