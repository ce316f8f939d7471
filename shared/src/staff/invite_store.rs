//! Keys and writes of invitations.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | invite | `T#<tenant>#ORG` | `INVITE#<invite id>` |
//! | pending count | `T#<tenant>#ORG` | `INVITES` |
//! | address guard | `T#<tenant>#INVITEEMAIL#<email>` | `INVITE` |
//!
//! An invite holds a slot from its creation until it is accepted, revoked, replaced by a new
//! invite to its address, or released after it expired: the slot is the company's pending count
//! (at most the cap) and its address's guard (one invite per address). Slots are taken and given
//! back in the same transaction as the invite itself, so the count is exact under concurrency.
//! Invites that hold a slot have no TTL: DynamoDB deleting one would leak its slot.

use super::invites::Invite;
use crate::auth::TenantId;
use crate::companies::store::org_pk;
use crate::store::{
    self, attr, Comparison, Condition, Index, Item, Key, Query, SortKey, StoreError, Table, TxOp,
    Update,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ENTITY: &str = "staff_invite";
const GUARD_ENTITY: &str = "staff_invite_email";
const COUNT_ENTITY: &str = "staff_invite_count";
const PENDING: &str = "pending";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredInvite {
    #[serde(flatten)]
    pub invite: Invite,
    pub token_hash: String,
    pub expires_epoch: i64,
    /// Whether the invite holds a slot. Invites written before slots existed do not: they
    /// expire through their TTL and give nothing back.
    #[serde(default)]
    pub holds_slot: bool,
}

/// The invite pending for an address, as its guard names it.
#[derive(Debug, Clone)]
pub struct Guard {
    pub invite_id: String,
    pub expires_epoch: i64,
}

fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(org_pk(tenant), format!("INVITE#{id}"))
}

fn count_key(tenant: &TenantId) -> Key {
    Key::new(org_pk(tenant), "INVITES")
}

fn guard_key(tenant: &TenantId, email: &str) -> Key {
    Key::new(format!("T#{tenant}#INVITEEMAIL#{email}"), "INVITE")
}

pub async fn get(
    table: &dyn Table,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<StoredInvite>, StoreError> {
    table
        .get(&key(tenant, id))
        .await?
        .map(store::from_item)
        .transpose()
}

/// Every invite of the company, expired ones included (at most the cap, plus any written before
/// slots existed).
pub async fn list(table: &dyn Table, tenant: &TenantId) -> Result<Vec<StoredInvite>, StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, org_pk(tenant))
                .sk(SortKey::BeginsWith("INVITE#".into()))
                .limit(1000),
        )
        .await?;
    page.items.into_iter().map(store::from_item).collect()
}

/// The invite holding the address's slot, expired or not.
pub async fn guard(
    table: &dyn Table,
    tenant: &TenantId,
    email: &str,
) -> Result<Option<Guard>, StoreError> {
    Ok(table
        .get(&guard_key(tenant, email))
        .await?
        .map(|item| Guard {
            invite_id: item
                .get("invite_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            expires_epoch: item
                .get("expires_epoch")
                .and_then(Value::as_i64)
                .unwrap_or(0),
        }))
}

/// Index in [`create_ops`] of the address guard: its failure means the address's slot changed
/// since it was read (taken by another invite, or released).
pub const GUARD_OP: usize = 1;
/// Index in [`create_ops`] of the pending count when no invite is replaced: its failure means
/// the company holds `cap` pending invites.
pub const COUNT_OP: usize = 2;

/// The operations that store a new invite with its slot. Replacing `expired` (the address's
/// guard as read) hands its slot to the new invite and deletes it, leaving the count as it is;
/// otherwise the count grows by one, unless it has reached `cap`.
pub fn create_ops(
    tenant: &TenantId,
    stored: &StoredInvite,
    expired: Option<&Guard>,
    cap: i64,
) -> Vec<TxOp> {
    let invite = &stored.invite;
    let guard = guard_key(tenant, &invite.email);
    let mut guard_item = Item::new();
    guard_item.insert(attr::PK.into(), guard.pk.into());
    guard_item.insert(attr::SK.into(), guard.sk.into());
    guard_item.insert(attr::ENTITY.into(), GUARD_ENTITY.into());
    guard_item.insert(attr::VERSION.into(), 1.into());
    guard_item.insert("invite_id".into(), invite.id.clone().into());
    guard_item.insert("expires_epoch".into(), stored.expires_epoch.into());
    let guard_condition = match expired {
        None => Condition::NotExists,
        Some(old) => names(&old.invite_id),
    };
    let slot = match expired {
        // The guard's condition proves the old invite held this slot; it may already be gone.
        Some(old) => TxOp::Delete {
            key: key(tenant, &old.invite_id),
            condition: None,
        },
        None => TxOp::Update {
            key: count_key(tenant),
            update: Update::new()
                .add(PENDING, 1)
                .set(attr::ENTITY, COUNT_ENTITY)
                .set(attr::VERSION, 1),
            condition: Some(Condition::Any(vec![
                Condition::NotExists,
                Condition::Number {
                    attr: PENDING.into(),
                    cmp: Comparison::Lt,
                    value: cap,
                },
            ])),
        },
    };
    vec![
        TxOp::Put {
            item: store::to_item(&key(tenant, &invite.id), ENTITY, stored),
            condition: Some(Condition::NotExists),
        },
        TxOp::Put {
            item: guard_item,
            condition: Some(guard_condition),
        },
        slot,
    ]
}

/// Deletes the invite as read (fails when it was accepted, revoked or replaced meanwhile).
pub fn delete_op(tenant: &TenantId, stored: &StoredInvite) -> TxOp {
    TxOp::Delete {
        key: key(tenant, &stored.invite.id),
        condition: Some(Condition::VersionIs(stored.invite.version)),
    }
}

/// Gives back the slot of an invite being deleted: its guard and one from the pending count.
pub fn release_ops(tenant: &TenantId, stored: &StoredInvite) -> Vec<TxOp> {
    if !stored.holds_slot {
        return Vec::new();
    }
    vec![
        TxOp::Delete {
            key: guard_key(tenant, &stored.invite.email),
            condition: Some(names(&stored.invite.id)),
        },
        TxOp::Update {
            key: count_key(tenant),
            update: Update::new().add(PENDING, -1),
            condition: Some(Condition::Exists),
        },
    ]
}

fn names(invite_id: &str) -> Condition {
    Condition::Equals {
        attr: "invite_id".into(),
        value: invite_id.into(),
    }
}
