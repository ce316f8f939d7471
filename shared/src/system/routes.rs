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

fn openapi(_ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let document = crate::http::openapi::document(crate::routes::ALL);
        Ok(ApiResponse::json(200, &document).header("cache-control", "public, max-age=300"))
    })
}

pub static OPENAPI: Route = Route {
    name: "openapi",
    method: Method::Get,
    path: "/openapi.json",
    access: Access::Public,
    summary: "The OpenAPI 3.1 document of every route",
    tag: "system",
    aws: AwsAccess::NONE,
    handler: openapi,
    doc: || RouteDoc::new().response::<OpenApiDocument>(200, "The OpenAPI document"),
};
