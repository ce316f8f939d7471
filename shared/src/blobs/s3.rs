//! The S3 blob adapter (aws-sdk-s3). Presigned uploads sign the content type and length, so S3
//! itself rejects a different type or size.

use super::{
    validate_expiry, validate_key, Blob, BlobError, BlobMeta, Blobs, PresignedRequest, UploadSpec,
};
use crate::clock::Clock;
use crate::observe::record_blob_call;
use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

pub struct S3Blobs {
    client: Client,
    bucket: String,
    clock: Arc<dyn Clock>,
}

fn sdk_err<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> BlobError {
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => BlobError::Unavailable(format!("{code}: {message}")),
        (Some(code), None) => BlobError::Unavailable(code.to_owned()),
        _ => BlobError::Unavailable(format!("{e:?}")),
    }
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        S3Blobs {
            client,
            bucket: bucket.into(),
            clock,
        }
    }

    /// Creates the bucket unless it exists (the emulator and the sandbox; in AWS the infra
    /// template owns it).
    pub async fn ensure_bucket(&self) -> Result<(), BlobError> {
        match self
            .client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.code(),
                    Some("BucketAlreadyOwnedByYou") | Some("BucketAlreadyExists")
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_err(e)),
        }
    }

    fn presigning(&self, expires_in: Duration) -> Result<PresigningConfig, BlobError> {
        validate_expiry(expires_in)?;
        PresigningConfig::builder()
            .start_time(self.clock.now().into())
            .expires_in(expires_in)
            .build()
            .map_err(|e| BlobError::Invalid(e.to_string()))
    }

    fn presigned(
        &self,
        request: aws_sdk_s3::presigning::PresignedRequest,
        expires_in: Duration,
    ) -> PresignedRequest {
        PresignedRequest {
            url: request.uri().to_owned(),
            method: request.method().to_owned(),
            headers: request
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            expires_at: self.clock.now() + expires_in,
        }
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        record_blob_call();
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        validate_key(key)?;
        record_blob_call();
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(sdk_err(e)),
        };
        let content_type = out.content_type.clone();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Unavailable(e.to_string()))?
            .into_bytes();
        Ok(Some(Blob {
            meta: BlobMeta {
                size: bytes.len() as u64,
                content_type,
            },
            bytes,
        }))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        validate_key(key)?;
        record_blob_call();
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(BlobMeta {
                size: out.content_length.unwrap_or(0).max(0) as u64,
                content_type: out.content_type,
            })),
            Err(SdkError::ServiceError(e)) if e.err().is_not_found() => Ok(None),
            Err(e) if matches!(e.code(), Some("NotFound") | Some("NoSuchKey")) => Ok(None),
            Err(e) => Err(sdk_err(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        record_blob_call();
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    async fn presign_put(
        &self,
        key: &str,
        spec: &UploadSpec,
    ) -> Result<PresignedRequest, BlobError> {
        validate_key(key)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(&spec.content_type)
            .content_length(spec.size as i64)
            .presigned(self.presigning(spec.expires_in)?)
            .await
            .map_err(sdk_err)?;
        Ok(self.presigned(request, spec.expires_in))
    }

    async fn published_url(&self, key: &str) -> Result<String, BlobError> {
        validate_key(key)?;
        let config = PresigningConfig::builder()
            .start_time(super::published_since(self.clock.now()).into())
            .expires_in(super::PUBLISHED_FOR)
            .build()
            .map_err(|e| BlobError::Invalid(e.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(sdk_err)?;
        Ok(request.uri().to_owned())
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        validate_key(key)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(self.presigning(expires_in)?)
            .await
            .map_err(sdk_err)?;
        Ok(self.presigned(request, expires_in))
    }
}
