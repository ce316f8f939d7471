//! Keys of the settings module.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | a group's values | `T#<tenant>#SETTINGS` | `GROUP#<group>` |
//! | a change of a group | `T#<tenant>#SETTINGS#<group>#HISTORY` | `<ULID>` |

use crate::auth::TenantId;
use crate::store::{self, Condition, Index, Item, Key, Query, StoreError, Table, TxOp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub const ENTITY: &str = "settings_group";
pub const HISTORY_ENTITY: &str = "settings_change";

/// A saved group: its values (secrets masked), the encrypted secrets, and who changed it last.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredGroup {
    pub group: String,
    pub values: Map<String, Value>,
    /// Dotted field path → encrypted value.
    #[serde(default)]
    pub secrets: Map<String, Value>,
    pub version: u64,
    pub updated_at: String,
    pub updated_by: String,
}

/// One field changed by one PATCH.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// One entry of a group's history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Change {
    pub id: String,
    pub group: String,
    pub version: u64,
    pub changed_at: String,
    pub changed_by: String,
    pub changes: Vec<FieldChange>,
}

fn pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#SETTINGS")
}

pub fn key(tenant: &TenantId, group: &str) -> Key {
    Key::new(pk(tenant), format!("GROUP#{group}"))
}

fn history_pk(tenant: &TenantId, group: &str) -> String {
    format!("T#{tenant}#SETTINGS#{group}#HISTORY")
}

/// Every saved group of the company, in one query.
pub async fn all(table: &dyn Table, tenant: &TenantId) -> Result<Vec<StoredGroup>, StoreError> {
    let page = table
        .query(&Query::partition(Index::Table, pk(tenant)).limit(100))
        .await?;
    page.items.into_iter().map(store::from_item).collect()
}

pub async fn get(
    table: &dyn Table,
    tenant: &TenantId,
    group: &str,
) -> Result<Option<StoredGroup>, StoreError> {
    table
        .get(&key(tenant, group))
        .await?
        .map(store::from_item)
        .transpose()
}

/// Saves a group, only over the version it was read at (0: never saved), with its history entry.
pub fn save_ops(
    tenant: &TenantId,
    saved: &StoredGroup,
    expected: u64,
    change: &Change,
) -> Vec<TxOp> {
    let condition = if expected == 0 {
        Condition::NotExists
    } else {
        Condition::VersionIs(expected)
    };
    vec![
        TxOp::Put {
            item: store::to_item(&key(tenant, &saved.group), ENTITY, saved),
            condition: Some(condition),
        },
        TxOp::Put {
            item: store::to_item(
                &Key::new(history_pk(tenant, &change.group), change.id.clone()),
                HISTORY_ENTITY,
                change,
            ),
            condition: Some(Condition::NotExists),
        },
    ]
}

/// A page of a group's history, newest first.
pub async fn history(
    table: &dyn Table,
    tenant: &TenantId,
    group: &str,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<Change>, Option<Item>), StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, history_pk(tenant, group))
                .backward()
                .limit(limit)
                .after(after),
        )
        .await?;
    let changes = page
        .items
        .into_iter()
        .map(store::from_item)
        .collect::<Result<_, _>>()?;
    Ok((changes, page.last_key))
}
