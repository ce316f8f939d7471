//! The pipeline every request goes through, in the sandbox and in Lambda alike:
//! request id → route match → body limits → authentication → idempotency → handler (panics
//! contained) → response headers → one JSON log line.

use super::idempotency;
use super::route::{Matched, Router};
use super::{ApiError, ApiRequest, ApiResponse, Ctx, MAX_BODY_BYTES};
use crate::app::App;
use crate::http::HttpCode;
use crate::observe::{self, Counters};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

/// Answers one request. Never fails: every error becomes a problem+json response.
pub async fn dispatch(app: &Arc<App>, router: &Router, req: ApiRequest) -> ApiResponse {
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method.clone();
    let path = req.path.clone();
    let origin = req.header("origin").map(str::to_owned);
    let ((response, route, tenant), counters) =
        observe::measure(handle(app, router, req, &request_id)).await;
    let elapsed = started.elapsed();
    // Store-call counts on sign-in and password reset would tell an unknown company or email
    // from a wrong password: timing is shown only to callers signed in as a person (staff or
    // customer), never on routes anyone (or any holder of a publishable key) may call.
    let signed_in = route.is_some_and(|r| {
        matches!(
            r.access,
            super::Access::Staff(_) | super::Access::StaffSelf | super::Access::StoreCustomer(_)
        )
    });
    let mut response = finish(app, response, &request_id, &counters, elapsed, signed_in);
    if method == "HEAD" {
        // GET's headers include the length of the body a GET would carry (RFC 9110, 9.3.2).
        let length = response.body.len();
        response.body.clear();
        response
            .headers
            .retain(|(name, _)| name != "content-length");
        response = response.header("content-length", length.to_string());
    }
    if let Some(origin) = origin.filter(|_| method != "OPTIONS") {
        if !refused_origin(&response) {
            response = super::cors::allow(response, &origin);
        }
    }
    let route = route.map(|r| r.name);
    tracing::info!(
        request_id = %request_id,
        method = %method,
        path = %path,
        route = route.unwrap_or("-"),
        tenant = tenant.as_deref().unwrap_or("-"),
        status = response.status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        store_calls = counters.store_calls,
        store_ms = counters.store_time.as_secs_f64() * 1000.0,
        capacity_units = counters.capacity_units,
        write_units = counters.write_units,
        queue_calls = counters.queue_calls,
        blob_calls = counters.blob_calls,
        "request"
    );
    response
}

async fn handle(
    app: &Arc<App>,
    router: &Router,
    req: ApiRequest,
    request_id: &str,
) -> (ApiResponse, Option<&'static super::Route>, Option<String>) {
    if let Some(refused) = refuse_admin_origin(app, &req) {
        return (refused.into_response(request_id), None, None);
    }
    if req.method == "OPTIONS" {
        return (super::cors::preflight(req.header("origin")), None, None);
    }
    // HEAD is served wherever GET is: the GET route runs and its body is dropped on the way out.
    let lookup = if req.method == "HEAD" {
        "GET"
    } else {
        req.method.as_str()
    };
    let (route, params) = match router.find(lookup, &req.path) {
        Matched::Found(route, params) => (route, params),
        Matched::MethodNotAllowed(allowed) => {
            let mut allow: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            if allowed.contains(&super::Method::Get) {
                allow.push("HEAD");
            }
            let error = ApiError::new(
                HttpCode::MethodNotAllowed,
                "this path does not accept that method",
            )
            .with_header("allow", allow.join(", "));
            return (error.into_response(request_id), None, None);
        }
        Matched::NotFound => {
            let error = ApiError::new(HttpCode::RouteNotFound, "no route matches this path");
            return (error.into_response(request_id), None, None);
        }
    };
    // Boxed: authentication and handler together make a large future, and the scope nests it.
    let outcome = crate::access::within(
        route.declared(),
        Box::pin(async {
            check_body(route.method.has_body(), &req)?;
            let principal = (router.authenticate)(app, route.access, &req, &params).await?;
            let tenant = principal.tenant().map(|t| t.to_string());
            let ctx = Ctx {
                app: app.clone(),
                req,
                principal,
                params,
                request_id: request_id.to_owned(),
            };
            let idempotent = route.replays_idempotently() && ctx.principal.tenant().is_some();
            let response = if idempotent {
                idempotency::run(ctx, route.handler).await
            } else {
                run_handler(ctx, route.handler).await
            };
            Ok::<_, ApiError>((response, tenant))
        }),
    )
    .await;
    match outcome {
        Ok((Ok(response), tenant)) => (response, Some(route), tenant),
        Ok((Err(error), tenant)) => (error.into_response(request_id), Some(route), tenant),
        Err(error) => (error.into_response(request_id), Some(route), None),
    }
}

