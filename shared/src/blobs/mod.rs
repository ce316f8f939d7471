//! The blob port: objects in S3 (or a local folder in the sandbox) and presigned URLs that let a
//! client upload or download one object directly, without passing the bytes through a function.

pub mod absent;
pub mod local;
pub mod s3;

use async_trait::async_trait;
use bytes::Bytes;
use std::time::Duration;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Blob {
    /// The object's bytes, or only its first bytes from [`Blobs::first_bytes`].
    pub bytes: Bytes,
    /// The whole object's size and content type.
    pub meta: BlobMeta,
}

/// What a client needs to perform a presigned request: send `method` to `url` with `headers`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PresignedRequest {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A presigned upload: the object's content type and exact size are part of the signature.
#[derive(Debug, Clone)]
pub struct UploadSpec {
    pub content_type: String,
    pub size: u64,
    pub expires_in: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid blob request: {0}")]
    Invalid(String),
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Blobs: Send + Sync {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), BlobError>;
    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError>;
    /// Size and content type of an object, without its bytes.
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;
    /// At most `count` (at least 1) bytes from the start of an object, without reading the rest.
    async fn first_bytes(&self, key: &str, count: u64) -> Result<Option<Blob>, BlobError>;
    /// Copies the object at `from` to `to`, replacing any object there, with `content_type`
    /// instead of the source's. False when there is no object at `from`.
    async fn copy(&self, from: &str, to: &str, content_type: &str) -> Result<bool, BlobError>;
    /// Deleting an absent object succeeds.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// A URL the holder may `PUT` one object to until it expires, as often as they like: so it
    /// may only name a key under [`UPLOADS_PREFIX`], whose objects expire, and domain code copies
    /// what it keeps elsewhere.
    async fn presign_put(
        &self,
        key: &str,
        spec: &UploadSpec,
    ) -> Result<PresignedRequest, BlobError>;
    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError>;
    /// A GET URL for an object everyone may see (product images): signed from the start of the
    /// current UTC day for [`PUBLISHED_FOR`], so it stays the same all day and browsers can cache
    /// what it points at. With temporary AWS credentials (a function's role) S3 honours it only
    /// while those credentials last.
    async fn published_url(&self, key: &str) -> Result<String, BlobError>;
}

/// The prefix of every company's objects (`t/<tenant>/...`): functions that only show images
/// may read below it and nowhere else.
pub const COMPANY_OBJECTS_PREFIX: &str = "t/";

/// How long a published URL is signed for, from the start of its day.
pub const PUBLISHED_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// The start of the UTC day of `now`: when published URLs of that day are signed.
pub fn published_since(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_time(time::Time::MIDNIGHT)
}

/// The longest lifetime of a presigned URL this platform hands out.
pub const MAX_PRESIGN: Duration = Duration::from_secs(7 * 24 * 3600);

/// Where presigned uploads go: objects under it are temporary (the bucket expires them after a
/// day), and no other key is ever writable through a presigned URL.
pub const UPLOADS_PREFIX: &str = "uploads/";

/// Object keys are built by domain code (`t/<tenant>/...`, uploads `uploads/t/<tenant>/...`);
/// this rejects anything that could
/// escape a folder or confuse a URL.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(BlobError::Invalid(format!("invalid object key `{key}`")))
    }
}

/// A presigned upload's key: valid, and under [`UPLOADS_PREFIX`].
pub(crate) fn validate_upload_key(key: &str) -> Result<(), BlobError> {
    validate_key(key)?;
    if !key.starts_with(UPLOADS_PREFIX) {
        return Err(BlobError::Invalid(format!(
            "a presigned upload goes under `{UPLOADS_PREFIX}`, not to `{key}`"
        )));
    }
    Ok(())
}

pub(crate) fn validate_count(count: u64) -> Result<(), BlobError> {
    if count == 0 {
        return Err(BlobError::Invalid("read at least 1 byte".into()));
    }
    Ok(())
}

pub(crate) fn validate_expiry(expires_in: Duration) -> Result<(), BlobError> {
    if expires_in.is_zero() || expires_in > MAX_PRESIGN {
        return Err(BlobError::Invalid(
            "a presigned URL lives between 1 second and 7 days".into(),
        ));
    }
    Ok(())
}
