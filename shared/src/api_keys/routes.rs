//! `/admin/api-keys`: publishable storefront keys, managed by staff with `api_keys.manage`.

use super::model::{ApiKey, RevealedApiKey};
use super::service::{self, ApiKeyChange, NewApiKey};
use super::store;
use crate::api_keys::errors::ApiKeyCode;
use crate::auth::caller::staff;
use crate::http::cursor::Window;
use crate::http::HttpCode;
use crate::http::{Access, ApiResponse, AwsAccess, Ctx, HandlerFuture, Method, Route, RouteDoc};

const PERMISSION: &str = "api_keys.manage";
const TAG: &str = "api keys";

fn create(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewApiKey = ctx.req.json()?;
        let key = service::create(&ctx.app, tenant, user, input).await?;
        Ok(
            ApiResponse::created(&format!("/admin/api-keys/{}", key.key.id), &key)
                .with_etag(key.key.version),
        )
    })
}

pub static CREATE_API_KEY: Route = Route {
    name: "create_api_key",
    method: Method::Post,
    path: "/admin/api-keys",
    access: Access::Staff(PERMISSION),
    summary: "Create a publishable storefront key (the secret is shown only in this answer)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create,
    doc: || {
        RouteDoc::new()
            .error(ApiKeyCode::TooManyKeys)
            .request::<NewApiKey>()
            .response::<RevealedApiKey>(201, "The key with its secret, shown once")
    },
};

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let mut window = Window::of(&ctx, tenant, "api-keys")?;
        let (keys, last) =
            store::page(ctx.app.table.as_ref(), tenant, window.limit, window.start()).await?;
        let data: Vec<ApiKey> = keys.into_iter().map(|k| k.key).collect();
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static LIST_API_KEYS: Route = Route {
    name: "list_api_keys",
    method: Method::Get,
    path: "/admin/api-keys",
    access: Access::Staff(PERMISSION),
    summary: "The company's API keys, active and revoked",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list,
    doc: || {
        RouteDoc::new()
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<ApiKey>("A page of keys, oldest first")
    },
};

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let key = service::load(&ctx.app, tenant, ctx.param("id")).await?;
        Ok(ApiResponse::json(200, &key.key).with_etag(key.key.version))
    })
}

pub static GET_API_KEY: Route = Route {
    name: "get_api_key",
    method: Method::Get,
    path: "/admin/api-keys/{id}",
    access: Access::Staff(PERMISSION),
    summary: "One API key",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: get,
    doc: || {
        RouteDoc::new()
            .response::<ApiKey>(200, "The key, without its secret")
            .error(HttpCode::NotFound)
    },
};

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: ApiKeyChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let key = service::change(&ctx.app, tenant, user, ctx.param("id"), input, if_match).await?;
        Ok(ApiResponse::json(200, &key).with_etag(key.version))
    })
}

pub static PATCH_API_KEY: Route = Route {
    name: "patch_api_key",
    method: Method::Patch,
    path: "/admin/api-keys/{id}",
    access: Access::Staff(PERMISSION),
    summary: "Rename a key or change its scopes",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch,
    doc: || {
        RouteDoc::new()
            .request::<ApiKeyChange>()
            .response::<ApiKey>(200, "The changed key")
            .error(HttpCode::NotFound)
            .error(ApiKeyCode::KeyRevoked)
            .error(HttpCode::PreconditionFailed)
    },
};

fn rotate(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let if_match = ctx.req.if_match()?;
        let key = service::rotate(&ctx.app, tenant, user, ctx.param("id"), if_match).await?;
        Ok(ApiResponse::json(200, &key).with_etag(key.key.version))
    })
}

pub static ROTATE_API_KEY: Route = Route {
    name: "rotate_api_key",
    method: Method::Post,
    path: "/admin/api-keys/{id}/rotate",
    access: Access::Staff(PERMISSION),
    summary: "Give a key a new secret; the old secret stops working within 30 seconds",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: rotate,
    doc: || {
        RouteDoc::new()
            .response::<RevealedApiKey>(200, "The key with its new secret, shown once")
            .error(HttpCode::NotFound)
            .error(ApiKeyCode::KeyRevoked)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let if_match = ctx.req.if_match()?;
        service::revoke(&ctx.app, tenant, user, ctx.param("id"), if_match).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_API_KEY: Route = Route {
    name: "delete_api_key",
    method: Method::Delete,
    path: "/admin/api-keys/{id}",
    access: Access::Staff(PERMISSION),
    summary: "Revoke a key; it stops working within 30 seconds",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Revoked (the record stays, with status `revoked`)")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};
