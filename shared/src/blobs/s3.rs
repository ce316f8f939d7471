//! The S3 blob adapter (aws-sdk-s3). Presigned uploads sign the content type and length, so S3
//! itself rejects a different type or size.

use super::{
    validate_count, validate_expiry, validate_key, validate_upload_key, Blob, BlobError, BlobMeta,
    Blobs, PresignedRequest, UploadSpec,
};
use crate::clock::Clock;
use crate::observe::record_blob_call;
use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::MetadataDirective;
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

    async fn first_bytes(&self, key: &str, count: u64) -> Result<Option<Blob>, BlobError> {
        validate_key(key)?;
        validate_count(count)?;
        record_blob_call();
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", count - 1))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
            // No byte of an empty object is in any range.
            Err(e) if e.code() == Some("InvalidRange") => {
                return Ok(self.head(key).await?.map(|meta| Blob {
                    bytes: Bytes::new(),
                    meta,
                }))
            }
            Err(e) => return Err(sdk_err(e)),
        };
        let content_type = out.content_type.clone();
        // `bytes 0-<last>/<size>` on a partial answer; a whole answer's length is the size.
        let size = out
            .content_range()
            .and_then(|range| range.rsplit_once('/'))
            .and_then(|(_, size)| size.parse::<u64>().ok())
            .or_else(|| out.content_length.and_then(|l| u64::try_from(l).ok()));
        let mut bytes = out
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Unavailable(e.to_string()))?
            .into_bytes();
        bytes.truncate(count.try_into().unwrap_or(usize::MAX));
        Ok(Some(Blob {
            meta: BlobMeta {
                size: size.unwrap_or(bytes.len() as u64),
                content_type,
            },
            bytes,
        }))
    }

    async fn copy(&self, from: &str, to: &str, content_type: &str) -> Result<bool, BlobError> {
        validate_key(from)?;
        validate_key(to)?;
        record_blob_call();
        // Valid keys hold only characters that need no escaping in `CopySource`.
        match self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(format!("{}/{from}", self.bucket))
            .content_type(content_type)
            .metadata_directive(MetadataDirective::Replace)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("NoSuchKey") => Ok(false),
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
        validate_upload_key(key)?;
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
