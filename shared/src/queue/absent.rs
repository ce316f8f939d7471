//! The queue of a function that declares no queue access: every call fails plainly. (Tests catch
//! an undeclared use earlier, through `crate::access`.)

use super::{Message, Queue, QueueError, Receive};
use async_trait::async_trait;
use std::time::Duration;

pub struct AbsentQueue;

fn absent() -> QueueError {
    QueueError::Unavailable("this function declares no queue access".into())
}

#[async_trait]
impl Queue for AbsentQueue {
    async fn send(&self, _: &str, _: &str, _: Duration) -> Result<String, QueueError> {
        Err(absent())
    }
    async fn receive(&self, _: &str, _: Receive) -> Result<Vec<Message>, QueueError> {
        Err(absent())
    }
    async fn delete(&self, _: &str, _: &str) -> Result<(), QueueError> {
        Err(absent())
    }
}
