//! The queue port: at-least-once message queues (SQS in AWS, SQLite in the sandbox).
//!
//! Queues are named by what they carry (see [`names`]); each adapter maps a name to its own
//! backend queue. A message received and not deleted within its visibility timeout is delivered
//! again; a message received more than its queue's allowed number of times moves to the queue's
//! dead-letter queue.

pub mod absent;
pub mod embedded;
pub mod sqs;

use async_trait::async_trait;
use std::time::Duration;

/// The queues of the platform. Each has a dead-letter queue named `<name>-dlq`.
pub mod names {
    /// Domain events for internal consumers (collections, analytics, search).
    pub const EVENTS: &str = "events";
    /// Domain events to fan out to the tenants' webhook endpoints.
    pub const WEBHOOKS: &str = "webhooks";
    /// Transactional email and SMS to send.
    pub const NOTIFICATIONS: &str = "notifications";
    /// Delayed checks that release expired carts' reservations.
    pub const CART_EXPIRY: &str = "cart-expiry";

    pub const ALL: [&str; 4] = [EVENTS, WEBHOOKS, NOTIFICATIONS, CART_EXPIRY];

    pub fn dead_letter(queue: &str) -> String {
        format!("{queue}-dlq")
    }
}

/// How many receives a message gets before it is dead-lettered (the infra's maxReceiveCount).
pub const MAX_RECEIVES: u32 = 5;
/// The longest delay SQS accepts on a message.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// Identifies this delivery; deleting needs it.
    pub receipt: String,
    pub body: String,
    /// How many times the message has been received, this delivery included.
    pub receive_count: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct Receive {
    pub max_messages: u32,
    /// How long a received message stays hidden from other receivers.
    pub visibility: Duration,
    /// How long to wait for a message when none is ready (long polling).
    pub wait: Duration,
}

impl Default for Receive {
    fn default() -> Self {
        Receive {
            max_messages: 10,
            visibility: Duration::from_secs(30),
            wait: Duration::ZERO,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("unknown queue `{0}`")]
    UnknownQueue(String),
    #[error("invalid queue request: {0}")]
    Invalid(String),
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Sends a message, hidden for `delay` (at most [`MAX_DELAY`]); returns its id.
    async fn send(&self, queue: &str, body: &str, delay: Duration) -> Result<String, QueueError>;
    /// Receives up to `max_messages` (at most 10) ready messages.
    async fn receive(&self, queue: &str, options: Receive) -> Result<Vec<Message>, QueueError>;
    /// Deletes a received message so it is not delivered again.
    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), QueueError>;
}

pub(crate) fn validate_send(body: &str, delay: Duration) -> Result<(), QueueError> {
    if delay > MAX_DELAY {
        return Err(QueueError::Invalid(format!(
            "delay {}s is over the 900s maximum",
            delay.as_secs()
        )));
    }
    if body.len() > 256 * 1024 {
        return Err(QueueError::Invalid("a message is at most 256 KiB".into()));
    }
    Ok(())
}