/// The admin API answers browsers only from the deployment's configured origins
/// (`COMMERCE_ADMIN_ORIGINS`), preflights included: a page elsewhere gets 403
/// `origin_not_allowed` without CORS headers, before any credential is looked at. Storefront
/// routes check each company's own list once the key names the company.
fn refuse_admin_origin(app: &App, req: &ApiRequest) -> Option<ApiError> {
    let origin = req.header("origin")?;
    let admin = req.path == "/admin" || req.path.starts_with("/admin/");
    (admin && !app.config.admin_origin_allowed(origin)).then(|| {
        ApiError::new(
            HttpCode::OriginNotAllowed,
            "this origin is not allowed to call the admin API",
        )
    })
}

/// Whether the answer refuses the request's origin (and so must not name it as allowed).
fn refused_origin(response: &ApiResponse) -> bool {
    response.status == 403
        && serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|body| body.get("code").cloned())
            .is_some_and(|code| code == HttpCode::OriginNotAllowed.code().name)
}

/// Runs a handler with panics contained: a panic becomes a 500, never a hung connection.
pub(crate) async fn run_handler(
    ctx: Ctx,
    handler: super::route::Handler,
) -> Result<ApiResponse, ApiError> {
    match AssertUnwindSafe(handler(ctx)).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(panic = %message, "handler panicked");
            Err(ApiError::internal())
        }
    }
}

fn check_body(has_body: bool, req: &ApiRequest) -> Result<(), ApiError> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            HttpCode::BodyTooLarge,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    if has_body && !req.body.is_empty() {
        let content_type = req.header("content-type").unwrap_or("");
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if media != "application/json"
            && !(media.starts_with("application/") && media.ends_with("+json"))
        {
            return Err(ApiError::new(
                HttpCode::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
    }
    Ok(())
}

/// The caller's `x-request-id` when it is safe to echo, else the platform's, else a new one.
fn request_id(req: &ApiRequest) -> String {
    let safe = |id: &str| {
        !id.is_empty()
            && id.len() <= 128
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
    };
    req.header("x-request-id")
        .filter(|id| safe(id))
        .map(str::to_owned)
        .or_else(|| req.platform_request_id.clone().filter(|id| safe(id)))
        .unwrap_or_else(|| format!("req_{}", ulid::Ulid::new()))
}

fn finish(
    app: &App,
    mut response: ApiResponse,
    request_id: &str,
    counters: &Counters,
    elapsed: std::time::Duration,
    show_timing: bool,
) -> ApiResponse {
    response.headers.retain(|(name, _)| name != "x-request-id");
    response = response.header("x-request-id", request_id);
    if app.config.server_timing && show_timing {
        response = response.header(
            "server-timing",
            format!(
                "store;desc=\"{} calls\";dur={:.3}, total;dur={:.3}",
                counters.store_calls,
                counters.store_time.as_secs_f64() * 1000.0,
                elapsed.as_secs_f64() * 1000.0
            ),
        );
    }
    if response.header_value("cache-control").is_none() {
        response = response.header("cache-control", "no-store");
    }
    response
}
