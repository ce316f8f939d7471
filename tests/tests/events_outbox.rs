//! Events without loss: an event committed with its change is delivered, also across a crash
//! before dispatch; a change that failed emits nothing; redeliveries have one effect.

use commerce_tests::{embedded_app, embedded_app_at};
use serde_json::json;
use shared::clock::Clock;
use shared::events::{dispatch::dispatch_pending, outbox_put, DomainEvent};
use shared::queue::{names, Receive};
use shared::store::{Condition, Item, StoreError, TxOp};
use shared::workers::{notifications, poll_once};
use std::time::Duration;

fn email_event(tenant: &str, n: u32) -> DomainEvent {
    DomainEvent {
        id: format!("evt_{}", ulid::Ulid::new()),
        kind: notifications::EMAIL_REQUESTED.into(),
        tenant_id: tenant.into(),
        occurred_at: "2026-11-25T09:00:00Z".into(),
        actor: None,
        data: json!({"to": ["a@example.com"], "subject": format!("Reset {n}"), "text": "Use the link."}),
    }
}

fn change(tenant: &str, sk: &str) -> TxOp {
    let mut item = Item::new();
    item.insert("pk".into(), format!("T#{tenant}#THING").into());
    item.insert("sk".into(), sk.into());
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

#[tokio::test]
async fn a_committed_event_reaches_its_queue_and_its_worker() {
    let f = embedded_app();
    let now = f.clock.epoch_seconds();
    let event = email_event("co_1", 1);
    f.app
        .table
        .transact(vec![change("co_1", "a"), outbox_put(&event, now)])
        .await
        .unwrap();
    assert_eq!(
        dispatch_pending(&f.db, f.app.queue.as_ref()).await.unwrap(),
        1
    );
    assert_eq!(
        dispatch_pending(&f.db, f.app.queue.as_ref()).await.unwrap(),
        0
    );
    assert_eq!(
        poll_once(&f.app, f.app.queue.as_ref(), &notifications::WORKER).await,
        1
    );
    let mails = f.outbox_messages();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Subject: Reset 1"));
    // Processed messages are deleted, not redelivered.
    f.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        poll_once(&f.app, f.app.queue.as_ref(), &notifications::WORKER).await,
        0
    );
}

#[tokio::test]
async fn a_failed_change_emits_nothing() {
    let f = embedded_app();
    let now = f.clock.epoch_seconds();
    f.app
        .table
        .transact(vec![change("co_1", "taken")])
        .await
        .unwrap();
    let event = email_event("co_1", 2);
    let err = f
        .app
        .table
        .transact(vec![change("co_1", "taken"), outbox_put(&event, now)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TransactionCancelled { .. }));
    assert_eq!(
        dispatch_pending(&f.db, f.app.queue.as_ref()).await.unwrap(),
        0
    );
    let queued = f
        .app
        .queue
        .receive(names::NOTIFICATIONS, Receive::default())
        .await
        .unwrap();
    assert!(queued.is_empty());
}

#[tokio::test]
async fn an_event_committed_before_a_crash_is_dispatched_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("commerce.db");
    let event = email_event("co_1", 3);
    {
        let before = embedded_app_at(Some(database.clone()));
        let now = before.clock.epoch_seconds();
        before
            .app
            .table
            .transact(vec![change("co_1", "b"), outbox_put(&event, now)])
            .await
            .unwrap();
        // The process dies here: no dispatcher ran.
    }
    let after = embedded_app_at(Some(database));
    assert_eq!(
        dispatch_pending(&after.db, after.app.queue.as_ref())
            .await
            .unwrap(),
        1
    );
    let queued = after
        .app
        .queue
        .receive(names::NOTIFICATIONS, Receive::default())
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let delivered: DomainEvent = serde_json::from_str(&queued[0].body).unwrap();
    assert_eq!(delivered, event);
}

#[tokio::test]
async fn a_duplicated_message_has_one_effect() {
    let f = embedded_app();
    let event = email_event("co_1", 4);
    let body = serde_json::to_string(&event).unwrap();
    for _ in 0..3 {
        f.app
            .queue
            .send(names::NOTIFICATIONS, &body, Duration::ZERO)
            .await
            .unwrap();
    }
    assert_eq!(
        poll_once(&f.app, f.app.queue.as_ref(), &notifications::WORKER).await,
        3
    );
    assert_eq!(f.outbox_messages().len(), 1);
}

#[tokio::test]
async fn malformed_messages_are_dropped_not_retried() {
    let f = embedded_app();
    f.app
        .queue
        .send(names::NOTIFICATIONS, "not json", Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        poll_once(&f.app, f.app.queue.as_ref(), &notifications::WORKER).await,
        1
    );
    f.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        poll_once(&f.app, f.app.queue.as_ref(), &notifications::WORKER).await,
        0
    );
    assert!(f.outbox_messages().is_empty());
}
