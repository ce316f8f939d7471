//! The `cart-expiry` queue's worker: it follows every cart until it expires, and every
//! reservation until it expires.
//!
//! Every cart change writes a `cart.updated` event (in the change's transaction) that the
//! dispatcher sends to this queue; every reservation writes `stock.reserved`, handled by
//! inventory's step (`inventory::expiry::expire`). For a cart, each delivery reads it:
//!
//! - gone, no longer open, or changed since the event (a newer change has its own message):
//!   done;
//! - due (unchanged for the checkout settings' `cart_lifetime_seconds`): in one transaction the
//!   cart becomes `expired`, its reservations are released, and `cart.expired` is written; a
//!   change racing with it either commits first (and the expiry finds a newer version) or finds
//!   the cart expired, never half of each;
//! - unchanged for an hour, with an email and items, and not yet reported: `cart.abandoned` is
//!   written, once, with a mark on the cart (its version does not move);
//! - otherwise the message goes back on the queue, delayed until the next of those moments (SQS
//!   delays at most 15 minutes, so a cart left for days comes back every 15 minutes: about 100
//!   messages a day per open cart, a few cents per thousand carts; a scheduled sweep of due carts
//!   would cost less for a shop with very many idle carts).
//!
//! A delivery that finds its work done (a second delivery of the same message) changes nothing.

use super::admin::ABANDONED_AFTER_SECONDS;
use super::events::CartEvent;
use super::model::{CartStatus, StoredCart};
use super::service::view;
use super::store;
use crate::app::App;
use crate::events::{event, DomainEvent};
use crate::ids::CartId;
use crate::inventory::events::InventoryEvent;
use crate::inventory::reservations;
use crate::queue::{names, MAX_DELAY};
use crate::store::{StoreError, TxOp};
use crate::workers::{Worker, WorkerError, WorkerFuture};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub static WORKER: Worker = Worker {
    name: "cart_expiry_worker",
    queue: names::CART_EXPIRY,
    timeout: Duration::from_secs(30),
    sends_mail: false,
    defers: true,
    secrets: &[],
    handle,
};

/// What the worker did with one cart message.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The cart changed, closed or went since the message: nothing to do.
    Superseded,
    /// Sent back, delayed this long (after reporting the cart abandoned, when it was time).
    Deferred(Duration),
    /// The cart expired now.
    Expired,
}

fn handle(app: Arc<App>, body: String) -> WorkerFuture {
    Box::pin(async move {
        let kind = serde_json::from_str::<DomainEvent>(&body)
            .map(|e| e.kind)
            .map_err(|e| WorkerError::Rejected(format!("not an event: {e}")))?;
        if kind == InventoryEvent::StockReserved.name() {
            crate::inventory::expiry::expire(&app, &body)
                .await
                .map(|_| ())
        } else {
            follow(&app, &body).await.map(|_| ())
        }
    })
}

fn retry(e: impl std::fmt::Display) -> WorkerError {
    WorkerError::Retry(e.to_string())
}

fn epoch_of(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map_or(0, |t| t.unix_timestamp())
}

