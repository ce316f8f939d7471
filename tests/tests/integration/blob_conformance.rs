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
    let key = "uploads/t/co_1/images/img_1.png";
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
    let key = "uploads/t/co_1/images/img_2.png";
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
        .head("uploads/t/co_1/images/img_3.png")
        .await
        .unwrap()
        .is_none());

    b.clock.advance(Duration::from_secs(601));
    assert_eq!(send(&upload, Some(vec![1, 2, 3, 4])).await.status(), 403);
    assert!(b.blobs.head(key).await.unwrap().is_none());
}

async fn first_bytes_read_only_the_start(b: &BlobBackend) {
    let key = "t/co_1/files/digits.txt";
    assert!(b.blobs.first_bytes(key, 4).await.unwrap().is_none());
    b.blobs
        .put(key, Bytes::from_static(b"0123456789"), "text/plain")
        .await
        .unwrap();
    let start = b.blobs.first_bytes(key, 4).await.unwrap().unwrap();
    assert_eq!(start.bytes, Bytes::from_static(b"0123"));
    assert_eq!(start.meta.size, 10, "the whole object's size");
    assert_eq!(start.meta.content_type.as_deref(), Some("text/plain"));
    let all = b.blobs.first_bytes(key, 100).await.unwrap().unwrap();
    assert_eq!(all.bytes, Bytes::from_static(b"0123456789"));
    assert_eq!(all.meta.size, 10);
    let one = b.blobs.first_bytes(key, 1).await.unwrap().unwrap();
    assert_eq!(one.bytes, Bytes::from_static(b"0"));

    let empty = "t/co_1/files/empty.txt";
    b.blobs
        .put(empty, Bytes::new(), "text/plain")
        .await
        .unwrap();
    let nothing = b.blobs.first_bytes(empty, 4).await.unwrap().unwrap();
    assert!(nothing.bytes.is_empty());
    assert_eq!(nothing.meta.size, 0);

    assert!(matches!(
        b.blobs.first_bytes(key, 0).await,
        Err(BlobError::Invalid(_))
    ));
    assert!(matches!(
        b.blobs.first_bytes("t/co_1/../x", 4).await,
        Err(BlobError::Invalid(_))
    ));
}

async fn copies_replace_the_content_type_and_stand_alone(b: &BlobBackend) {
    let from = "uploads/t/co_1/products/p_1/upl_1";
    let to = "t/co_1/products/p_1/img_1";
    assert!(!b.blobs.copy(from, to, "image/png").await.unwrap());
    assert!(b.blobs.head(to).await.unwrap().is_none(), "nothing copied");

    b.blobs
        .put(from, Bytes::from_static(b"\x89PNG first"), "text/plain")
        .await
        .unwrap();
    assert!(b.blobs.copy(from, to, "image/png").await.unwrap());
    let copy = b.blobs.get(to).await.unwrap().unwrap();
    assert_eq!(copy.bytes, Bytes::from_static(b"\x89PNG first"));
    assert_eq!(copy.meta.content_type.as_deref(), Some("image/png"));
    let source = b.blobs.get(from).await.unwrap().unwrap();
    assert_eq!(source.meta.content_type.as_deref(), Some("text/plain"));

    // Writing the source again leaves the copy as it was.
    b.blobs
        .put(from, Bytes::from_static(b"<html>later"), "image/png")
        .await
        .unwrap();
    assert_eq!(
        b.blobs.get(to).await.unwrap().unwrap().bytes,
        Bytes::from_static(b"\x89PNG first")
    );
    // Copying again replaces what is there; deleting the source keeps the copy.
    assert!(b.blobs.copy(from, to, "image/gif").await.unwrap());
    let replaced = b.blobs.get(to).await.unwrap().unwrap();
    assert_eq!(replaced.bytes, Bytes::from_static(b"<html>later"));
    assert_eq!(replaced.meta.content_type.as_deref(), Some("image/gif"));
    b.blobs.delete(from).await.unwrap();
    assert!(b.blobs.head(to).await.unwrap().is_some());

    assert!(matches!(
        b.blobs.copy("t/co_1/../co_2/x", to, "image/png").await,
        Err(BlobError::Invalid(_))
    ));
    assert!(matches!(
        b.blobs.copy(to, "/etc/passwd", "image/png").await,
        Err(BlobError::Invalid(_))
    ));
}

async fn presigned_uploads_only_go_under_the_uploads_prefix(b: &BlobBackend) {
    for key in [
        "t/co_1/products/p_1/img_1",
        "uploadsx/t/co_1/a",
        "t/uploads/a",
    ] {
        assert!(
            matches!(
                b.blobs.presign_put(key, &spec("image/png", 4)).await,
                Err(BlobError::Invalid(_))
            ),
            "{key}"
        );
    }
    assert!(b
        .blobs
        .presign_put("uploads/t/co_1/a", &spec("image/png", 4))
        .await
        .is_ok());
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
async fn local_first_bytes_read_only_the_start() {
    let (b, sandbox) = local().await;
    first_bytes_read_only_the_start(&b).await;
    sandbox.stop().await;
}

#[tokio::test]
async fn local_copies_replace_the_content_type_and_stand_alone() {
    let (b, sandbox) = local().await;
    copies_replace_the_content_type_and_stand_alone(&b).await;
    sandbox.stop().await;
}

#[tokio::test]
async fn local_presigned_uploads_only_go_under_the_uploads_prefix() {
    let (b, sandbox) = local().await;
    presigned_uploads_only_go_under_the_uploads_prefix(&b).await;
    sandbox.stop().await;
}

#[tokio::test]
async fn s3_first_bytes_read_only_the_start() {
    if let Some(b) = s3_blobs().await {
        first_bytes_read_only_the_start(&b).await;
    }
}

#[tokio::test]
async fn s3_copies_replace_the_content_type_and_stand_alone() {
    if let Some(b) = s3_blobs().await {
        copies_replace_the_content_type_and_stand_alone(&b).await;
    }
}

#[tokio::test]
async fn s3_presigned_uploads_only_go_under_the_uploads_prefix() {
    if let Some(b) = s3_blobs().await {
        presigned_uploads_only_go_under_the_uploads_prefix(&b).await;
    }
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
            .presign_put("uploads/t/co_1/x.png", &spec("image/png", 4))
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
