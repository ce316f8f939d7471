//! `Idempotency-Key` on POST: the first response to a key is stored for 24 hours and replayed to
//! a retry with the same body; the same key with a different body answers 422, and a retry while
//! the first request is still running answers 409.
//!
//! Keys are scoped to the tenant and the caller. A request that fails with a server error, a
//! conflict or a rate limit releases its key so that a retry runs again. Stored bodies are
//! encrypted: some answers carry secrets shown once (a new API key, sign-in tokens), and the
//! table must never hold those in clear.

use super::dispatch::run_handler;
use super::route::Handler;
use super::{ApiError, ApiResponse, Ctx};
use crate::http::HttpCode;
use crate::secrets::Secret;
use crate::store::{attr, Condition, Item, Key, StoreError, Update};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "idempotency-key";
/// How long a key remembers its response.
pub const RETENTION_SECS: i64 = 24 * 3600;
/// How long a request holds its key before a retry may assume it died and take over.
pub const LOCK_SECS: i64 = 60;
/// Response headers replayed with the stored body.
const REPLAYED_HEADERS: [&str; 3] = ["content-type", "location", "etag"];

fn store_key(tenant: &str, actor: &str, idempotency_key: &str) -> Key {
    let digest = Sha256::digest(format!("{actor}\n{idempotency_key}"));
    Key::new(format!("T#{tenant}#IDEM#{}", hex::encode(digest)), "IDEM")
}

fn fingerprint(ctx: &Ctx) -> String {
    let mut hash = Sha256::new();
    for part in [
        ctx.req.method.as_bytes(),
        ctx.req.path.as_bytes(),
        ctx.req.query.as_bytes(),
    ] {
        hash.update(part);
        hash.update(b"\n");
    }
    hash.update(&ctx.req.body);
    hex::encode(hash.finalize())
}

