//! The reservation expiry step, run by the `cart-expiry` queue's worker (`carts::expiry`, which
//! also follows carts) for each `stock.reserved` message.
//!
//! Every reservation writes a `stock.reserved` event naming its holder and expiry; its kind sends
//! it to that queue. On each delivery the step reads the holder: nothing held, or a newer
//! reservation (another expiry): done, that one has its own message. Not yet expired: the
//! message goes back on the queue, delayed until the expiry (SQS delays at most 15 minutes, so
//! a long reservation comes back a few times). Expired: the holder is released, once: a second
//! delivery finds nothing held.

use super::events::InventoryEvent;
use super::reservations;
use crate::app::App;
use crate::events::DomainEvent;
use crate::queue::{names, MAX_DELAY};
use crate::workers::WorkerError;
use std::time::Duration;

/// What the worker does with one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The holder no longer holds this reservation (released, sold, or reserved again).
    Superseded,
    /// Not expired yet: sent back, delayed this long.
    Deferred(Duration),
    /// Expired and released now.
    Released,
}

/// Handles one message (the worker's step, also driven by tests).
pub async fn expire(app: &App, body: &str) -> Result<Outcome, WorkerError> {
    let event: DomainEvent = serde_json::from_str(body)
        .map_err(|e| WorkerError::Rejected(format!("not an event: {e}")))?;
    if event.kind != InventoryEvent::StockReserved.name() {
        return Err(WorkerError::Rejected(format!(
            "unexpected event type {}",
            event.kind
        )));
    }
    let holder = event.data["holder"].as_str().unwrap_or_default();
    let Some(expires_epoch) = event.data["expires_epoch"].as_i64() else {
        return Err(WorkerError::Rejected("no expires_epoch".into()));
    };
    if !reservations::valid_holder(holder) {
        return Err(WorkerError::Rejected("no valid holder".into()));
    }
    let tenant = event.tenant();
    let retry = |e: crate::store::StoreError| WorkerError::Retry(e.to_string());
    let holding = super::store::holding(app.table.as_ref(), &tenant, holder)
        .await
        .map_err(retry)?;
    if holding.version.is_none() || holding.expires_epoch != expires_epoch {
        return Ok(Outcome::Superseded);
    }
    let remaining = expires_epoch - app.clock.epoch_seconds();
    if remaining > 0 {
        let delay = Duration::from_secs(remaining as u64).min(MAX_DELAY);
        app.queue
            .send(names::CART_EXPIRY, body, delay)
            .await
            .map_err(|e| WorkerError::Retry(e.to_string()))?;
        return Ok(Outcome::Deferred(delay));
    }
    reservations::release_expired(app, &tenant, holder)
        .await
        .map_err(|e| WorkerError::Retry(e.to_string()))?;
    Ok(Outcome::Released)
}
