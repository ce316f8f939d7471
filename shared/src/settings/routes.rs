//! `/admin/settings`: every group, one group, its changes, and JSON merge patches.

use super::groups::Group;
use super::service::{self, GroupView};
use super::store::{self, Change};
use crate::auth::caller::staff;
use crate::http::cursor::Window;
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, HandlerFuture, Method, Route, RouteDoc,
};
use crate::secrets::Secret;
use serde_json::Value;

fn group(ctx: &Ctx) -> Result<Group, ApiError> {
    Group::parse(ctx.param("group")).ok_or_else(|| ApiError::not_found("settings group"))
}

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let groups = service::read_all(&ctx.app, tenant).await?;
        let body: serde_json::Map<String, Value> = groups
            .into_iter()
            .map(|g| {
                (
                    g.group.clone(),
                    serde_json::to_value(&g).expect("views serialise"),
                )
            })
            .collect();
        Ok(ApiResponse::json(200, &body))
    })
}

pub static LIST_SETTINGS: Route = Route {
    name: "list_settings",
    method: Method::Get,
    path: "/admin/settings",
    access: Access::Staff("settings.read"),
    summary: "Every settings group with its values, version and ETag (secrets masked)",
    tag: "settings",
    aws: AwsAccess::READ,
    handler: list,
    doc: || RouteDoc::new().response::<AllSettings>(200, "Every group, keyed by its name"),
};

/// Every group, keyed by name (for the OpenAPI document).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AllSettings {
    pub general: GroupView,
    pub security: GroupView,
    pub payments: GroupView,
    pub notifications: GroupView,
    pub shipping: GroupView,
    pub tax: GroupView,
    pub checkout: GroupView,
}

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let view = service::read(&ctx.app, tenant, group(&ctx)?).await?;
        Ok(ApiResponse::json(200, &view).with_etag(view.version))
    })
}

pub static GET_SETTINGS: Route = Route {
    name: "get_settings_group",
    method: Method::Get,
    path: "/admin/settings/{group}",
    access: Access::Staff("settings.read"),
    summary: "One settings group",
    tag: "settings",
    aws: AwsAccess::READ,
    handler: get,
    doc: || {
        RouteDoc::new()
            .description(
                "Groups: general, security, payments, notifications, shipping, tax, checkout.",
            )
            .response::<GroupView>(200, "The group")
            .error(HttpCode::NotFound)
    },
};

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, actor, _) = staff(&ctx)?;
        let group = group(&ctx)?;
        let body: Value = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let view = service::patch(&ctx.app, tenant, actor, group, body, if_match).await?;
        Ok(ApiResponse::json(200, &view).with_etag(view.version))
    })
}

pub static PATCH_SETTINGS: Route = Route {
    name: "update_settings_group",
    method: Method::Patch,
    path: "/admin/settings/{group}",
    access: Access::Staff("settings.{group}.write"),
    summary: "Change a settings group with a JSON merge patch",
    tag: "settings",
    aws: AwsAccess {
        secrets: &[Secret::Settings],
        ..AwsAccess::WRITE
    },
    handler: patch,
    doc: || {
        RouteDoc::new()
            .description(
                "RFC 7396 merge patch: fields given replace, `null` resets a field to its default, \
                 absent fields keep their value. Secrets take a string to set and `null` to remove; \
                 left out, they keep their value. Each group needs its own permission.",
            )
            .request::<super::groups::GroupValues>()
            .response::<GroupView>(200, "The changed group")
            .error(HttpCode::NotFound).error(HttpCode::PreconditionFailed)
    },
};

fn history(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let group = group(&ctx)?;
        let scope = format!("settings-history:{}", group.name());
        let mut window = Window::of(&ctx, tenant, &scope)?;
        let (data, last): (Vec<Change>, _) = store::history(
            ctx.app.table.as_ref(),
            tenant,
            group.name(),
            window.limit,
            window.start(),
        )
        .await?;
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static SETTINGS_HISTORY: Route = Route {
    name: "list_settings_history",
    method: Method::Get,
    path: "/admin/settings/{group}/history",
    access: Access::Staff("settings.read"),
    summary: "Who changed a group, what and when, newest first",
    tag: "settings",
    aws: AwsAccess::READ_LIST,
    handler: history,
    doc: || {
        RouteDoc::new()
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<Change>("A page of changes")
            .error(HttpCode::NotFound)
    },
};

fn store_info(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = crate::auth::caller::storefront(&ctx)?;
        let info = service::storefront_info(&ctx.app, tenant).await?;
        Ok(ApiResponse::json(200, &info))
    })
}

pub static STORE_INFO: Route = Route {
    name: "store_info",
    method: Method::Get,
    path: "/store/info",
    access: Access::StoreKey("store.read"),
    summary: "What a storefront needs to know of the shop: name, currencies, locales, units",
    tag: "storefront",
    aws: crate::api_keys::STORE_READ,
    handler: store_info,
    doc: || RouteDoc::new().response::<service::StorefrontInfo>(200, "The shop's public settings"),
};