fn valid(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

pub(crate) async fn run(ctx: Ctx, handler: Handler) -> Result<ApiResponse, ApiError> {
    // Read raw: a key that is not visible ASCII (UTF-8, say) is refused, never taken for none.
    let Some(raw) = ctx.req.headers.get(HEADER) else {
        return run_handler(ctx, handler).await;
    };
    let Some(idempotency_key) = raw.to_str().ok().filter(|k| valid(k)).map(str::to_owned) else {
        return Err(ApiError::new(
            HttpCode::InvalidIdempotencyKey,
            "Idempotency-Key is 1 to 255 visible ASCII characters",
        ));
    };
    let tenant = ctx
        .principal
        .tenant()
        .expect("idempotency runs for tenant requests")
        .to_string();
    let key = store_key(&tenant, &ctx.principal.actor(), &idempotency_key);
    let fingerprint = fingerprint(&ctx);
    let app = ctx.app.clone();
    let body_key = body_key(&app)?;
    let now = app.clock.epoch_seconds();

    let mut claim = Item::new();
    claim.insert(attr::PK.into(), key.pk.clone().into());
    claim.insert(attr::SK.into(), key.sk.clone().into());
    claim.insert(attr::ENTITY.into(), "idempotency".into());
    claim.insert(attr::VERSION.into(), 1.into());
    claim.insert("state".into(), "in_progress".into());
    claim.insert("fingerprint".into(), fingerprint.clone().into());
    claim.insert("locked_until".into(), (now + LOCK_SECS).into());
    claim.insert(attr::TTL.into(), (now + RETENTION_SECS).into());

    match app
        .table
        .put(claim, Some(Condition::AbsentOrExpired { now }))
        .await
    {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => {
            let existing =
                app.table.get(&key).await?.ok_or_else(|| {
                    ApiError::new(HttpCode::RequestInProgress, "retry the request")
                })?;
            if existing.get("fingerprint").and_then(Value::as_str) != Some(fingerprint.as_str()) {
                return Err(ApiError::new(
                    HttpCode::IdempotencyKeyReused,
                    "this Idempotency-Key was used with a different request",
                ));
            }
            if existing.get("state").and_then(Value::as_str) == Some("completed") {
                return Ok(replay(&body_key, &key, &existing));
            }
            let locked_until = existing
                .get("locked_until")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let version = existing
                .get(attr::VERSION)
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if locked_until > now {
                return Err(ApiError::new(
                    HttpCode::RequestInProgress,
                    "a request with this Idempotency-Key is still being processed",
                ));
            }
            // The first attempt died while holding the key: take it over, once.
            app.table
                .update(
                    &key,
                    Update::new()
                        .set("locked_until", now + LOCK_SECS)
                        .set(attr::VERSION, version + 1),
                    Some(Condition::VersionIs(version)),
                )
                .await
                .map_err(|_| {
                    ApiError::new(
                        HttpCode::RequestInProgress,
                        "a request with this Idempotency-Key is still being processed",
                    )
                })?;
        }
        Err(e) => return Err(e.into()),
    }

    let request_id = ctx.request_id.clone();
    let result = run_handler(ctx, handler).await;
    let (status, response) = match &result {
        Ok(response) => (response.status, response.clone()),
        Err(error) => (error.status, error.clone().into_response(&request_id)),
    };
    let remember = status < 500 && status != 409 && status != 429;
    let outcome = if remember {
        let headers: Vec<Value> = response
            .headers
            .iter()
            .filter(|(name, _)| REPLAYED_HEADERS.contains(&name.as_str()))
            .map(|(name, value)| json!([name, value]))
            .collect();
        app.table
            .update(
                &key,
                Update::new()
                    .set("state", "completed")
                    .set("status", status)
                    .set("headers", Value::Array(headers))
                    .set(
                        "body",
                        crate::sealed::seal(
                            &body_key,
                            &key.pk,
                            &String::from_utf8_lossy(&response.body),
                        ),
                    )
                    .remove("locked_until"),
                Some(Condition::Exists),
            )
            .await
            .map(|_| ())
    } else {
        app.table.delete(&key, None).await.map(|_| ())
    };
    if let Err(e) = outcome {
        // The request itself succeeded or failed on its own terms. A retry within the lock
        // answers 409; once the lock has passed, a retry takes the key over and runs again, as
        // it would after a crash.
        tracing::warn!(error = %e, "could not record the idempotent response");
    }
    result
}

fn body_key(app: &crate::app::App) -> Result<[u8; 32], ApiError> {
    Ok(app.config.key(Secret::Idempotency, "responses")?)
}

fn replay(body_key: &[u8; 32], key: &Key, stored: &Item) -> ApiResponse {
    let status = stored.get("status").and_then(Value::as_u64).unwrap_or(200) as u16;
    let body = stored
        .get("body")
        .and_then(Value::as_str)
        .and_then(|sealed| crate::sealed::open(body_key, &key.pk, sealed))
        .unwrap_or_default();
    let mut response = ApiResponse::new(status)
        .body(body)
        .header("idempotent-replayed", "true");
    for pair in stored
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(name), Some(value)) = (
            pair.get(0).and_then(Value::as_str),
            pair.get(1).and_then(Value::as_str),
        ) {
            response = response.header(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{EmbeddedApp, EmbeddedOptions};
    use crate::clock::{Clock, ManualClock};
    use crate::http::{ApiRequest, HandlerFuture};
    use crate::identity::{Principal, TenantId};
    use crate::store::{Index, Query};
    use std::sync::Arc;

    struct Fixture {
        app: Arc<crate::app::App>,
        clock: ManualClock,
        _files: tempfile::TempDir,
    }

    fn fixture() -> Fixture {
        let clock = ManualClock::starting_now();
        let files = tempfile::tempdir().unwrap();
        let opened = EmbeddedApp::open(EmbeddedOptions {
            database: None,
            files: files.path().to_owned(),
            base_url: "http://127.0.0.1:9".into(),
            secret: vec![1; 32],
            staff_token_key: None,
            clock: Arc::new(clock.clone()),
        })
        .unwrap();
        Fixture {
            app: opened.app,
            clock,
            _files: files,
        }
    }

    fn ctx(f: &Fixture, tenant: &str, user: &str, key: Option<&str>, body: &str) -> Ctx {
        let mut headers = http::HeaderMap::new();
        if let Some(key) = key {
            headers.insert(HEADER, key.parse().unwrap());
        }
        Ctx {
            app: f.app.clone(),
            req: ApiRequest {
                method: "POST".into(),
                path: "/admin/things".into(),
                query: String::new(),
                headers,
                body: bytes::Bytes::from(body.to_owned()),
                source_ip: None,
                platform_request_id: None,
            },
            principal: Principal::Staff {
                tenant: TenantId::trusted(tenant),
                user_id: user.into(),
                session_id: "ses_1".into(),
                permissions: vec!["*".into()],
            },
            params: Vec::new(),
            request_id: "req_test".into(),
        }
    }

    /// Creates a thing with a fresh id, so a second execution would be visible as a second item.
    fn create(ctx: Ctx) -> HandlerFuture {
        Box::pin(async move {
            let id = ctx.app.ids.new_id("thing");
            let mut item = Item::new();
            item.insert("pk".into(), "T#co_1#THINGS".into());
            item.insert("sk".into(), id.clone().into());
            ctx.app.table.put(item, None).await?;
            Ok(ApiResponse::created(
                &format!("/admin/things/{id}"),
                &json!({"id": id}),
            ))
        })
    }

    fn fail(_ctx: Ctx) -> HandlerFuture {
        Box::pin(async move { Err(ApiError::unavailable()) })
    }

    async fn things(f: &Fixture) -> usize {
        f.app
            .table
            .query(&Query::partition(Index::Table, "T#co_1#THINGS"))
            .await
            .unwrap()
            .items
            .len()
    }

    #[tokio::test]
    async fn a_retry_replays_the_first_response() {
        let f = fixture();
        let first = run(ctx(&f, "co_1", "usr_1", Some("k1"), "{\"a\":1}"), create)
            .await
            .unwrap();
        let again = run(ctx(&f, "co_1", "usr_1", Some("k1"), "{\"a\":1}"), create)
            .await
            .unwrap();
        assert_eq!(first.status, 201);
        assert_eq!(again.status, 201);
        assert_eq!(again.body, first.body);
        assert_eq!(
            again.header_value("location"),
            first.header_value("location")
        );
        assert_eq!(again.header_value("idempotent-replayed"), Some("true"));
        assert_eq!(things(&f).await, 1);
    }

    #[tokio::test]
    async fn the_same_key_with_another_body_is_refused() {
        let f = fixture();
        run(ctx(&f, "co_1", "usr_1", Some("k1"), "{\"a\":1}"), create)
            .await
            .unwrap();
        let reused = run(ctx(&f, "co_1", "usr_1", Some("k1"), "{\"a\":2}"), create)
            .await
            .unwrap_err();
        assert_eq!(reused.status, 422);
        assert_eq!(reused.code, "idempotency_key_reused");
        assert_eq!(things(&f).await, 1);
    }

    #[tokio::test]
    async fn keys_are_scoped_to_tenant_and_caller() {
        let f = fixture();
        for (tenant, user) in [("co_1", "usr_1"), ("co_1", "usr_2"), ("co_2", "usr_1")] {
            let response = run(ctx(&f, tenant, user, Some("k1"), "{}"), create)
                .await
                .unwrap();
            assert!(response.header_value("idempotent-replayed").is_none());
        }
        assert_eq!(things(&f).await, 3);
    }

    #[tokio::test]
    async fn a_request_in_progress_answers_409_until_its_lock_expires() {
        let f = fixture();
        let c = ctx(&f, "co_1", "usr_1", Some("k1"), "{}");
        let key = store_key("co_1", "usr_1", "k1");
        let now = f.clock.epoch_seconds();
        let mut claim = Item::new();
        claim.insert("pk".into(), key.pk.clone().into());
        claim.insert("sk".into(), key.sk.clone().into());
        claim.insert("version".into(), 1.into());
        claim.insert("state".into(), "in_progress".into());
        claim.insert("fingerprint".into(), fingerprint(&c).into());
        claim.insert("locked_until".into(), (now + LOCK_SECS).into());
        claim.insert("ttl".into(), (now + RETENTION_SECS).into());
        f.app.table.put(claim, None).await.unwrap();
        let busy = run(c, create).await.unwrap_err();
        assert_eq!(busy.status, 409);
        assert_eq!(busy.code, "request_in_progress");
        assert_eq!(things(&f).await, 0);

        // The first attempt died: after the lock, a retry takes over and runs once.
        f.clock
            .advance(std::time::Duration::from_secs(LOCK_SECS as u64 + 1));
        let taken = run(ctx(&f, "co_1", "usr_1", Some("k1"), "{}"), create)
            .await
            .unwrap();
        assert_eq!(taken.status, 201);
        assert_eq!(things(&f).await, 1);
    }

    #[tokio::test]
    async fn server_errors_release_the_key_and_keys_expire() {
        let f = fixture();
        let failed = run(ctx(&f, "co_1", "usr_1", Some("k1"), "{}"), fail)
            .await
            .unwrap_err();
        assert_eq!(failed.status, 503);
        let retried = run(ctx(&f, "co_1", "usr_1", Some("k1"), "{}"), create)
            .await
            .unwrap();
        assert_eq!(retried.status, 201);
        f.clock
            .advance(std::time::Duration::from_secs(RETENTION_SECS as u64 + 1));
        let fresh = run(ctx(&f, "co_1", "usr_1", Some("k1"), "{}"), create)
            .await
            .unwrap();
        assert!(fresh.header_value("idempotent-replayed").is_none());
        assert_eq!(things(&f).await, 2);
    }

    #[tokio::test]
    async fn invalid_keys_are_refused() {
        let f = fixture();
        let long = "k".repeat(256);
        for key in ["has space", long.as_str(), "tab\there"] {
            let mut c = ctx(&f, "co_1", "usr_1", None, "{}");
            c.req
                .headers
                .insert(HEADER, http::HeaderValue::from_str(key).unwrap());
            let err = run(c, create).await.unwrap_err();
            assert_eq!(err.code, "invalid_idempotency_key", "{key}");
        }
        // Not ASCII: refused, not taken for no key (which would run the change unguarded).
        let mut c = ctx(&f, "co_1", "usr_1", None, "{}");
        c.req.headers.insert(
            HEADER,
            http::HeaderValue::from_bytes("héllo".as_bytes()).unwrap(),
        );
        let err = run(c, create).await.unwrap_err();
        assert_eq!(err.code, "invalid_idempotency_key");
        assert_eq!(things(&f).await, 0);
    }
}
