//! The SQS queue adapter (aws-sdk-sqs). Queue names map to URLs from configuration, or are looked
//! up once with GetQueueUrl and cached for the life of the container.

use super::{names, validate_send, Message, Queue, QueueError, Receive, MAX_RECEIVES};
use crate::observe::record_queue_call;
use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use aws_sdk_sqs::Client;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

pub struct SqsQueue {
    client: Client,
    /// Prefix added to every queue name (one deployment's queues share it).
    prefix: String,
    urls: RwLock<HashMap<String, String>>,
}

fn sdk_err<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> QueueError {
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => QueueError::Unavailable(format!("{code}: {message}")),
        (Some(code), None) => QueueError::Unavailable(code.to_owned()),
        _ => QueueError::Unavailable(format!("{e:?}")),
    }
}

impl SqsQueue {
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        SqsQueue {
            client,
            prefix: prefix.into(),
            urls: RwLock::new(HashMap::new()),
        }
    }

    /// Uses a known URL for a queue name (from the function's environment) instead of a lookup.
    pub fn with_url(self, queue: &str, url: impl Into<String>) -> Self {
        self.urls
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(queue.to_owned(), url.into());
        self
    }

    async fn url(&self, queue: &str) -> Result<String, QueueError> {
        if let Some(url) = self
            .urls
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(queue)
        {
            return Ok(url.clone());
        }
        record_queue_call();
        let out = self
            .client
            .get_queue_url()
            .queue_name(format!("{}{queue}", self.prefix))
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("AWS.SimpleQueueService.NonExistentQueue") | Some("QueueDoesNotExist") => {
                    QueueError::UnknownQueue(queue.to_owned())
                }
                _ => sdk_err(e),
            })?;
        let url = out
            .queue_url
            .ok_or_else(|| QueueError::UnknownQueue(queue.to_owned()))?;
        self.urls
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(queue.to_owned(), url.clone());
        Ok(url)
    }

    /// Creates a queue (and its redrive to `dead_letter` after `max_receives`) unless it exists.
    /// Used against the emulator and by the sandbox; in AWS the infra template owns the queues.
    pub async fn ensure_queue(
        &self,
        queue: &str,
        redrive: Option<(&str, u32)>,
    ) -> Result<String, QueueError> {
        let mut request = self
            .client
            .create_queue()
            .queue_name(format!("{}{queue}", self.prefix));
        if let Some((dead_letter, max_receives)) = redrive {
            let dlq_url = Box::pin(self.ensure_queue(dead_letter, None)).await?;
            record_queue_call();
            let arn = self
                .client
                .get_queue_attributes()
                .queue_url(&dlq_url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .map_err(sdk_err)?
                .attributes
                .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
                .ok_or_else(|| QueueError::Unavailable("dead-letter queue has no ARN".into()))?;
            let policy = serde_json::json!({
                "deadLetterTargetArn": arn,
                "maxReceiveCount": max_receives.to_string(),
            });
            request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        record_queue_call();
        let url = request
            .send()
            .await
            .map_err(sdk_err)?
            .queue_url
            .ok_or_else(|| QueueError::Unavailable("created queue has no URL".into()))?;
        self.urls
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(queue.to_owned(), url.clone());
        Ok(url)
    }

    /// Creates every platform queue with its dead-letter queue.
    pub async fn ensure_platform_queues(&self) -> Result<(), QueueError> {
        for name in names::ALL {
            self.ensure_queue(name, Some((&names::dead_letter(name), MAX_RECEIVES)))
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, queue: &str, body: &str, delay: Duration) -> Result<String, QueueError> {
        validate_send(body, delay)?;
        let url = self.url(queue).await?;
        record_queue_call();
        let out = self
            .client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .delay_seconds(delay.as_secs() as i32)
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(out.message_id.unwrap_or_default())
    }

    async fn receive(&self, queue: &str, options: Receive) -> Result<Vec<Message>, QueueError> {
        let url = self.url(queue).await?;
        record_queue_call();
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(options.max_messages.clamp(1, 10) as i32)
            .visibility_timeout(options.visibility.as_secs().max(1) as i32)
            .wait_time_seconds(options.wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Message {
                receive_count: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
                id: m.message_id.unwrap_or_default(),
                receipt: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            })
            .collect())
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), QueueError> {
        let url = self.url(queue).await?;
        record_queue_call();
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }
}
