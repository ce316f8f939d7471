//! Keys of the IAM module: roles live in the company's organisation partition.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | role | `T#<tenant>#ORG` | `ROLE#<role id>` |

use super::model::Role;
use crate::auth::TenantId;
use crate::companies::store::org_pk;
use crate::store::{
    self, Comparison, Condition, Index, Key, Query, SortKey, StoreError, Table, TxOp, Update,
};

pub const ENTITY: &str = "role";

pub fn key(tenant: &TenantId, role_id: &str) -> Key {
    Key::new(org_pk(tenant), format!("ROLE#{role_id}"))
}

pub fn put_op(tenant: &TenantId, role: &Role, condition: Condition) -> TxOp {
    TxOp::Put {
        item: store::to_item(&key(tenant, &role.id), ENTITY, role),
        condition: Some(condition),
    }
}

/// A role as read: a system role grants what its definition grants today
/// ([`super::permissions::system_grants`]), not what it granted when the company was created, so
/// permissions added to the catalog reach existing companies' system roles (which nobody can
/// edit) without a migration.
pub fn role_of(item: store::Item) -> Result<Role, StoreError> {
    let mut role: Role = store::from_item(item)?;
    if role.system {
        if let Some(grants) = role
            .key
            .as_deref()
            .and_then(super::permissions::system_grants)
        {
            role.permissions = grants;
        }
    }
    Ok(role)
}

pub async fn get(
    table: &dyn Table,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<Role>, StoreError> {
    table.get(&key(tenant, id)).await?.map(role_of).transpose()
}

/// Every role of the company (companies hold tens of roles, so one page holds them all).
pub async fn list(table: &dyn Table, tenant: &TenantId) -> Result<Vec<Role>, StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, org_pk(tenant))
                .sk(SortKey::BeginsWith("ROLE#".into()))
                .limit(1000),
        )
        .await?;
    page.items.into_iter().map(role_of).collect()
}

/// The roles with these ids (unknown ids are left out).
pub async fn get_many(
    table: &dyn Table,
    tenant: &TenantId,
    ids: &[String],
) -> Result<Vec<Role>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut distinct: Vec<&String> = ids.iter().collect();
    distinct.sort();
    distinct.dedup();
    let keys: Vec<Key> = distinct.into_iter().map(|id| key(tenant, id)).collect();
    let mut roles = Vec::new();
    for chunk in keys.chunks(crate::store::MAX_BATCH_GET_KEYS) {
        for item in table.batch_get(chunk).await? {
            roles.push(role_of(item)?);
        }
    }
    Ok(roles)
}

/// Saves the editable fields of a role at `expected` version, leaving its holder counts (which
/// staff changes move concurrently) as they are.
pub fn update_op(tenant: &TenantId, role: &Role, expected: u64) -> TxOp {
    TxOp::Update {
        key: key(tenant, &role.id),
        update: Update::new()
            .set("name", role.name.clone())
            .set("description", role.description.clone())
            .set("permissions", role.permissions.clone())
            .set("updated_at", role.updated_at.clone())
            .set("version", role.version),
        condition: Some(Condition::VersionIs(expected)),
    }
}

/// Changes a role's holder counts, failing if the role is gone or (for the owner role) if it
/// would leave the company without an active owner.
pub fn count_op(tenant: &TenantId, role: &Role, assigned: i64, active: i64) -> TxOp {
    let mut conditions = vec![Condition::Exists];
    if role.key.as_deref() == Some("owner") && active < 0 {
        conditions.push(Condition::Number {
            attr: "active_users".into(),
            cmp: Comparison::Ge,
            value: 1 - active,
        });
    }
    TxOp::Update {
        key: key(tenant, &role.id),
        update: Update::new()
            .add("assigned_users", assigned)
            .add("active_users", active),
        condition: Some(Condition::All(conditions)),
    }
}

/// Deletes a custom role at `expected` version, only while nobody holds it.
pub fn delete_op(tenant: &TenantId, role_id: &str, expected: u64) -> TxOp {
    TxOp::Delete {
        key: key(tenant, role_id),
        condition: Some(Condition::All(vec![
            Condition::VersionIs(expected),
            Condition::Number {
                attr: "assigned_users".into(),
                cmp: Comparison::Le,
                value: 0,
            },
        ])),
    }
}
