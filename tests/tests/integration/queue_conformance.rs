//! Every case runs on the embedded queue and on SQS (the moto server).

use commerce_tests::{queue_cases, QueueBackend};
use shared::queue::{QueueError, Receive};
use std::time::Duration;

fn receive(visibility_secs: u64) -> Receive {
    Receive {
        max_messages: 10,
        visibility: Duration::from_secs(visibility_secs),
        wait: Duration::ZERO,
    }
}

async fn send_receive_delete(b: QueueBackend) {
    let q = &b.queue_name;
    b.queue.send(q, r#"{"n":1}"#, Duration::ZERO).await.unwrap();
    b.queue.send(q, "two ✓", Duration::ZERO).await.unwrap();
    let mut got = b.queue.receive(q, receive(30)).await.unwrap();
    got.sort_by(|a, b| a.body.cmp(&b.body));
    let bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, vec!["two ✓", r#"{"n":1}"#]);
    assert!(got.iter().all(|m| m.receive_count == 1));
    for message in &got {
        b.queue.delete(q, &message.receipt).await.unwrap();
    }
    b.pass(Duration::from_millis(1100)).await;
    assert!(b.queue.receive(q, receive(1)).await.unwrap().is_empty());
}

async fn unacknowledged_messages_come_back(b: QueueBackend) {
    let q = &b.queue_name;
    b.queue.send(q, "again", Duration::ZERO).await.unwrap();
    let first = b.queue.receive(q, receive(1)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        b.queue.receive(q, receive(1)).await.unwrap().is_empty(),
        "hidden during its visibility timeout"
    );
    b.pass(Duration::from_millis(1500)).await;
    let second = b.queue.receive(q, receive(1)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, first[0].id);
    assert_eq!(second[0].receive_count, 2);
}

async fn delayed_messages_wait(b: QueueBackend) {
    let q = &b.queue_name;
    b.queue
        .send(q, "later", Duration::from_secs(1))
        .await
        .unwrap();
    assert!(b.queue.receive(q, receive(1)).await.unwrap().is_empty());
    b.pass(Duration::from_millis(1600)).await;
    let got = b.queue.receive(q, receive(1)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "later");
}

async fn poison_messages_are_dead_lettered(b: QueueBackend) {
    let q = &b.queue_name;
    b.queue.send(q, "poison", Duration::ZERO).await.unwrap();
    for attempt in 1..=QueueBackend::MAX_RECEIVES {
        let got = b.queue.receive(q, receive(1)).await.unwrap();
        assert_eq!(got.len(), 1, "attempt {attempt}");
        assert_eq!(got[0].receive_count, attempt);
        b.pass(Duration::from_millis(1500)).await;
    }
    assert!(
        b.queue.receive(q, receive(1)).await.unwrap().is_empty(),
        "moved after {} receives",
        QueueBackend::MAX_RECEIVES
    );
    let dead = b.queue.receive(&b.dead_letter, receive(30)).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
}

async fn oversized_and_overdelayed_messages_are_refused(b: QueueBackend) {
    let q = &b.queue_name;
    let big = "x".repeat(256 * 1024 + 1);
    assert!(matches!(
        b.queue.send(q, &big, Duration::ZERO).await,
        Err(QueueError::Invalid(_))
    ));
    assert!(matches!(
        b.queue.send(q, "late", Duration::from_secs(901)).await,
        Err(QueueError::Invalid(_))
    ));
    assert!(b.queue.receive(q, receive(1)).await.unwrap().is_empty());
}

queue_cases!(
    send_receive_delete,
    unacknowledged_messages_come_back,
    delayed_messages_wait,
    poison_messages_are_dead_lettered,
    oversized_and_overdelayed_messages_are_refused,
);
