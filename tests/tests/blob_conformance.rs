//! Every case runs on the local-folder adapter (presigned URLs served by a running sandbox) and
//! on S3 (the moto server).

use bytes::Bytes;
use commerce_tests::{s3_blobs, start_sandbox, BlobBackend, SandboxFixture};
use shared::blobs::{BlobError, UploadSpec};
use std::time::Duration;

async fn local() -> (BlobBackend, SandboxFixture) {
    let sandbox = start_sandbox().await;
    let parts = sandbox.sandbox.embedded.as_ref().expect("embedded sandbox");
    let backend = BlobBackend::shared(parts.blobs.clone(), sandbox.clock.clone());
    (backend, sandbox)
}

fn spec(content_type: &str, size: usize) -> UploadSpec {
    UploadSpec {
        content_type: content_type.into(),
        size: size as u64,
        expires_in: Duration::from_secs(600),
    }
}

async fn send(
    request: &shared::blobs::PresignedRequest,
    body: Option<Vec<u8>>,
) -> reqwest::Response {
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = client.request(method, &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = body {
        builder = builder.body(body);
    }
    builder.send().await.unwrap()
}

async fn round_trip(b: &BlobBackend) {
    let key = "t/co_1/files/a.txt";
    assert!(b.blobs.get(key).await.unwrap().is_none());
    assert!(b.blobs.head(key).await.unwrap().is_none());
    b.blobs
        .put(key, Bytes::from_static(b"hello"), "text/plain")
        .await
        .unwrap();
    let blob = b.blobs.get(key).await.unwrap().unwrap();
    assert_eq!(blob.bytes, Bytes::from_static(b"hello"));
    assert_eq!(blob.meta.content_type.as_deref(), Some("text/plain"));
    assert_eq!(b.blobs.head(key).await.unwrap().unwrap().size, 5);
    b.blobs.delete(key).await.unwrap();
    assert!(b.blobs.get(key).await.unwrap().is_none());
    b.blobs.delete(key).await.unwrap();
    assert!(matches!(
        b.blobs.put("../escape", Bytes::new(), "text/plain").await,
        Err(BlobError::Invalid(_))
    ));
    assert!(matches!(
        b.blobs.get("t/co_1/../co_2/x").await,
        Err(BlobError::Invalid(_))
    ));
}

async fn presigned_upload_and_download(b: &BlobBackend) {
    let key = "t/co_1/images/img_1.png";
    let bytes = vec![137u8, 80, 78, 71, 1, 2, 3];
    let upload = b
        .blobs
        .presign_put(key, &spec("image/png", bytes.len()))
        .await
        .unwrap();
    assert_eq!(upload.method, "PUT");
    let put = send(&upload, Some(bytes.clone())).await;
    assert!(put.status().is_success(), "{}", put.status());
    let meta = b.blobs.head(key).await.unwrap().unwrap();
    assert_eq!(meta.size, bytes.len() as u64);
    assert_eq!(meta.content_type.as_deref(), Some("image/png"));

    let download = b
        .blobs
        .presign_get(key, Duration::from_secs(60))
        .await
        .unwrap();
    let got = send(&download, None).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
}

async fn presigned_urls_are_bound_to_what_was_signed(b: &BlobBackend) {
    let key = "t/co_1/images/img_2.png";
    let upload = b
        .blobs
        .presign_put(key, &spec("image/png", 4))
        .await
        .unwrap();

    let mut wrong_type = upload.clone();
    wrong_type.headers = vec![("content-type".into(), "text/html".into())];
    assert_eq!(
        send(&wrong_type, Some(vec![1, 2, 3, 4])).await.status(),
        403
    );
    assert_eq!(send(&upload, Some(vec![1, 2, 3, 4, 5])).await.status(), 403);
    let mut tampered = upload.clone();
    tampered.url = tampered.url.replace("img_2", "img_3");
    assert_eq!(send(&tampered, Some(vec![1, 2, 3, 4])).await.status(), 403);
    assert!(b.blobs.head(key).await.unwrap().is_none());
    assert!(b
        .blobs
        .head("t/co_1/images/img_3.png")
        .await
        .unwrap()
        .is_none());

    b.clock.advance(Duration::from_secs(601));
    assert_eq!(send(&upload, Some(vec![1, 2, 3, 4])).await.status(), 403);
    assert!(b.blobs.head(key).await.unwrap().is_none());
}

#[tokio::test]
async fn local_round_trip() {
    let (b, sandbox) = local().await;
    round_trip(&b).await;
    sandbox.stop().await;
}

#[tokio::test]
async fn local_presigned_upload_and_download() {
    let (b, sandbox) = local().await;
    presigned_upload_and_download(&b).await;
    sandbox.stop().await;
}

#[tokio::test]
async fn local_presigned_urls_are_bound_to_what_was_signed() {
    let (b, sandbox) = local().await;
    presigned_urls_are_bound_to_what_was_signed(&b).await;
    sandbox.stop().await;
}

#[tokio::test]
async fn s3_round_trip() {
    if let Some(b) = s3_blobs().await {
        round_trip(&b).await;
    }
}

#[tokio::test]
async fn s3_presigned_upload_and_download() {
    if let Some(b) = s3_blobs().await {
        presigned_upload_and_download(&b).await;
    }
}

#[tokio::test]
async fn s3_presigned_upload_signs_type_and_length() {
    // The emulator does not verify signatures, so check that what S3 would verify is signed.
    if let Some(b) = s3_blobs().await {
        let upload = b
            .blobs
            .presign_put("t/co_1/x.png", &spec("image/png", 4))
            .await
            .unwrap();
        let signed = upload
            .url
            .split('&')
            .find(|p| p.starts_with("X-Amz-SignedHeaders="))
            .expect("signed headers in the URL");
        assert!(signed.contains("content-length"), "{signed}");
        assert!(signed.contains("content-type"), "{signed}");
        assert!(upload.url.contains("X-Amz-Expires=600"));
    }
}
