//! The sandbox keeps data across a restart; mail adapters deliver (outbox files, SES on moto).

use commerce_tests::{emulator, test_clock, MOTO_ENDPOINT};
use serde_json::json;
use shared::mail::outbox::OutboxMailer;
use shared::mail::ses::SesMailer;
use shared::mail::{Email, MailError, Mailer};
use shared::store::{Item, Key};
use std::sync::Arc;

async fn start(dir: &std::path::Path) -> sandbox::Sandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    sandbox::Sandbox::start(sandbox::Options {
        listener,
        storage: sandbox::Storage::Durable(dir.to_owned()),
        clock: Arc::new(test_clock()),
        secret: None,
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_durable_sandbox_keeps_data_and_secret_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path()).await;
    let item: Item = json!({"pk": "T#co_1#THING", "sk": "kept", "n": 1})
        .as_object()
        .unwrap()
        .clone();
    first.app.table.put(item.clone(), None).await.unwrap();
    let secret = std::fs::read_to_string(dir.path().join("secret.key")).unwrap();
    first.stop().await;

    let second = start(dir.path()).await;
    let got = second
        .app
        .table
        .get(&Key::new("T#co_1#THING", "kept"))
        .await
        .unwrap();
    assert_eq!(got, Some(item));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("secret.key")).unwrap(),
        secret
    );
    let health = reqwest::get(format!("{}/health", second.base_url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    second.stop().await;
}

#[tokio::test]
async fn accounts_survive_a_sandbox_restart() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let first = start(dir.path()).await;
    let registered = client
        .post(format!("{}/admin/auth/register", first.base_url()))
        .json(&json!({
            "company": {"name": "Kept", "handle": "kept", "country": "FR", "currency": "EUR", "timezone": "Europe/Paris"},
            "owner": {"name": "Kim", "email": "kim@kept.example.com", "password": "plum-orbit-quiet-harbor-7"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    first.stop().await;

    let second = start(dir.path()).await;
    let login = client
        .post(format!("{}/admin/auth/login", second.base_url()))
        .json(&json!({"company": "kept", "email": "kim@kept.example.com", "password": "plum-orbit-quiet-harbor-7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    second.stop().await;
}

fn email() -> Email {
    Email {
        from: "shop@example.com".into(),
        to: vec!["ana@example.com".into()],
        reply_to: Some("help@example.com".into()),
        subject: "Your order".into(),
        text: "Thanks!".into(),
        html: Some("<p>Thanks!</p>".into()),
    }
}

#[tokio::test]
async fn the_outbox_mailer_writes_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = OutboxMailer::new(dir.path().join("outbox"), Arc::new(test_clock()));
    mailer.send(&email()).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(eml.contains("From: shop@example.com\r\n"));
    assert!(eml.contains("To: ana@example.com\r\n"));
    assert!(eml.contains("Reply-To: help@example.com\r\n"));
    assert!(eml.contains("Subject: Your order\r\n"));
    assert!(eml.contains("multipart/alternative"));
    assert!(eml.contains("<p>Thanks!</p>"));
}

#[tokio::test]
async fn header_injection_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = OutboxMailer::new(dir.path().join("outbox"), Arc::new(test_clock()));
    let mut evil = email();
    evil.subject = "Hi\r\nBcc: everyone@example.com".into();
    assert!(matches!(
        mailer.send(&evil).await,
        Err(MailError::Invalid(_))
    ));
    let mut evil = email();
    evil.to = vec!["a@example.com\nBcc: b@example.com".into()];
    assert!(matches!(
        mailer.send(&evil).await,
        Err(MailError::Invalid(_))
    ));
    assert!(!dir.path().join("outbox").exists());
}

#[tokio::test]
async fn ses_sends_through_the_emulator() {
    let Some(endpoint) = emulator(MOTO_ENDPOINT) else {
        return;
    };
    let config = shared::aws::for_emulator(&endpoint).await;
    let client = shared::aws::ses(&config);
    // SES only sends from verified identities.
    client
        .create_email_identity()
        .email_identity("shop@example.com")
        .send()
        .await
        .unwrap();
    let id = SesMailer::new(client).send(&email()).await.unwrap();
    assert!(!id.is_empty());
}
