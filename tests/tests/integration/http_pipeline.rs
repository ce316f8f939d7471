//! The request pipeline through the sandbox's real HTTP server, and through the dispatcher with
//! routes declared here to exercise bodies, errors and panics.

use commerce_tests::{embedded_app, start_sandbox};
use serde::Deserialize;
use serde_json::{json, Value};
use shared::events::{outbox_put, DomainEvent};
use shared::http::dispatch::dispatch;
use shared::http::{
    Access, ApiRequest, ApiResponse, AwsAccess, Ctx, HandlerFuture, Method, Route, RouteDoc,
};
use shared::store::{Condition, Index, Item, Query, TxOp};

#[tokio::test]
async fn health_answers_with_request_id_and_timing() {
    let sandbox = start_sandbox().await;
    let response = reqwest::get(format!("{}/health", sandbox.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(headers["x-request-id"]
        .to_str()
        .unwrap()
        .starts_with("req_"));
    assert!(
        !headers.contains_key("server-timing"),
        "public routes do not expose store timing"
    );
    assert_eq!(headers["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    sandbox.stop().await;
}

#[tokio::test]
async fn authenticated_responses_carry_store_timing() {
    let sandbox = start_sandbox().await;
    let client = reqwest::Client::new();
    let registered: Value = client
        .post(format!("{}/admin/auth/register", sandbox.base_url()))
        .json(&json!({
            "company": {"name": "Timed", "handle": "timed", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
            "owner": {"name": "Tim", "email": "tim@timed.example.com", "password": "plum-orbit-quiet-harbor-7"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["access_token"].as_str().unwrap();
    let me = client
        .get(format!("{}/admin/me", sandbox.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let timing = me.headers()["server-timing"].to_str().unwrap().to_owned();
    // Three for the answer, two for the member's standing: a container's first check of a member
    // reads the user and session, then the roles (later checks read all three at once).
    assert!(
        timing.starts_with("store;desc=\"5 calls\";dur="),
        "{timing}"
    );
    assert!(timing.contains(", total;dur="), "{timing}");
    sandbox.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_problem_json() {
    let sandbox = start_sandbox().await;
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/admin/nothing-here", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "route_not_found");
    assert_eq!(problem["status"], 404);
    assert_eq!(problem["type"], "/problems/route_not_found");
    assert_eq!(problem["request_id"], request_id);

    let response = client
        .delete(format!("{}/health", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "method_not_allowed");
    sandbox.stop().await;
}

#[tokio::test]
async fn request_ids_are_echoed_only_when_safe() {
    let sandbox = start_sandbox().await;
    let client = reqwest::Client::new();
    let url = format!("{}/health", sandbox.base_url());
    let echoed = client
        .get(&url)
        .header("x-request-id", "trace-abc_123.4")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc_123.4");
    for hostile in ["<script>", "a b", &"x".repeat(200)] {
        let replaced = client
            .get(&url)
            .header("x-request-id", hostile)
            .send()
            .await
            .unwrap();
        let id = replaced.headers()["x-request-id"].to_str().unwrap();
        assert!(id.starts_with("req_"), "{hostile} was echoed as {id}");
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn openapi_describes_every_route_and_docs_page_lists_them() {
    let sandbox = start_sandbox().await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let documented = || {
        shared::routes::ALL
            .iter()
            .filter(|r| r.method != shared::http::Method::Options)
    };
    for route in documented() {
        let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        assert_eq!(op["operationId"], route.name, "{route:?}");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
    }
    let page = reqwest::get(format!("{}/docs", sandbox.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for route in documented() {
        assert!(
            page.contains(route.path),
            "{} missing from /docs",
            route.path
        );
    }
    // The interactive reference runs on assets the sandbox serves itself (offline).
    assert!(page.contains("SwaggerUIBundle") && page.contains("url: '/openapi.json'"));
    for (asset, content_type) in [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
    ] {
        let response = reqwest::get(format!("{}/docs/{asset}", sandbox.base_url()))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(content_type));
        assert!(response.bytes().await.unwrap().len() > 10_000, "{asset}");
    }
    let missing = reqwest::get(format!("{}/docs/nothing.js", sandbox.base_url()))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    sandbox.stop().await;
}

// Routes declared by this test to exercise the pipeline with a body and with a panic.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWidget {
    name: String,
    #[allow(dead_code)]
    size: Option<u32>,
}

fn create_widget(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let input: NewWidget = ctx.req.json()?;
        let mut item = Item::new();
        item.insert("pk".into(), "T#test#WIDGET".into());
        item.insert("sk".into(), input.name.clone().into());
        let event = DomainEvent {
            id: ctx.app.ids.new_id("evt"),
            kind: "widget.created".into(),
            tenant_id: "test".into(),
            occurred_at: "2026-11-25T09:00:00Z".into(),
            actor: None,
            data: json!({"name": input.name}),
            queues: Vec::new(),
        };
        ctx.app
            .table
            .transact(vec![
                TxOp::Put {
                    item,
                    condition: Some(Condition::NotExists),
                },
                outbox_put(&event, ctx.app.clock.epoch_seconds()),
            ])
            .await?;
        Ok(ApiResponse::created(
            &format!("/widgets/{}", input.name),
            &json!({"name": input.name}),
        ))
    })
}

static CREATE_WIDGET: Route = Route {
    name: "create_widget",
    method: Method::Post,
    path: "/widgets",
    access: Access::Public,
    summary: "test",
    tag: "test",
    aws: AwsAccess::WRITE,
    handler: create_widget,
    doc: RouteDoc::new,
};

fn boom(_ctx: Ctx) -> HandlerFuture {
    Box::pin(async move { panic!("handler bug") })
}

static BOOM: Route = Route {
    name: "boom",
    method: Method::Get,
    path: "/boom",
    access: Access::Public,
    summary: "test",
    tag: "test",
    aws: AwsAccess::NONE,
    handler: boom,
    doc: RouteDoc::new,
};

fn request(method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> ApiRequest {
    let mut headers = http::HeaderMap::new();
    if let Some(ct) = content_type {
        headers.insert("content-type", ct.parse().unwrap());
    }
    ApiRequest {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers,
        body: bytes::Bytes::copy_from_slice(body),
        source_ip: None,
        platform_request_id: None,
    }
}

fn problem(response: &ApiResponse) -> Value {
    assert_eq!(
        response.header_value("content-type"),
        Some("application/problem+json")
    );
    serde_json::from_slice(&response.body).unwrap()
}

async fn widgets_written(f: &commerce_tests::AppFixture) -> usize {
    f.app
        .table
        .query(&Query::partition(Index::Table, "T#test#WIDGET"))
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn bad_bodies_are_refused_and_write_nothing() {
    let f = embedded_app();
    let router = shared::routes::router(&[&CREATE_WIDGET, &BOOM]);
    let json = Some("application/json");
    let cases: Vec<(ApiRequest, u16, &str)> = vec![
        (
            request("POST", "/widgets", json, b"{\"name\": \"a\""),
            400,
            "malformed_json",
        ),
        (
            request("POST", "/widgets", json, b"{\"name\": 1}"),
            422,
            "validation_failed",
        ),
        (
            request(
                "POST",
                "/widgets",
                json,
                b"{\"name\": \"a\", \"evil\": true}",
            ),
            422,
            "validation_failed",
        ),
        // Bound field by field, an array would make a widget: the body must be an object.
        (
            request("POST", "/widgets", json, b"[\"a\"]"),
            422,
            "validation_failed",
        ),
        (
            request("POST", "/widgets", json, b" \"a\""),
            422,
            "validation_failed",
        ),
        (
            request("POST", "/widgets", json, b"[\"a\""),
            400,
            "malformed_json",
        ),
        (
            request("POST", "/widgets", json, b"{\"name\": \"a\"} trailing"),
            400,
            "malformed_json",
        ),
        (request("POST", "/widgets", json, b""), 400, "missing_body"),
        (
            request("POST", "/widgets", Some("text/plain"), b"{\"name\": \"a\"}"),
            415,
            "unsupported_media_type",
        ),
        (
            request("POST", "/widgets", json, &vec![b' '; 1024 * 1024 + 1]),
            413,
            "body_too_large",
        ),
    ];
    for (req, status, code) in cases {
        let response = dispatch(&f.app, &router, req).await;
        assert_eq!(response.status, status, "{code}");
        assert_eq!(problem(&response)["code"], code);
    }
    let wrong_type = dispatch(
        &f.app,
        &router,
        request("POST", "/widgets", json, b"{\"name\": 1}"),
    )
    .await;
    assert_eq!(problem(&wrong_type)["errors"][0]["field"], "name");
    assert_eq!(widgets_written(&f).await, 0);
    assert!(f.db.stream_read(10).unwrap().is_empty(), "no event emitted");

    let created = dispatch(
        &f.app,
        &router,
        request(
            "POST",
            "/widgets",
            Some("application/json; charset=utf-8"),
            b"{\"name\": \"a\"}",
        ),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.header_value("location"), Some("/widgets/a"));
    assert_eq!(widgets_written(&f).await, 1);
    assert_eq!(
        f.db.stream_read(10).unwrap().len(),
        2,
        "the widget and its event"
    );
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_next_request_is_served() {
    let f = embedded_app();
    let router = shared::routes::router(&[&CREATE_WIDGET, &BOOM]);
    let response = dispatch(&f.app, &router, request("GET", "/boom", None, b"")).await;
    assert_eq!(response.status, 500);
    assert_eq!(problem(&response)["code"], "internal_error");
    assert!(!String::from_utf8_lossy(&response.body).contains("handler bug"));
    let next = dispatch(
        &f.app,
        &router,
        request(
            "POST",
            "/widgets",
            Some("application/json"),
            b"{\"name\": \"b\"}",
        ),
    )
    .await;
    assert_eq!(next.status, 201);
}

#[tokio::test]
async fn malformed_json_over_http_answers_400() {
    // The same through the server, to cover how the sandbox reads bodies.
    let sandbox = start_sandbox().await;
    let response = reqwest::Client::new()
        .post(format!("{}/health", sandbox.base_url()))
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    // /health takes no POST: the method is refused before the body is looked at.
    assert_eq!(response.status(), 405);
    let big = reqwest::Client::new()
        .post(format!("{}/health", sandbox.base_url()))
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    let problem: Value = big.json().await.unwrap();
    assert_eq!(problem["code"], "body_too_large");
    sandbox.stop().await;
}

// Routes that reach past the access they declare, as a handler bug would.

fn note_key() -> shared::store::Key {
    shared::store::Key::new("TEST#undeclared", "NOTE")
}

fn write_note(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let mut item = Item::new();
        item.insert("pk".into(), json!(note_key().pk));
        item.insert("sk".into(), json!(note_key().sk));
        ctx.app.table.put(item, None).await?;
        Ok(ApiResponse::no_content())
    })
}

fn upload_note(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        ctx.app
            .blobs
            .put(
                "notes/undeclared",
                bytes::Bytes::from_static(b"x"),
                "text/plain",
            )
            .await?;
        Ok(ApiResponse::no_content())
    })
}

static WRITES_WITH_READ_ACCESS: Route = Route {
    name: "writes_with_read_access",
    method: Method::Post,
    path: "/notes/read-only",
    access: Access::Public,
    summary: "Writes although it declares read access",
    tag: "test",
    aws: AwsAccess::READ,
    handler: write_note,
    doc: RouteDoc::new,
};

static WRITES_WITH_WRITE_ACCESS: Route = Route {
    name: "writes_with_write_access",
    path: "/notes/read-write",
    summary: "Writes and declares it",
    aws: AwsAccess::WRITE,
    ..WRITES_WITH_READ_ACCESS
};

static UPLOADS_WITHOUT_BLOBS: Route = Route {
    name: "uploads_without_blobs",
    path: "/notes/upload",
    summary: "Uploads without declaring the bucket",
    aws: AwsAccess::WRITE,
    handler: upload_note,
    ..WRITES_WITH_READ_ACCESS
};

static UPLOADS_WITH_BLOB_READ: Route = Route {
    name: "uploads_with_blob_read",
    path: "/notes/upload-read-only",
    summary: "Uploads although it declares reading the bucket only",
    aws: AwsAccess {
        blobs: shared::http::BlobAccess::Read,
        ..AwsAccess::WRITE
    },
    handler: upload_note,
    ..WRITES_WITH_READ_ACCESS
};

/// In AWS a function's role grants exactly its declared access; the embedded app refuses the
/// same calls, so a handler that outgrows its declaration fails here, not in production.
#[tokio::test]
async fn a_route_cannot_reach_past_its_declared_access() {
    let f = embedded_app();
    let router = shared::routes::router(&[
        &WRITES_WITH_READ_ACCESS,
        &WRITES_WITH_WRITE_ACCESS,
        &UPLOADS_WITHOUT_BLOBS,
        &UPLOADS_WITH_BLOB_READ,
    ]);
    let refused = dispatch(
        &f.app,
        &router,
        request("POST", "/notes/read-only", None, b""),
    )
    .await;
    assert_eq!(refused.status, 503);
    assert!(
        f.app.table.get(&note_key()).await.unwrap().is_none(),
        "nothing was written"
    );

    let upload = dispatch(&f.app, &router, request("POST", "/notes/upload", None, b"")).await;
    assert_eq!(upload.status, 503);
    assert!(f.app.blobs.get("notes/undeclared").await.unwrap().is_none());
    let read_only = dispatch(
        &f.app,
        &router,
        request("POST", "/notes/upload-read-only", None, b""),
    )
    .await;
    assert_eq!(
        read_only.status, 503,
        "reading the bucket does not allow writing"
    );
    assert!(f.app.blobs.get("notes/undeclared").await.unwrap().is_none());

    let allowed = dispatch(
        &f.app,
        &router,
        request("POST", "/notes/read-write", None, b""),
    )
    .await;
    assert_eq!(allowed.status, 204);
    assert!(f.app.table.get(&note_key()).await.unwrap().is_some());
}

fn uses_the_settings_key(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let key = ctx
            .app
            .config
            .key(shared::secrets::Secret::Settings, "settings")?;
        assert_eq!(key.len(), 32);
        Ok(shared::http::ApiResponse::new(204))
    })
}

static USES_AN_UNDECLARED_SECRET: Route = Route {
    name: "uses_an_undeclared_secret",
    method: Method::Get,
    path: "/notes/secret",
    summary: "Derives a key from a secret it does not declare",
    aws: AwsAccess::READ_LIST,
    handler: uses_the_settings_key,
    ..WRITES_WITH_READ_ACCESS
};

static USES_A_DECLARED_SECRET: Route = Route {
    name: "uses_a_declared_secret",
    path: "/notes/secret-declared",
    summary: "Derives a key from a secret it declares",
    aws: AwsAccess {
        secrets: &[shared::secrets::Secret::Settings],
        ..AwsAccess::READ
    },
    ..USES_AN_UNDECLARED_SECRET
};

/// A deployed function holds only the secrets its route declares; the embedded app, which holds
/// every secret, refuses the others while serving the route, so an undeclared use fails here
/// (500, nothing derived) rather than at the first request in AWS.
#[tokio::test]
async fn a_route_derives_keys_only_from_the_secrets_it_declares() {
    let f = embedded_app();
    let router = shared::routes::router(&[&USES_AN_UNDECLARED_SECRET, &USES_A_DECLARED_SECRET]);
    let refused = dispatch(&f.app, &router, request("GET", "/notes/secret", None, b"")).await;
    assert_eq!(refused.status, 500);
    assert_eq!(problem(&refused)["code"], "internal_error");
    let allowed = dispatch(
        &f.app,
        &router,
        request("GET", "/notes/secret-declared", None, b""),
    )
    .await;
    assert_eq!(allowed.status, 204);

    // A function given only the cursor secret cannot derive the settings key at all.
    let mut cursor_only = shared::config::Config::without_secrets();
    cursor_only
        .hold(shared::secrets::Secret::Cursor, vec![b'c'; 64])
        .unwrap();
    assert!(cursor_only
        .key(shared::secrets::Secret::Cursor, "cursor")
        .is_ok());
    assert!(cursor_only
        .key(shared::secrets::Secret::Settings, "settings")
        .is_err());
    assert!(cursor_only.staff_signer().is_err());
    assert!(cursor_only.customer_refresh_key().is_err());
}

/// Every route that takes a body answers 400 `malformed_json` to a body that is not JSON, even
/// when its first field is one the route's type would refuse (a typed parser stops there, before
/// the syntax error), and 422 to JSON that is not an object, called by someone allowed to call
/// it: checked over the whole route table.
#[tokio::test]
async fn every_route_refuses_malformed_json_with_400() {
    use commerce_tests::api::Api;
    let api = Api::embedded().await;
    let owner = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": "Acme", "handle": "acme", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
            "owner": {"name": "Ana", "email": "ana@example.com", "password": "plum-orbit-quiet-harbor-7"}
        })))
        .await;
    let staff = owner.body["access_token"].as_str().unwrap().to_owned();
    let scopes: Vec<&str> = shared::api_keys::model::SCOPES
        .iter()
        .map(|(s, _)| *s)
        .collect();
    let key = api
        .send(
            api.post("/admin/api-keys")
                .token(&staff)
                .json(json!({"name": "web", "scopes": scopes})),
        )
        .await
        .body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let shopper = api
        .send(
            api.post("/store/auth/register")
                .header("x-api-key", &key)
                .json(json!({
                    "email": "sam@example.com", "password": "velvet-canyon-lantern-42",
                    "first_name": "Sam", "last_name": "Rivera", "accepts_marketing": false
                })),
        )
        .await;
    let customer = shopper.body["access_token"].as_str().unwrap().to_owned();
    // The route called with `body` by someone allowed to call it.
    let allowed = |route: &shared::http::route::Route, body: &[u8]| {
        let path = route
            .path
            .split('/')
            .map(|s| match s {
                // A settings group is a fixed name; any id will do elsewhere.
                "{group}" => "general",
                s if s.starts_with('{') => "x_1",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        let call = api.call_method(route.method.as_str(), &path).raw_json(body);
        match route.access {
            Access::Public => call,
            Access::Staff(_) | Access::StaffSelf => call.token(&staff),
            Access::StoreKey(_) | Access::StoreShopper(_) => call.header("x-api-key", &key),
            Access::StoreCustomer(_) => call.header("x-api-key", &key).token(&customer),
        }
    };
    let mut checked = 0;
    for route in shared::routes::ALL {
        // Routes that take no body (log-out, actions) ignore one.
        if (route.doc)().request.is_none() {
            continue;
        }
        for body in [&b"{\"not\": json"[..], b"{\"zzz_unknown\": 1, ", b"[1, 2"] {
            let r = api.send(allowed(route, body)).await;
            assert_eq!(
                (r.status, r.code()),
                (400, "malformed_json"),
                "{route:?} with {}",
                String::from_utf8_lossy(body)
            );
        }
        // Well-formed JSON that is not an object (serde would bind an array to a struct,
        // field by field).
        for body in [&b"[]"[..], b"[\"x\", 1, null]", b"42"] {
            let r = api.send(allowed(route, body)).await;
            assert_eq!(
                (r.status, r.code()),
                (422, "validation_failed"),
                "{route:?} with {}",
                String::from_utf8_lossy(body)
            );
        }
        checked += 1;
    }
    assert!(checked >= 40, "{checked} routes with a body");
}

/// Browsers reach the admin API only from the deployment's configured origins (here the
/// sandbox's own), preflights included; storefront routes keep their per-company rule.
#[tokio::test]
async fn admin_routes_answer_only_configured_origins() {
    use commerce_tests::api::Api;
    let api = Api::embedded().await;
    let owner = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": "Acme", "handle": "acme", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
            "owner": {"name": "Ana", "email": "ana@example.com", "password": "plum-orbit-quiet-harbor-7"}
        })))
        .await;
    let token = owner.body["access_token"].as_str().unwrap().to_owned();
    let me = |origin: &str| api.get("/admin/me").token(&token).header("origin", origin);

    let evil = api.send(me("https://evil.example")).await;
    assert_eq!((evil.status, evil.code()), (403, "origin_not_allowed"));
    assert_eq!(evil.header("access-control-allow-origin"), None);
    let preflight = api
        .send(
            api.call_method("OPTIONS", "/admin/staff/invites")
                .header("origin", "https://evil.example")
                .header("access-control-request-method", "POST"),
        )
        .await;
    assert_eq!(preflight.status, 403);
    assert_eq!(preflight.header("access-control-allow-origin"), None);
    // A forged token from a refused origin is refused the same way, before it is looked at.
    let forged = api
        .send(
            api.post("/admin/staff/invites")
                .token("forged")
                .header("origin", "https://evil.example")
                .json(json!({"email": "x@example.com", "role_ids": []})),
        )
        .await;
    assert_eq!((forged.status, forged.code()), (403, "origin_not_allowed"));

    let own = api.send(me("http://127.0.0.1:9")).await;
    assert_eq!(own.status, 200);
    assert_eq!(
        own.header("access-control-allow-origin"),
        Some("http://127.0.0.1:9")
    );
    let own_preflight = api
        .send(
            api.call_method("OPTIONS", "/admin/me")
                .header("origin", "http://127.0.0.1:9"),
        )
        .await;
    assert_eq!(own_preflight.status, 204);
    assert!(own_preflight
        .header("access-control-allow-methods")
        .unwrap()
        .contains("HEAD"));

    // Public routes outside /admin answer any origin.
    let health = api
        .send(api.get("/health").header("origin", "https://evil.example"))
        .await;
    assert_eq!(health.status, 200);
    assert_eq!(
        health.header("access-control-allow-origin"),
        Some("https://evil.example")
    );
}

/// HEAD is answered wherever GET is, with GET's status and headers and no body, and a path's
/// `Allow` lists it.
#[tokio::test]
async fn head_is_served_wherever_get_is() {
    use commerce_tests::api::Api;
    let api = Api::embedded().await;
    let owner = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": "Acme", "handle": "acme", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
            "owner": {"name": "Ana", "email": "ana@example.com", "password": "plum-orbit-quiet-harbor-7"}
        })))
        .await;
    let token = owner.body["access_token"].as_str().unwrap().to_owned();
    let head = api
        .send(api.call_method("HEAD", "/admin/company").token(&token))
        .await;
    let get = api.send(api.get("/admin/company").token(&token)).await;
    assert_eq!((head.status, get.status), (200, 200));
    assert_eq!(head.body, Value::Null, "no body");
    assert_eq!(head.header("etag"), get.header("etag"));
    assert_eq!(
        head.header("content-type"),
        Some("application/json"),
        "GET's headers"
    );
    // Including the length of the body GET sends.
    let get_length = serde_json::to_vec(&get.body).unwrap().len();
    assert_eq!(
        head.header("content-length"),
        Some(get_length.to_string().as_str())
    );
    let anonymous = api.send(api.call_method("HEAD", "/admin/company")).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        api.send(api.call_method("HEAD", "/health")).await.status,
        200
    );
    let not_allowed = api.send(api.call_method("PUT", "/health")).await;
    assert_eq!(not_allowed.status, 405);
    assert_eq!(not_allowed.header("allow"), Some("GET, HEAD"));
    let post_only = api.send(api.call_method("HEAD", "/admin/auth/login")).await;
    assert_eq!(post_only.status, 405);
}
