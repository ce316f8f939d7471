//! The files bucket of a function that declares no blob access: every call fails plainly.

use super::{Blob, BlobError, BlobMeta, Blobs, PresignedRequest, UploadSpec};
use async_trait::async_trait;
use bytes::Bytes;
use std::time::Duration;

pub struct AbsentBlobs;

fn absent() -> BlobError {
    BlobError::Unavailable("this function declares no access to the files bucket".into())
}

#[async_trait]
impl Blobs for AbsentBlobs {
    async fn put(&self, _: &str, _: Bytes, _: &str) -> Result<(), BlobError> {
        Err(absent())
    }
    async fn get(&self, _: &str) -> Result<Option<Blob>, BlobError> {
        Err(absent())
    }
    async fn head(&self, _: &str) -> Result<Option<BlobMeta>, BlobError> {
        Err(absent())
    }
    async fn first_bytes(&self, _: &str, _: u64) -> Result<Option<Blob>, BlobError> {
        Err(absent())
    }
    async fn copy(&self, _: &str, _: &str, _: &str) -> Result<bool, BlobError> {
        Err(absent())
    }
    async fn delete(&self, _: &str) -> Result<(), BlobError> {
        Err(absent())
    }
    async fn presign_put(&self, _: &str, _: &UploadSpec) -> Result<PresignedRequest, BlobError> {
        Err(absent())
    }
    async fn presign_get(&self, _: &str, _: Duration) -> Result<PresignedRequest, BlobError> {
        Err(absent())
    }
    async fn published_url(&self, _: &str) -> Result<String, BlobError> {
        Err(absent())
    }
}
