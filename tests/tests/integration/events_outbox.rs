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
        queues: vec![shared::queue::names::NOTIFICATIONS.into()],
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
    // The queues travel beside the event, not in it.
    assert!(delivered.queues.is_empty());
    assert_eq!(delivered, event);
}

#[tokio::test]
async fn events_go_to_the_queues_their_kind_declares_and_old_items_still_arrive() {
    let f = embedded_app();
    let now = f.clock.epoch_seconds();
    // An item written before events recorded their queues: an email request reached the
    // notifications queue then, and still does.
    let legacy = email_event("co_1", 4);
    let mut item = shared::events::store::outbox_item(&legacy, now);
    assert_eq!(item["queues"], json!(["notifications"]));
    item.remove("queues");
    // An event whose kind no worker consumes stays in the outbox.
    let unconsumed = DomainEvent {
        queues: Vec::new(),
        kind: "widget.created".into(),
        ..email_event("co_1", 5)
    };
    f.app
        .table
        .transact(vec![
            TxOp::Put {
                item,
                condition: Some(Condition::NotExists),
            },
            outbox_put(&unconsumed, now),
        ])
        .await
        .unwrap();
    assert_eq!(
        dispatch_pending(&f.db, f.app.queue.as_ref()).await.unwrap(),
        2
    );
    let queued = f
        .app
        .queue
        .receive(names::NOTIFICATIONS, Receive::default())
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let delivered: DomainEvent = serde_json::from_str(&queued[0].body).unwrap();
    assert_eq!(delivered.id, legacy.id);
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

/// The sandbox on AWS services (`--aws`) dispatches events too: its poller reads the table's
/// DynamoDB stream (DynamoDB Local here, on a table made as `--create-resources` makes it) and
/// sends each new outbox event, and only those, to its queues on SQS (moto).
#[tokio::test]
async fn the_aws_sandbox_dispatches_events_from_the_table_stream() {
    use shared::queue::Queue;
    let Some(dynamodb) = commerce_tests::emulator(commerce_tests::DYNAMODB_ENDPOINT) else {
        return;
    };
    let Some(moto) = commerce_tests::emulator(commerce_tests::MOTO_ENDPOINT) else {
        return;
    };
    let clock = commerce_tests::test_clock();
    let table_sdk = shared::aws::for_emulator(&dynamodb).await;
    let table_name = commerce_tests::unique_name("stream");
    let table = shared::store::dynamo::DynamoTable::new(
        shared::aws::dynamodb(&table_sdk),
        table_name.clone(),
        std::sync::Arc::new(clock.clone()),
    );
    table.ensure_table().await.unwrap();
    let queue_sdk = shared::aws::for_emulator(&moto).await;
    let queue = shared::queue::sqs::SqsQueue::new(
        shared::aws::sqs(&queue_sdk),
        commerce_tests::unique_name("sb") + "-",
    );
    queue.ensure_platform_queues().await.unwrap();
    let queue: std::sync::Arc<dyn Queue> = std::sync::Arc::new(queue);

    let now = clock.epoch_seconds();
    let email = email_event("co_1", 7);
    let mut other = email_event("co_1", 8);
    other.kind = "product.created".into();
    // No worker consumes product events yet.
    other.queues = Vec::new();
    use shared::store::Table;
    table
        .transact(vec![change("co_1", "a"), outbox_put(&email, now)])
        .await
        .unwrap();
    table
        .transact(vec![change("co_1", "b"), outbox_put(&other, now)])
        .await
        .unwrap();

    let (shutdown, watcher) = tokio::sync::watch::channel(false);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let runner = tokio::spawn(
        sandbox::stream_poller::StreamPoller::new(&table_sdk, &table_name, queue.clone())
            .await
            .unwrap()
            .unwrap()
            .run(watcher),
    );
    let mut bodies = Vec::new();
    while bodies.is_empty() && std::time::Instant::now() < deadline {
        let got = queue
            .receive(
                names::NOTIFICATIONS,
                Receive {
                    max_messages: 10,
                    visibility: Duration::from_secs(30),
                    wait: Duration::from_secs(1),
                },
            )
            .await
            .unwrap();
        bodies.extend(got.into_iter().map(|m| m.body));
    }
    // Nothing more comes: the event is sent once, the other kind and the plain items never.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = queue
        .receive(
            names::NOTIFICATIONS,
            Receive {
                max_messages: 10,
                visibility: Duration::from_secs(30),
                wait: Duration::from_secs(1),
            },
        )
        .await
        .unwrap();
    bodies.extend(again.into_iter().map(|m| m.body));
    shutdown.send(true).unwrap();
    runner.await.unwrap();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let delivered: DomainEvent = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(delivered, email);
}
