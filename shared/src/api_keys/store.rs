//! Where API keys live.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | key | `T#<tenant>#APIKEYS` | `KEY#<key id>` |
//! | lookup (global) | `APIKEY#<sha256(key)>` | `APIKEY` |
//!
//! The lookup item is one of the few items outside a tenant's key space: it points a key hash to
//! its tenant and key id and carries the scopes, so that authenticating a key takes one read. It
//! exists only while the key is active; revoking or rotating deletes it in the same transaction
//! that changes the key.

use super::cache::Resolved;
use super::model::StoredApiKey;
use crate::auth::TenantId;
use crate::store::{self, Comparison, Condition, Index, Item, Key, Query, SortKey, Table};
use crate::store::{StoreError, TxOp, Update};
use serde_json::Value;

pub const ENTITY: &str = "api_key";
pub const LOOKUP_ENTITY: &str = "api_key_lookup";

fn partition(tenant: &TenantId) -> String {
    format!("T#{tenant}#APIKEYS")
}

/// Every company's key partition, as an IAM `dynamodb:LeadingKeys` pattern: read-only storefront
/// functions may update items there (a key's last use) and nowhere else.
pub const KEY_PARTITIONS: &str = "T#*#APIKEYS";

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(partition(tenant), format!("KEY#{id}"))
}

pub fn lookup_key(hash: &str) -> Key {
    Key::new(format!("APIKEY#{hash}"), "APIKEY")
}

fn lookup_item(tenant: &TenantId, stored: &StoredApiKey) -> Item {
    let key = lookup_key(&stored.hash);
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    item.insert("entity".into(), LOOKUP_ENTITY.into());
    item.insert("version".into(), 1.into());
    item.insert("tenant".into(), tenant.as_str().into());
    item.insert("key_id".into(), stored.key.id.clone().into());
    item.insert("scopes".into(), stored.key.scopes.clone().into());
    item
}

/// Writes the lookup item of an active key (a fresh hash: it must not exist).
pub fn lookup_put_op(tenant: &TenantId, stored: &StoredApiKey) -> TxOp {
    TxOp::Put {
        item: lookup_item(tenant, stored),
        condition: Some(Condition::NotExists),
    }
}

/// Replaces the lookup item of an active key (its scopes changed).
pub fn lookup_replace_op(tenant: &TenantId, stored: &StoredApiKey) -> TxOp {
    TxOp::Put {
        item: lookup_item(tenant, stored),
        condition: Some(Condition::Exists),
    }
}

pub fn lookup_delete_op(hash: &str) -> TxOp {
    TxOp::Delete {
        key: lookup_key(hash),
        condition: None,
    }
}

fn key_item(tenant: &TenantId, stored: &StoredApiKey) -> Item {
    store::to_item(&key(tenant, &stored.key.id), ENTITY, stored)
}

/// Creates a key with its lookup item (operation 0 is the key).
pub fn create_ops(tenant: &TenantId, stored: &StoredApiKey) -> Vec<TxOp> {
    vec![
        TxOp::Put {
            item: key_item(tenant, stored),
            condition: Some(Condition::NotExists),
        },
        lookup_put_op(tenant, stored),
    ]
}

/// Replaces a key, only from the version the caller read.
pub fn replace_op(tenant: &TenantId, stored: &StoredApiKey, expected: u64) -> TxOp {
    TxOp::Put {
        item: key_item(tenant, stored),
        condition: Some(Condition::VersionIs(expected)),
    }
}

pub async fn get(
    table: &dyn Table,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<StoredApiKey>, StoreError> {
    table
        .get(&key(tenant, id))
        .await?
        .map(store::from_item)
        .transpose()
}

/// One page of keys, oldest first, starting after `after`.
pub async fn page(
    table: &dyn Table,
    tenant: &TenantId,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<StoredApiKey>, Option<Item>), StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, partition(tenant))
                .sk(SortKey::BeginsWith("KEY#".into()))
                .limit(limit)
                .after(after),
        )
        .await?;
    let keys = page
        .items
        .into_iter()
        .map(store::from_item)
        .collect::<Result<_, _>>()?;
    Ok((keys, page.last_key))
}

/// What an active key's hash points to; `None` for an unknown, revoked or rotated key.
pub async fn resolve(table: &dyn Table, hash: &str) -> Result<Option<Resolved>, StoreError> {
    let Some(item) = table.get(&lookup_key(hash)).await? else {
        return Ok(None);
    };
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(tenant), Some(key_id)) = (text("tenant"), text("key_id")) else {
        return Err(StoreError::Unavailable(
            "corrupt API key lookup item".into(),
        ));
    };
    let scopes = item
        .get("scopes")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(Resolved {
        tenant,
        key_id,
        scopes,
    }))
}

/// Records a use of an active key unless one was recorded in the last `every_secs` (by any
/// container); `false` when nothing was written.
pub async fn record_use(
    table: &dyn Table,
    tenant: &TenantId,
    key_id: &str,
    now_epoch: i64,
    now_rfc3339: &str,
    every_secs: i64,
) -> Result<bool, StoreError> {
    let result = table
        .update(
            &key(tenant, key_id),
            Update::new()
                .set("last_used_epoch", now_epoch)
                .set("last_used_at", now_rfc3339),
            Some(Condition::All(vec![
                Condition::Equals {
                    attr: "status".into(),
                    value: "active".into(),
                },
                Condition::Number {
                    attr: "last_used_epoch".into(),
                    cmp: Comparison::Le,
                    value: now_epoch - every_secs,
                },
            ])),
        )
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
}
