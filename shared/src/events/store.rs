//! Outbox items: `pk = T#<tenant>#EVENT#<shard>`, `sk = <event id>` (ULIDs sort by time),
//! expiring by TTL [`RETENTION_SECS`] after they are written. See docs/data-model.md.
//!
//! A tenant's events are spread over [`SHARDS`] partitions by their id: every change writes its
//! event, and one partition takes about 1,000 write units a second, which a busy shop (a flash
//! sale's reservations) would otherwise reach with its events alone.

use super::DomainEvent;
use crate::store::{attr, Item};

pub const ENTITY: &str = "event";
/// Outbox items outlive dispatch so that a late retry of the dispatcher still finds them.
pub const RETENTION_SECS: i64 = 7 * 24 * 3600;

/// The queues an outbox item goes to (absent: none).
pub const QUEUES: &str = "queues";

/// Partitions a tenant's outbox is spread over.
pub const SHARDS: u32 = 16;

/// The outbox partition of one shard of a tenant's events.
pub fn partition(tenant: &str, shard: u32) -> String {
    format!("T#{tenant}#EVENT#{shard:02}")
}

/// The shard an event goes to: its id's bytes (a ULID's last ten characters are random).
fn shard_of(event_id: &str) -> u32 {
    event_id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % SHARDS
}

pub fn outbox_item(event: &DomainEvent, now_epoch: i64) -> Item {
    let mut item = Item::new();
    item.insert(
        attr::PK.into(),
        partition(&event.tenant_id, shard_of(&event.id)).into(),
    );
    item.insert(attr::SK.into(), event.id.clone().into());
    item.insert(attr::ENTITY.into(), ENTITY.into());
    item.insert(attr::VERSION.into(), 1.into());
    item.insert(attr::TTL.into(), (now_epoch + RETENTION_SECS).into());
    item.insert(
        "event".into(),
        serde_json::to_value(event).expect("events serialise"),
    );
    if !event.queues.is_empty() {
        item.insert(QUEUES.into(), event.queues.clone().into());
    }
    item
}
