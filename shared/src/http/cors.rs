//! Cross-origin requests from browsers (storefronts on their own domains, admin front ends).
//!
//! A preflight (`OPTIONS`) carries no credentials, so it cannot name a tenant: it is answered the
//! same for every path and origin, and says which methods and headers the API takes. The real
//! request then decides: storefront routes refuse an `Origin` outside the company's
//! `security.allowed_origins` (403 `origin_not_allowed`, without CORS headers, so the browser
//! also withholds the answer); every other answer to a request with an `Origin` names that origin
//! in `Access-Control-Allow-Origin`. Credentials travel in headers, never in cookies, so echoing
//! the origin grants nothing a script could not already send.
//!
//! The admin API is for the deployment's own back-office pages only: requests and preflights to
//! `/admin` from an origin outside `COMMERCE_ADMIN_ORIGINS` are refused in the pipeline (403
//! `origin_not_allowed`, no CORS headers).

use super::{Access, ApiResponse, AwsAccess, Ctx, HandlerFuture, Method, Route, RouteDoc};

/// Request headers a browser may send.
const ALLOW_HEADERS: &str =
    "authorization, content-type, idempotency-key, if-match, x-api-key, x-request-id";
/// Response headers a script may read.
const EXPOSE_HEADERS: &str = "etag, location, retry-after, x-request-id, server-timing";
/// How long a browser may reuse a preflight answer (seconds).
const MAX_AGE: &str = "600";

/// The answer to every preflight.
pub fn preflight(origin: Option<&str>) -> ApiResponse {
    ApiResponse::no_content()
        .header("access-control-allow-origin", origin.unwrap_or("*"))
        .header(
            "access-control-allow-methods",
            "GET, HEAD, POST, PUT, PATCH, DELETE",
        )
        .header("access-control-allow-headers", ALLOW_HEADERS)
        .header("access-control-max-age", MAX_AGE)
        .header("vary", "origin")
        .header("cache-control", "public, max-age=600")
}

/// Adds the CORS headers of an answer to a request from `origin`.
pub fn allow(response: ApiResponse, origin: &str) -> ApiResponse {
    response
        .header("access-control-allow-origin", origin)
        .header("access-control-expose-headers", EXPOSE_HEADERS)
        .header("vary", "origin")
}

fn handle(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move { Ok(preflight(ctx.req.header("origin"))) })
}

/// Every preflight. The pipeline answers `OPTIONS` before routing, wherever it runs; this
/// declaration gives the request a function in AWS.
pub static PREFLIGHT: Route = Route {
    name: "cors_preflight",
    method: Method::Options,
    path: "/{proxy+}",
    access: Access::Public,
    summary: "CORS preflight for every path",
    tag: "system",
    aws: AwsAccess::NONE,
    handler: handle,
    doc: RouteDoc::new,
};
