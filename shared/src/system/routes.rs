//! `GET /health` and `GET /openapi.json`.

use crate::http::{Access, ApiResponse, AwsAccess, Ctx, HandlerFuture, Method, Route, RouteDoc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the function answers.
    pub status: &'static str,
    pub version: &'static str,
}

fn health(_ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        Ok(ApiResponse::json(
            200,
            &Health {
                status: "ok",
                version: env!("CARGO_PKG_VERSION"),
            },
        ))
    })
}

pub static HEALTH: Route = Route {
    name: "health",
    method: Method::Get,
    path: "/health",
    access: Access::Public,
    summary: "Liveness check",
    tag: "system",
    aws: AwsAccess::NONE,
    handler: health,
    doc: || RouteDoc::new().response::<Health>(200, "The API is up"),
};

/// An OpenAPI 3.1 document (described loosely: it is the document this route serves).
#[derive(Serialize, ToSchema)]
pub struct OpenApiDocument {
    pub openapi: String,
}

pub const CACHE_CONTROL: &str = "public, max-age=300";

/// The OpenAPI route serving the published document; the route table's `routes::OPENAPI` is the
/// same route serving the document it builds from the table.
pub const OPENAPI_ROUTE: Route = Route {
    name: "openapi",
    method: Method::Get,
    path: "/openapi.json",
    access: Access::Public,
    summary: "The OpenAPI 3.1 document of every route",
    tag: "system",
    aws: AwsAccess::NONE,
    handler: published_openapi,
    doc: || RouteDoc::new().response::<OpenApiDocument>(200, "The OpenAPI document"),
};

/// The same route as the `openapi` function serves it: the document `cargo xtask codegen` wrote
/// to `docs/openapi.json`, compiled in and handed over by [`publish_openapi`]. Building the
/// document needs every route's description, and with it every handler; serving the generated
/// copy keeps the function as small as the others. The drift test keeps the copy current.
pub static OPENAPI_PUBLISHED: Route = OPENAPI_ROUTE;

static PUBLISHED: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Sets the document [`OPENAPI_PUBLISHED`] serves; the first call wins.
pub fn publish_openapi(document: &'static str) {
    let _ = PUBLISHED.set(document);
}

fn published_openapi(_ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let Some(document) = PUBLISHED.get() else {
            tracing::error!("no OpenAPI document was published");
            return Err(crate::http::ApiError::internal());
        };
        Ok(ApiResponse::new(200)
            .header("content-type", "application/json")
            .header("cache-control", CACHE_CONTROL)
            .body(*document))
    })
}
