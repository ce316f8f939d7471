//! The AWS access of the route being served, as its [`AwsAccess`] declares it. In AWS the
//! function's IAM role grants exactly that and its binary links only those clients; on embedded
//! storage nothing would stop a handler from reaching further. So the app's ports check every call
//! made while serving a route against its declaration and refuse what it leaves out: a handler
//! that starts writing, uploading or sending without declaring it fails its first test instead of
//! its first request in AWS.

use crate::blobs::{Blob, BlobError, BlobMeta, Blobs, PresignedRequest, UploadSpec};
use crate::http::{BlobAccess, Route, TableAccess};
use crate::mail::{Email, MailError, Mailer};
use crate::queue::{Message, Queue, QueueError, Receive};
use async_trait::async_trait;
use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

tokio::task_local! {
    static DECLARED: &'static Route;
}

/// Runs `work` (authentication and handler) as `route`, within the access it declares.
pub async fn within<F: Future>(route: &'static Route, work: F) -> F::Output {
    DECLARED.scope(route, work).await
}

/// What a port call needs.
pub(crate) enum Need<'a> {
    TableRead,
    /// An update of the item in this partition.
    TableUpdate(&'a str),
    TableWrite,
    /// Reading an object or presigning a `GET`.
    BlobRead,
    /// Writing or deleting an object, or presigning an upload.
    BlobWrite,
    Send(&'a str),
    Receive,
    Mail,
    /// A key derived from this secret.
    Secret(crate::secrets::Secret),
}

/// Why the running route may not make this call, if it may not. Outside a route (workers, the
/// dispatcher, set-up code) nothing is checked.
pub(crate) fn refusal(need: Need) -> Option<String> {
    let route = DECLARED.try_with(|route| *route).ok()?;
    let access = route.aws;
    let (allowed, what) = match need {
        Need::TableRead => (
            access.table != TableAccess::None,
            "read the table".to_owned(),
        ),
        Need::TableUpdate(partition) => (
            access.table == TableAccess::ReadWrite
                || (route.records_key_use() && crate::api_keys::store::is_key_partition(partition)),
            format!("update items in `{partition}`"),
        ),
        Need::TableWrite => (
            access.table == TableAccess::ReadWrite,
            "write to the table".to_owned(),
        ),
        Need::BlobRead => (
            access.blobs != BlobAccess::None,
            "read the files bucket".to_owned(),
        ),
        Need::BlobWrite => (
            access.blobs == BlobAccess::ReadWrite,
            "write to the files bucket".to_owned(),
        ),
        Need::Send(queue) => (
            access.queues.contains(&queue),
            format!("send to the `{queue}` queue"),
        ),
        Need::Receive => (false, "receive from a queue".to_owned()),
        Need::Mail => (false, "send email".to_owned()),
        Need::Secret(secret) => (
            route.secrets().contains(secret),
            format!("the `{}` secret", secret.name()),
        ),
    };
    if allowed {
        return None;
    }
    let reason = format!("route `{}` does not declare access to {what}", route.name);
    tracing::error!(route = route.name, "{reason}");
    Some(reason)
}

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
