//! The sample events under events/ drive the real Lambda entry points: API Gateway events through
//! lambda_http into the route's pipeline, SQS events into the workers, and a stream event into
//! the dispatcher.

use commerce_tests::embedded_app;
use shared::queue::{names, Receive};
use std::path::Path;

fn event(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join(format!("events/{name}.json"));
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test]
async fn every_route_event_reaches_its_route() {
    let fixture = embedded_app();
    for route in shared::routes::ALL {
        let request = lambda_http::request::from_str(&event(route.name))
            .unwrap_or_else(|e| panic!("events/{}.json: {e}", route.name));
        let router = shared::routes::router(&[route]);
        let response = shared::http::lambda::handle_event(&fixture.app, &router, request).await;
        let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        let code = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|b| b["code"].as_str().map(str::to_owned));
        assert!(
            code.as_deref() != Some("route_not_found") && response.status() != 405,
            "{}: {} {body}",
            route.name,
            response.status()
        );
        assert!(response.headers().contains_key("x-request-id"));
    }
}

#[tokio::test]
async fn health_event_answers_ok_through_lambda_http() {
    let fixture = embedded_app();
    let request = lambda_http::request::from_str(&event("health")).unwrap();
    let router = shared::routes::router(&[&shared::system::routes::HEALTH]);
    let response = shared::http::lambda::handle_event(&fixture.app, &router, request).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(response.headers()["x-request-id"], "sample-request-id");
}

/// The `openapi` function serves the document generated into docs/openapi.json (so it does not
/// link every handler); it must be the document the route table describes now.
#[tokio::test]
async fn the_openapi_function_serves_the_document_of_the_route_table() {
    let fixture = embedded_app();
    let router = shared::routes::router(&[&shared::system::routes::OPENAPI_PUBLISHED]);
    let call = || async {
        let request = lambda_http::request::from_str(&event("openapi")).unwrap();
        shared::http::lambda::handle_event(&fixture.app, &router, request).await
    };
    let unpublished = call().await;
    assert_eq!(
        unpublished.status(),
        500,
        "nothing to serve before publishing"
    );

    let generated = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .join(xtask::OPENAPI_DOCUMENT),
    )
    .unwrap();
    shared::system::routes::publish_openapi(Box::leak(generated.into_boxed_str()));
    let response = call().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    let built = serde_json::to_value(shared::routes::openapi_document()).unwrap();
    assert_eq!(served, built);
}

#[tokio::test]
async fn notification_worker_event_sends_the_email_once() {
    let fixture = embedded_app();
    let sqs: aws_lambda_events::sqs::SqsEvent =
        serde_json::from_str(&event("notifications_worker")).unwrap();
    let worker = &shared::workers::notifications::WORKER;
    let first = shared::workers::handle_sqs(&fixture.app, worker, sqs.clone()).await;
    assert!(first.batch_item_failures.is_empty());
    let again = shared::workers::handle_sqs(&fixture.app, worker, sqs).await;
    assert!(again.batch_item_failures.is_empty());
    let mails = fixture.outbox_messages();
    assert_eq!(mails.len(), 1, "a redelivered event sends no second email");
    assert!(mails[0].contains("Subject: Sample"));
    assert!(mails[0].contains("To: owner@example.com"));
}

#[tokio::test]
async fn dispatcher_event_sends_the_outbox_event_to_its_queue() {
    let fixture = embedded_app();
    let stream: aws_lambda_events::dynamodb::Event =
        serde_json::from_str(&event(xtask::DISPATCHER)).unwrap();
    let response = shared::events::stream::handle(fixture.app.queue.as_ref(), stream).await;
    assert!(response.batch_item_failures.is_empty());
    let messages = fixture
        .app
        .queue
        .receive(names::NOTIFICATIONS, Receive::default())
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&messages[0].body).unwrap();
    assert_eq!(body["type"], "notification.email_requested");
    assert_eq!(body["id"], "evt_01JSAMPLE0000000000000000");
}

/// A deployed function reads its secrets from Secrets Manager (the moto server here) in one
/// call at cold start, by ARN or by name, and derives from each only what it declares: holding
/// the cursor and staff token secrets, it can page and sign staff tokens but not decrypt
/// settings. A secret that does not exist stops the cold start with its id in the error.
#[tokio::test]
async fn functions_load_their_secrets_from_secrets_manager() {
    use shared::secrets::{derive, load_from_secrets_manager, Secret};
    let Some(endpoint) = commerce_tests::emulator(commerce_tests::MOTO_ENDPOINT) else {
        return;
    };
    let sdk = shared::aws::for_emulator(&endpoint).await;
    let client = shared::aws::secrets_manager(&sdk);
    let cursor_value = "c".repeat(64);
    let (staff_key, _) = shared::auth::tokens::generate_rsa_key();
    let cursor_arn = client
        .create_secret()
        .name(commerce_tests::unique_name("cursor"))
        .secret_string(&cursor_value)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let staff_name = commerce_tests::unique_name("staff-tokens");
    client
        .create_secret()
        .name(&staff_name)
        .secret_string(&staff_key)
        .send()
        .await
        .unwrap();

    let ids = shared::secrets::parse_ids(&format!("cursor={cursor_arn},staff-tokens={staff_name}"))
        .unwrap();
    let loaded = load_from_secrets_manager(client.clone(), ids)
        .await
        .unwrap();
    assert_eq!(
        loaded,
        vec![
            (Secret::Cursor, cursor_value.clone().into_bytes()),
            (Secret::StaffTokens, staff_key.trim().as_bytes().to_vec()),
        ]
    );
    let mut config = shared::config::Config::without_secrets();
    for (secret, material) in loaded {
        config.hold(secret, material).unwrap();
    }
    assert_eq!(
        config.key(Secret::Cursor, "cursor").unwrap(),
        derive(cursor_value.as_bytes(), Secret::Cursor, "cursor")
    );
    assert!(config.staff_signer().unwrap().can_sign());
    assert!(config.key(Secret::Settings, "settings").is_err());
    assert!(config.customer_signer().is_err());

    let missing = load_from_secrets_manager(
        client,
        vec![(Secret::Settings, "no-such-secret-anywhere".into())],
    )
    .await
    .unwrap_err();
    assert!(
        missing.to_string().contains("no-such-secret-anywhere"),
        "{missing}"
    );
}
