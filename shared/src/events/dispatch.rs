//! Routing events to queues, and the sandbox's dispatcher over the embedded change stream.

use super::DomainEvent;
use crate::queue::{names, Queue, QueueError};
use crate::store::embedded::EmbeddedDb;
use std::sync::Arc;
use std::time::Duration;

/// The queues of an outbox item written before items recorded their queues (each kind now
/// declares its queues, `events::kinds`): only email requests had a consumer then.
pub fn legacy_queues(kind: &str) -> &'static [&'static str] {
    match kind {
        super::email::EMAIL_REQUESTED => &[names::NOTIFICATIONS],
        _ => &[],
    }
}

/// Sends one event to every queue that consumes it (the queues its kind declares).
pub async fn send(queue: &dyn Queue, event: &DomainEvent) -> Result<(), QueueError> {
    if event.queues.is_empty() {
        return Ok(());
    }
    let body = serde_json::to_string(event).expect("events serialise");
    for target in &event.queues {
        queue.send(target, &body, Duration::ZERO).await?;
    }
    Ok(())
}

/// Dispatches what the change stream holds now; returns how many events were sent. A record is
/// acknowledged only after its event reached every queue, so a crash in between re-sends it
/// (consumers deduplicate on the event id).
pub async fn dispatch_pending(db: &EmbeddedDb, queue: &dyn Queue) -> Result<usize, QueueError> {
    let mut sent = 0;
    loop {
        let records = db
            .stream_read(100)
            .map_err(|e| QueueError::Unavailable(e.to_string()))?;
        if records.is_empty() {
            return Ok(sent);
        }
        for record in &records {
            if let Some(event) = super::from_item(&record.new_image) {
                send(queue, &event).await?;
                sent += 1;
            }
            db.stream_ack(record.seq)
                .map_err(|e| QueueError::Unavailable(e.to_string()))?;
        }
    }
}

/// The sandbox's dispatcher: polls the change stream until `shutdown` fires.
pub async fn run_embedded(
    db: Arc<EmbeddedDb>,
    queue: Arc<dyn Queue>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match dispatch_pending(&db, queue.as_ref()).await {
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "event dispatch failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
