//! `Idempotency-Key` on POST: the first response to a key is stored for 24 hours and replayed to
//! a retry with the same body; the same key with a different body answers 422, and a retry while
//! the first request is still running answers 409.
//!
//! Keys are scoped to the tenant and the caller. A request that fails with a server error, a
//! conflict or a rate limit releases its key so that a retry runs again.

use super::dispatch::run_handler;
use super::route::Handler;
use super::{ApiError, ApiResponse, Ctx};
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
    for part in [ctx.req.method.as_bytes(), ctx.req.path.as_bytes(), ctx.req.query.as_bytes()] {
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
    let Some(idempotency_key) = ctx.req.header(HEADER).map(str::to_owned) else {
        return run_handler(ctx, handler).await;
    };
    if !valid(&idempotency_key) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key is 1 to 255 visible ASCII characters",
        ));
    }
    let tenant = ctx
        .principal
        .tenant()
        .expect("idempotency runs for tenant requests")
        .to_string();
    let key = store_key(&tenant, &ctx.principal.actor(), &idempotency_key);
    let fingerprint = fingerprint(&ctx);
    let app = ctx.app.clone();
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
            let existing = app.table.get(&key).await?.ok_or_else(|| {
                ApiError::conflict("request_in_progress", "retry the request")
            })?;
            if existing.get("fingerprint").and_then(Value::as_str) != Some(fingerprint.as_str()) {
                return Err(ApiError::unprocessable(
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request",
                ));
            }
            if existing.get("state").and_then(Value::as_str) == Some("completed") {
                return Ok(replay(&existing));
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
                return Err(ApiError::conflict(
                    "request_in_progress",
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
                    ApiError::conflict(
                        "request_in_progress",
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
                    .set("body", String::from_utf8_lossy(&response.body).into_owned())
                    .remove("locked_until"),
                Some(Condition::Exists),
            )
            .await
            .map(|_| ())
    } else {
        app.table.delete(&key, None).await.map(|_| ())
    };
    if let Err(e) = outcome {
        // The request itself succeeded or failed on its own terms; a retry will find the key
        // locked until it expires, which is safe (409), never a double execution.
        tracing::warn!(error = %e, "could not record the idempotent response");
    }
    result
}

fn replay(stored: &Item) -> ApiResponse {
    let status = stored
        .get("status")
        .and_then(Value::as_u64)
        .unwrap_or(200) as u16;
    let mut response = ApiResponse::new(status)
        .body(
            stored
                .get("body")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        )
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
