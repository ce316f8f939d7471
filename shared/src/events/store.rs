//! Outbox items: `pk = T#<tenant>#EVENT`, `sk = <event id>` (ULIDs sort by time), expiring by
//! TTL [`RETENTION_SECS`] after they are written. See docs/data-model.md.

use super::DomainEvent;
use crate::store::{attr, Item};

pub const ENTITY: &str = "event";
/// Outbox items outlive dispatch so that a late retry of the dispatcher still finds them.
pub const RETENTION_SECS: i64 = 7 * 24 * 3600;

/// The queues an outbox item goes to (absent: none).
pub const QUEUES: &str = "queues";

pub fn outbox_item(event: &DomainEvent, now_epoch: i64) -> Item {
    let mut item = Item::new();
    item.insert(
        attr::PK.into(),
        format!("T#{}#EVENT", event.tenant_id).into(),
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
