//! The sample events under events/ drive the real Lambda entry points: API Gateway events through
//! lambda_http into the route's pipeline, SQS events into the workers, and a stream event into
//! the dispatcher.

use commerce_tests::embedded_app;
use shared::http::route::Router;
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
        let router = Router::new(&[route]);
        let response = shared::http::lambda::handle_event(&fixture.app, &router, request).await;
        let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        assert!(
            !body.contains("route_not_found") && response.status() != 405,
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
    let router = Router::new(&[&shared::system::routes::HEALTH]);
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
    let router = Router::new(&[&shared::system::routes::OPENAPI_PUBLISHED]);
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
    let built = serde_json::to_value(shared::http::openapi::document(shared::routes::ALL)).unwrap();
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
