//! The app's ports, checked against the running route's declaration (see [`crate::access`]).

use crate::access::{refusal, Need};
use crate::blobs::{Blob, BlobError, BlobMeta, Blobs, PresignedRequest, UploadSpec};
use crate::mail::{Email, MailError, Mailer};
use crate::queue::{Message, Queue, QueueError, Receive};
use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// The files bucket, checked against the running route's declaration.
pub(crate) struct CheckedBlobs(pub Arc<dyn Blobs>);

fn blobs_allowed(need: Need) -> Result<(), BlobError> {
    refusal(need).map_or(Ok(()), |r| Err(BlobError::Unavailable(r)))
}

#[async_trait]
impl Blobs for CheckedBlobs {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), BlobError> {
        blobs_allowed(Need::BlobWrite)?;
        self.0.put(key, bytes, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        blobs_allowed(Need::BlobRead)?;
        self.0.get(key).await
    }
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        blobs_allowed(Need::BlobRead)?;
        self.0.head(key).await
    }
    async fn first_bytes(&self, key: &str, count: u64) -> Result<Option<Blob>, BlobError> {
        blobs_allowed(Need::BlobRead)?;
        self.0.first_bytes(key, count).await
    }
    async fn copy(&self, from: &str, to: &str, content_type: &str) -> Result<bool, BlobError> {
        blobs_allowed(Need::BlobWrite)?;
        self.0.copy(from, to, content_type).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        blobs_allowed(Need::BlobWrite)?;
        self.0.delete(key).await
    }
    async fn presign_put(
        &self,
        key: &str,
        spec: &UploadSpec,
    ) -> Result<PresignedRequest, BlobError> {
        blobs_allowed(Need::BlobWrite)?;
        self.0.presign_put(key, spec).await
    }
    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        blobs_allowed(Need::BlobRead)?;
        self.0.presign_get(key, expires_in).await
    }
    async fn published_url(&self, key: &str) -> Result<String, BlobError> {
        blobs_allowed(Need::BlobRead)?;
        self.0.published_url(key).await
    }
}

/// The queues, checked against the running route's declaration.
pub(crate) struct CheckedQueue(pub Arc<dyn Queue>);

fn queue_allowed(need: Need) -> Result<(), QueueError> {
    refusal(need).map_or(Ok(()), |r| Err(QueueError::Unavailable(r)))
}

#[async_trait]
impl Queue for CheckedQueue {
    async fn send(&self, queue: &str, body: &str, delay: Duration) -> Result<String, QueueError> {
        queue_allowed(Need::Send(queue))?;
        self.0.send(queue, body, delay).await
    }
    async fn receive(&self, queue: &str, options: Receive) -> Result<Vec<Message>, QueueError> {
        queue_allowed(Need::Receive)?;
        self.0.receive(queue, options).await
    }
    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), QueueError> {
        queue_allowed(Need::Receive)?;
        self.0.delete(queue, receipt).await
    }
}

/// The mailer: routes never send email themselves (they emit events a worker turns into email).
pub(crate) struct CheckedMailer(pub Arc<dyn Mailer>);

#[async_trait]
impl Mailer for CheckedMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        if let Some(reason) = refusal(Need::Mail) {
            return Err(MailError::Unavailable(reason));
        }
        self.0.send(email).await
    }
}
