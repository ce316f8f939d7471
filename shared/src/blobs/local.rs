//! The local-folder blob adapter for the sandbox. Presigned URLs point at the sandbox's own
//! `/_blobs/` path and carry an HMAC over method, key, expiry and (for uploads) content type and
//! size; [`LocalBlobs::serve`] verifies them just as S3 would.

use super::{
    validate_count, validate_expiry, validate_key, validate_upload_key, Blob, BlobError, BlobMeta,
    Blobs, PresignedRequest, UploadSpec,
};
use crate::clock::Clock;
use async_trait::async_trait;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The path prefix the sandbox serves presigned requests on.
pub const SERVE_PREFIX: &str = "/_blobs/";

pub struct LocalBlobs {
    root: PathBuf,
    base_url: String,
    secret: Vec<u8>,
    clock: Arc<dyn Clock>,
}

/// What the sandbox answers to a presigned request.
#[derive(Debug)]
pub struct ServeResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
}

impl ServeResponse {
    fn error(status: u16, message: &str) -> Self {
        ServeResponse {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            body: Bytes::from(message.to_owned()),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredMeta {
    content_type: String,
}

impl LocalBlobs {
    /// `base_url` is where the sandbox listens, e.g. `http://127.0.0.1:3000`.
    pub fn new(root: &Path, base_url: &str, secret: &[u8], clock: Arc<dyn Clock>) -> Self {
        LocalBlobs {
            root: root.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            secret: secret.to_vec(),
            clock,
        }
    }

    fn object_path(&self, key: &str) -> PathBuf {
        self.root.join("objects").join(key)
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.root.join("meta").join(format!("{key}.json"))
    }

    fn sign(&self, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(parts.join("\n").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn verify(&self, parts: &[&str], signature: &str) -> bool {
        let Ok(given) = hex::decode(signature) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(parts.join("\n").as_bytes());
        mac.verify_slice(&given).is_ok()
    }

    fn url(&self, key: &str, query: &[(&str, String)]) -> String {
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
            .collect();
        format!("{}{SERVE_PREFIX}{key}?{}", self.base_url, query.join("&"))
    }

    /// Answers a request sent to a presigned URL: `path` is what follows [`SERVE_PREFIX`].
    pub async fn serve(
        &self,
        method: &str,
        path: &str,
        query: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> ServeResponse {
        let key = match urlencoding::decode(path) {
            Ok(k) if validate_key(&k).is_ok() => k.into_owned(),
            _ => return ServeResponse::error(404, "no such object"),
        };
        let params: std::collections::HashMap<String, String> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter_map(|(k, v)| Some((k.to_owned(), urlencoding::decode(v).ok()?.into_owned())))
            .collect();
        let param = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
        let expires = param("expires");
        if expires
            .parse::<i64>()
            .map_or(true, |e| e < self.clock.epoch_seconds())
        {
            return ServeResponse::error(403, "the URL has expired or is malformed");
        }
        match method {
            "PUT" => {
                let (ct, size) = (param("content_type"), param("size"));
                if !self.verify(&["PUT", &key, expires, ct, size], param("signature")) {
                    return ServeResponse::error(403, "signature does not match");
                }
                if content_type != Some(ct) {
                    return ServeResponse::error(403, "content type differs from the signed one");
                }
                if size.parse::<u64>().ok() != Some(body.len() as u64) {
                    return ServeResponse::error(403, "size differs from the signed one");
                }
                match self.put(&key, body, ct).await {
                    Ok(()) => ServeResponse::error(200, ""),
                    Err(e) => ServeResponse::error(500, &e.to_string()),
                }
            }
            "GET" => {
                if !self.verify(&["GET", &key, expires], param("signature")) {
                    return ServeResponse::error(403, "signature does not match");
                }
                match self.get(&key).await {
                    Ok(Some(blob)) => ServeResponse {
                        status: 200,
                        content_type: blob
                            .meta
                            .content_type
                            .unwrap_or_else(|| "application/octet-stream".into()),
                        body: blob.bytes,
                    },
                    Ok(None) => ServeResponse::error(404, "no such object"),
                    Err(e) => ServeResponse::error(500, &e.to_string()),
                }
            }
            _ => ServeResponse::error(405, "only PUT and GET are presigned"),
        }
    }
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

/// A fresh temporary path beside `path` (created folders included), to rename onto it.
async fn temporary_beside(path: &Path) -> Result<PathBuf, BlobError> {
    let dir = path.parent().expect("object paths have a parent");
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    Ok(dir.join(format!(".tmp-{}", ulid::Ulid::new())))
}

/// Writes through a temporary file and a rename, so a reader never sees half an object.
async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    let tmp = temporary_beside(path).await?;
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, path).await.map_err(io)
}

/// Up to `count` bytes from the start of the file; `None` when there is no file.
fn read_start(path: &Path, count: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(count).read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

#[async_trait]
impl Blobs for LocalBlobs {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        let meta = serde_json::to_vec(&StoredMeta {
            content_type: content_type.to_owned(),
        })
        .expect("meta serialises");
        write_atomically(&self.meta_path(key), &meta).await?;
        write_atomically(&self.object_path(key), &bytes).await
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        validate_key(key)?;
        let Some(meta) = self.head(key).await? else {
            return Ok(None);
        };
        match tokio::fs::read(self.object_path(key)).await {
            Ok(bytes) => Ok(Some(Blob {
                bytes: Bytes::from(bytes),
                meta,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        validate_key(key)?;
        let size = match tokio::fs::metadata(self.object_path(key)).await {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let content_type = tokio::fs::read(self.meta_path(key))
            .await
            .ok()
            .and_then(|raw| serde_json::from_slice::<StoredMeta>(&raw).ok())
            .map(|m| m.content_type);
        Ok(Some(BlobMeta { size, content_type }))
    }

    async fn first_bytes(&self, key: &str, count: u64) -> Result<Option<Blob>, BlobError> {
        validate_key(key)?;
        validate_count(count)?;
        let Some(meta) = self.head(key).await? else {
            return Ok(None);
        };
        let path = self.object_path(key);
        let read = tokio::task::spawn_blocking(move || read_start(&path, count))
            .await
            .map_err(|e| BlobError::Unavailable(e.to_string()))?
            .map_err(io)?;
        Ok(read.map(|bytes| Blob {
            bytes: Bytes::from(bytes),
            meta,
        }))
    }

    async fn copy(&self, from: &str, to: &str, content_type: &str) -> Result<bool, BlobError> {
        validate_key(from)?;
        validate_key(to)?;
        let target = self.object_path(to);
        let tmp = temporary_beside(&target).await?;
        match tokio::fs::copy(self.object_path(from), &tmp).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io(e)),
        }
        let meta = serde_json::to_vec(&StoredMeta {
            content_type: content_type.to_owned(),
        })
        .expect("meta serialises");
        write_atomically(&self.meta_path(to), &meta).await?;
        tokio::fs::rename(&tmp, &target).await.map_err(io)?;
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        for path in [self.object_path(key), self.meta_path(key)] {
            match tokio::fs::remove_file(path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    async fn presign_put(
        &self,
        key: &str,
        spec: &UploadSpec,
    ) -> Result<PresignedRequest, BlobError> {
        validate_upload_key(key)?;
        validate_expiry(spec.expires_in)?;
        let expires_at = self.clock.now() + spec.expires_in;
        let expires = expires_at.unix_timestamp().to_string();
        let size = spec.size.to_string();
        let signature = self.sign(&["PUT", key, &expires, &spec.content_type, &size]);
        Ok(PresignedRequest {
            url: self.url(
                key,
                &[
                    ("expires", expires),
                    ("content_type", spec.content_type.clone()),
                    ("size", size),
                    ("signature", signature),
                ],
            ),
            method: "PUT".into(),
            headers: vec![("content-type".into(), spec.content_type.clone())],
            expires_at,
        })
    }

    async fn published_url(&self, key: &str) -> Result<String, BlobError> {
        validate_key(key)?;
        let expires_at = super::published_since(self.clock.now()) + super::PUBLISHED_FOR;
        let expires = expires_at.unix_timestamp().to_string();
        let signature = self.sign(&["GET", key, &expires]);
        Ok(self.url(key, &[("expires", expires), ("signature", signature)]))
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        validate_key(key)?;
        validate_expiry(expires_in)?;
        let expires_at = self.clock.now() + expires_in;
        let expires = expires_at.unix_timestamp().to_string();
        let signature = self.sign(&["GET", key, &expires]);
        Ok(PresignedRequest {
            url: self.url(key, &[("expires", expires), ("signature", signature)]),
            method: "GET".into(),
            headers: Vec::new(),
            expires_at,
        })
    }
}
