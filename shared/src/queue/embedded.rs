//! The embedded queue adapter: messages in the sandbox's SQLite database, timed by the injected
//! clock, with SQS's visibility timeout and redrive (dead-letter) behaviour.

use super::{names, validate_send, Message, Queue, QueueError, Receive, MAX_RECEIVES};
use crate::store::embedded::EmbeddedDb;
use async_trait::async_trait;
use rusqlite::params;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub struct EmbeddedQueue {
    db: Arc<EmbeddedDb>,
    /// queue → (dead-letter queue, receives allowed before moving there)
    redrive: HashMap<String, (String, u32)>,
}

impl EmbeddedQueue {
    /// The platform's queues, each with its dead-letter queue after [`MAX_RECEIVES`] receives.
    pub fn platform(db: Arc<EmbeddedDb>) -> Self {
        let mut queue = EmbeddedQueue {
            db,
            redrive: HashMap::new(),
        };
        for name in names::ALL {
            queue = queue.with_redrive(name, &names::dead_letter(name), MAX_RECEIVES);
        }
        queue
    }

    pub fn new(db: Arc<EmbeddedDb>) -> Self {
        EmbeddedQueue {
            db,
            redrive: HashMap::new(),
        }
    }

    pub fn with_redrive(mut self, queue: &str, dead_letter: &str, max_receives: u32) -> Self {
        self.redrive.insert(
            queue.to_owned(),
            (dead_letter.to_owned(), max_receives.max(1)),
        );
        self
    }

    fn now_millis(&self) -> i64 {
        (self.db.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
    }
}

fn err(e: rusqlite::Error) -> QueueError {
    QueueError::Unavailable(e.to_string())
}

fn millis(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn send(&self, queue: &str, body: &str, delay: Duration) -> Result<String, QueueError> {
        validate_send(body, delay)?;
        let id = ulid::Ulid::new().to_string();
        let now = self.now_millis();
        self.db
            .lock()
            .prepare_cached(
                "INSERT INTO queue_messages (id, queue, body, visible_at, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(err)?
            .execute(params![id, queue, body, now + millis(delay), now])
            .map_err(err)?;
        Ok(id)
    }

    async fn receive(&self, queue: &str, options: Receive) -> Result<Vec<Message>, QueueError> {
        let max = options.max_messages.clamp(1, 10);
        let now = self.now_millis();
        let mut conn = self.db.lock();
        let tx = conn.transaction().map_err(err)?;
        let ready: Vec<(String, String, u32)> = {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, body, receive_count FROM queue_messages
                     WHERE queue = ?1 AND visible_at <= ?2
                     ORDER BY visible_at, sent_at LIMIT ?3",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map(params![queue, now, max], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)?
        };
        let mut out = Vec::with_capacity(ready.len());
        for (id, body, count) in ready {
            if let Some((dead_letter, max_receives)) = self.redrive.get(queue) {
                if count >= *max_receives {
                    tx.execute(
                        "UPDATE queue_messages SET queue = ?1, receive_count = 0, receipt = NULL,
                         visible_at = ?2 WHERE id = ?3",
                        params![dead_letter, now, id],
                    )
                    .map_err(err)?;
                    continue;
                }
            }
            let receipt = format!("{id}.{}", ulid::Ulid::new());
            tx.execute(
                "UPDATE queue_messages SET receive_count = receive_count + 1, receipt = ?1,
                 visible_at = ?2 WHERE id = ?3",
                params![receipt, now + millis(options.visibility), id],
            )
            .map_err(err)?;
            out.push(Message {
                id,
                receipt,
                body,
                receive_count: count + 1,
            });
        }
        tx.commit().map_err(err)?;
        Ok(out)
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), QueueError> {
        self.db
            .lock()
            .prepare_cached("DELETE FROM queue_messages WHERE queue = ?1 AND receipt = ?2")
            .map_err(err)?
            .execute(params![queue, receipt])
            .map_err(err)?;
        Ok(())
    }
}
