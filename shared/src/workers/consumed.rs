//! Exactly-once effects over at-least-once delivery: a consumer claims an event id with a lease
//! before acting, and marks it done after. A duplicate delivery of a done event is skipped; one
//! that arrives while another delivery holds the lease is retried later; a lease whose holder
//! died expires and may be taken over.
//!
//! Keys: `pk = T#<tenant>#CONSUMED#<consumer>`, `sk = <event id>`.

use super::WorkerError;
use crate::app::App;
use crate::auth::TenantId;
use crate::store::{attr, Condition, Item, Key, StoreError, Update};
use serde_json::Value;
use std::future::Future;

/// How long a claim holds before another delivery may take over.
pub const LEASE_SECS: i64 = 300;
/// How long a done marker is kept: longer than any redelivery (SQS keeps messages 4 days).
pub const DONE_RETENTION_SECS: i64 = 14 * 24 * 3600;

fn key(tenant: &TenantId, consumer: &str, event_id: &str) -> Key {
    Key::new(format!("T#{tenant}#CONSUMED#{consumer}"), event_id)
}

/// Runs `effect` once per (consumer, event id), whatever the number of deliveries.
pub async fn once<F, Fut>(
    app: &App,
    tenant: &TenantId,
    consumer: &str,
    event_id: &str,
    effect: F,
) -> Result<(), WorkerError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    let key = key(tenant, consumer, event_id);
    let now = app.clock.epoch_seconds();
    let mut claim = Item::new();
    claim.insert(attr::PK.into(), key.pk.clone().into());
    claim.insert(attr::SK.into(), key.sk.clone().into());
    claim.insert(attr::ENTITY.into(), "consumed".into());
    claim.insert(attr::VERSION.into(), 1.into());
    claim.insert("state".into(), "claimed".into());
    claim.insert(attr::TTL.into(), (now + LEASE_SECS).into());
    match app
        .table
        .put(claim, Some(Condition::AbsentOrExpired { now }))
        .await
    {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => {
            let done = app
                .table
                .get(&key)
                .await
                .map_err(|e| WorkerError::Retry(e.to_string()))?
                .is_some_and(|item| item.get("state").and_then(Value::as_str) == Some("done"));
            return if done {
                Ok(())
            } else {
                Err(WorkerError::Retry(
                    "another delivery holds this event".into(),
                ))
            };
        }
        Err(e) => return Err(WorkerError::Retry(e.to_string())),
    }
    match effect().await {
        Ok(()) => {
            let marked = app
                .table
                .update(
                    &key,
                    Update::new()
                        .set("state", "done")
                        .set(attr::TTL, now + DONE_RETENTION_SECS),
                    None,
                )
                .await;
            if let Err(e) = marked {
                // The effect happened; a redelivery after the lease expires would repeat it.
                tracing::warn!(error = %e, consumer, event_id, "could not mark event done");
            }
            Ok(())
        }
        Err(e) => {
            let _ = app.table.delete(&key, None).await;
            Err(e)
        }
    }
}
