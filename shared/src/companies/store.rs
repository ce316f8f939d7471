//! Keys of the company module.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | company | `T#<tenant>#ORG` | `COMPANY` |
//! | handle guard (global lookup) | `HANDLE#<handle>` | `HANDLE` |

use super::model::Company;
use crate::auth::TenantId;
use crate::store::{self, attr, Condition, Item, Key, StoreError, Table, TxOp, Update};
use serde_json::Value;

pub const ENTITY: &str = "company";
const HANDLE_ENTITY: &str = "company_handle";

pub fn org_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#ORG")
}

pub fn key(tenant: &TenantId) -> Key {
    Key::new(org_pk(tenant), "COMPANY")
}

/// The one global lookup of this module: a handle names a tenant. It holds only the pointer.
fn handle_key(handle: &str) -> Key {
    Key::new(format!("HANDLE#{handle}"), "HANDLE")
}

fn handle_item(handle: &str, tenant: &TenantId) -> Item {
    let key = handle_key(handle);
    let mut item = Item::new();
    item.insert(attr::PK.into(), key.pk.into());
    item.insert(attr::SK.into(), key.sk.into());
    item.insert(attr::ENTITY.into(), HANDLE_ENTITY.into());
    item.insert(attr::VERSION.into(), 1.into());
    item.insert("tenant_id".into(), tenant.as_str().into());
    item
}

/// The operations that create a company and claim its handle; the handle guard is operation 1.
pub fn create_ops(company: &Company) -> Vec<TxOp> {
    let tenant = TenantId::trusted(company.id.clone());
    vec![
        TxOp::Put {
            item: store::to_item(&key(&tenant), ENTITY, company),
            condition: Some(Condition::NotExists),
        },
        TxOp::Put {
            item: handle_item(&company.handle, &tenant),
            condition: Some(Condition::NotExists),
        },
    ]
}

/// Index of the handle guard within [`create_ops`] (its failure means the handle is taken).
pub const HANDLE_OP: usize = 1;

pub async fn get(table: &dyn Table, tenant: &TenantId) -> Result<Option<Company>, StoreError> {
    table
        .get(&key(tenant))
        .await?
        .map(store::from_item)
        .transpose()
}

/// The tenant a handle names, if any.
pub async fn tenant_for_handle(
    table: &dyn Table,
    handle: &str,
) -> Result<Option<TenantId>, StoreError> {
    Ok(table.get(&handle_key(handle)).await?.and_then(|item| {
        item.get("tenant_id")
            .and_then(Value::as_str)
            .map(TenantId::trusted)
    }))
}

/// Saves a company at `expected` version (operation 0) with its event; a changed handle moves its
/// guard in the same transaction (operation 2 fails when the new handle is taken).
pub async fn update(
    table: &dyn Table,
    before: &Company,
    after: &Company,
    expected: u64,
    event: TxOp,
) -> Result<(), StoreError> {
    let tenant = TenantId::trusted(before.id.clone());
    let mut fields = Update::new();
    let new = store::to_item(&key(&tenant), ENTITY, after);
    for (name, value) in new {
        if name != attr::PK && name != attr::SK {
            fields = fields.set(name, value);
        }
    }
    let mut ops = vec![TxOp::Update {
        key: key(&tenant),
        update: fields,
        condition: Some(Condition::VersionIs(expected)),
    }];
    ops.push(event);
    if before.handle != after.handle {
        ops.push(TxOp::Put {
            item: handle_item(&after.handle, &tenant),
            condition: Some(Condition::NotExists),
        });
        ops.push(TxOp::Delete {
            key: handle_key(&before.handle),
            condition: None,
        });
    }
    table.transact(ops).await
}