/// Handles one `cart.updated` message (the worker's step, also driven by tests).
pub async fn follow(app: &App, body: &str) -> Result<Outcome, WorkerError> {
    let event: DomainEvent = serde_json::from_str(body)
        .map_err(|e| WorkerError::Rejected(format!("not an event: {e}")))?;
    if event.kind != CartEvent::CartUpdated.name() {
        return Err(WorkerError::Rejected(format!(
            "unexpected event type {}",
            event.kind
        )));
    }
    let id = event.data["cart_id"]
        .as_str()
        .and_then(CartId::parse)
        .ok_or_else(|| WorkerError::Rejected("no cart_id".into()))?;
    let version = event.data["version"]
        .as_u64()
        .ok_or_else(|| WorkerError::Rejected("no version".into()))?;
    let tenant = event.tenant();
    let Some(cart) = store::cart(app.table.as_ref(), &tenant, &id)
        .await
        .map_err(retry)?
    else {
        return Ok(Outcome::Superseded);
    };
    if cart.status != CartStatus::Open || cart.version != version {
        return Ok(Outcome::Superseded);
    }
    let now = app.clock.epoch_seconds();
    let reportable = cart.abandoned_at.is_none() && cart.email.is_some() && !cart.items.is_empty();
    let abandoned_at = epoch_of(&cart.updated_at) + ABANDONED_AFTER_SECONDS;
    if now >= cart.expires_epoch {
        return expire(app, &tenant, &cart, reportable).await;
    }
    if reportable && now >= abandoned_at {
        match report_abandoned(app, &tenant, &cart).await {
            Ok(()) => {}
            // Changed meanwhile: the change has its own message.
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::ConditionFailed) => {
                return Ok(Outcome::Superseded)
            }
            Err(e) => return Err(retry(e)),
        }
    }
    let next = if reportable && now < abandoned_at {
        abandoned_at.min(cart.expires_epoch)
    } else {
        cart.expires_epoch
    };
    let delay = Duration::from_secs((next - now).max(1) as u64).min(MAX_DELAY);
    app.queue
        .send(names::CART_EXPIRY, body, delay)
        .await
        .map_err(retry)?;
    Ok(Outcome::Deferred(delay))
}

/// The `cart.abandoned` event of a cart, as reminders will read it.
async fn abandoned_event(
    app: &App,
    tenant: &crate::identity::TenantId,
    cart: &StoredCart,
) -> Result<TxOp, WorkerError> {
    let priced = view(app, tenant, cart, &[]).await.map_err(retry)?;
    Ok(event(
        app,
        tenant,
        CartEvent::CartAbandoned,
        Some(cart.id.as_str()),
        json!({
            "cart_id": cart.id,
            "email": cart.email,
            "customer_id": cart.customer_id,
            "item_count": priced.item_count,
            "grand_total": priced.grand_total,
            "currency": cart.currency,
        }),
    ))
}

/// Marks the cart reported (at the same version, so its expiry message still follows it) and
/// writes `cart.abandoned`, in one transaction.
async fn report_abandoned(
    app: &App,
    tenant: &crate::identity::TenantId,
    cart: &StoredCart,
) -> Result<(), StoreError> {
    let mut marked = cart.clone();
    marked.abandoned_at = Some(crate::clock::rfc3339(app.clock.now()));
    let event = abandoned_event(app, tenant, cart)
        .await
        .map_err(|e| StoreError::Unavailable(format!("{e:?}")))?;
    app.table
        .transact(vec![
            store::cart_put(tenant, &marked, Some(cart.version)),
            event,
        ])
        .await
}

/// Expires the cart and releases its reservations in one transaction (reporting it abandoned
/// first when it never was).
async fn expire(
    app: &App,
    tenant: &crate::identity::TenantId,
    cart: &StoredCart,
    reportable: bool,
) -> Result<Outcome, WorkerError> {
    let mut expired = cart.clone();
    expired.status = CartStatus::Expired;
    expired.version = cart.version + 1;
    expired.updated_at = crate::clock::rfc3339(app.clock.now());
    expired.reservation = None;
    let mut ops = vec![
        store::cart_put(tenant, &expired, Some(cart.version)),
        event(
            app,
            tenant,
            CartEvent::CartExpired,
            Some(cart.id.as_str()),
            json!({"cart_id": cart.id}),
        ),
    ];
    if reportable {
        ops.push(abandoned_event(app, tenant, cart).await?);
    }
    // Holding no lines releases everything the cart holds, in the cart's transaction.
    let until = app.clock.epoch_seconds() + 60;
    let with = |_: &reservations::Holding| ops.clone();
    match reservations::reserve_with(app, tenant, cart.id.as_str(), &[], until, &with, None).await {
        Ok(_) => Ok(Outcome::Expired),
        Err(crate::inventory::errors::InventoryError::Stale) => Ok(Outcome::Superseded),
        Err(e) => Err(retry(e)),
    }
}
