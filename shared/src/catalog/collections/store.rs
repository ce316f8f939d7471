//! Where collections live. Their products' entries and placements are the catalog's (see
//! `catalog::store` and `catalog::placements`).
//!
//! | item | pk | sk |
//! |---|---|---|
//! | collection | `T#<t>#COLLECTIONS` | `COL#<collection id>` |
//! | collection handle guard | `T#<t>#COLLECTION_HANDLE#<handle>` | `HANDLE` |

use super::model::{Collection, CollectionState};
use crate::auth::TenantId;
use crate::ids::CollectionId;
use crate::store::{self, Condition, Index, Key, Query, SortKey, StoreError, Table, TxOp, Update};

pub const COLLECTION: &str = "collection";

fn partition(tenant: &TenantId) -> String {
    format!("T#{tenant}#COLLECTIONS")
}

fn collection_key(tenant: &TenantId, id: &CollectionId) -> Key {
    Key::new(partition(tenant), format!("COL#{id}"))
}

pub fn handle_key(tenant: &TenantId, handle: &str) -> Key {
    Key::new(format!("T#{tenant}#COLLECTION_HANDLE#{handle}"), "HANDLE")
}

/// Every collection of the company (one query per 1 MB).
pub async fn all(table: &dyn Table, tenant: &TenantId) -> Result<Vec<Collection>, StoreError> {
    let mut query = Query::partition(Index::Table, partition(tenant))
        .sk(SortKey::BeginsWith("COL#".into()))
        .limit(1000);
    let mut found = Vec::new();
    loop {
        let page = table.query(&query).await?;
        for item in page.items {
            found.push(store::from_item(item)?);
        }
        match page.last_key {
            Some(last) => query = query.after(Some(last)),
            None => return Ok(found),
        }
    }
}

pub async fn get(
    table: &dyn Table,
    tenant: &TenantId,
    id: &CollectionId,
) -> Result<Option<Collection>, StoreError> {
    table
        .get(&collection_key(tenant, id))
        .await?
        .map(store::from_item)
        .transpose()
}

/// Writes a collection; `expected` is the version read (0 for a new one).
pub fn put(tenant: &TenantId, collection: &Collection, expected: u64) -> TxOp {
    TxOp::Put {
        item: store::to_item(
            &collection_key(tenant, &collection.id),
            COLLECTION,
            collection,
        ),
        condition: Some(if expected == 0 {
            Condition::NotExists
        } else {
            Condition::VersionIs(expected)
        }),
    }
}

pub fn delete(tenant: &TenantId, collection: &Collection) -> TxOp {
    TxOp::Delete {
        key: collection_key(tenant, &collection.id),
        condition: Some(Condition::VersionIs(collection.version)),
    }
}

pub fn handle_put(tenant: &TenantId, handle: &str, id: &CollectionId) -> TxOp {
    let key = handle_key(tenant, handle);
    let mut item = store::Item::new();
    item.insert(store::attr::PK.into(), key.pk.into());
    item.insert(store::attr::SK.into(), key.sk.into());
    item.insert(store::attr::ENTITY.into(), "collection_handle".into());
    item.insert(store::attr::VERSION.into(), 1.into());
    item.insert("collection_id".into(), id.as_str().into());
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

pub fn handle_delete(tenant: &TenantId, handle: &str) -> TxOp {
    TxOp::Delete {
        key: handle_key(tenant, handle),
        condition: None,
    }
}

/// Marks a rebuild of the rules at `rules_version` done (a later rule change keeps it
/// rebuilding). Answers whether it was still those rules.
pub async fn finish_rebuild(
    table: &dyn Table,
    tenant: &TenantId,
    id: &CollectionId,
    rules_version: u64,
) -> Result<bool, StoreError> {
    let state = serde_json::to_value(CollectionState::Ready).expect("a state serialises");
    match table
        .update(
            &collection_key(tenant, id),
            Update::new().set("state", state),
            Some(Condition::Number {
                attr: "rules_version".into(),
                cmp: store::Comparison::Eq,
                value: rules_version as i64,
            }),
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
}
