//! `/admin/shipping/zones`: the company's shipping zones and their methods, for staff.

use super::errors::ShippingCode;
use super::model::Zone;
use super::service::{self, NewZone, ZoneChange};
use super::store;
use crate::auth::caller::staff;
use crate::http::cursor::Window;
use crate::http::{
    Access, ApiResponse, AwsAccess, Ctx, HandlerFuture, HttpCode, Method, Route, RouteDoc,
};

const TAG: &str = "shipping";

fn create_zone(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewZone = ctx.req.json()?;
        let zone = service::create(&ctx.app, tenant, user, input).await?;
        let location = format!("/admin/shipping/zones/{}", zone.id);
        Ok(ApiResponse::created(&location, &zone).with_etag(zone.version))
    })
}

pub static CREATE_SHIPPING_ZONE: Route = Route {
    name: "create_shipping_zone",
    method: Method::Post,
    path: "/admin/shipping/zones",
    access: Access::Staff("shipping.write"),
    summary: "Create a shipping zone (countries, regions or postcodes) with its methods",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create_zone,
    doc: || {
        RouteDoc::new()
            .request::<NewZone>()
            .response::<Zone>(201, "The zone")
            .error(ShippingCode::TooManyZones)
    },
};

fn list_zones(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let mut window = Window::of(&ctx, tenant, "shipping_zones")?;
        let (data, last) = store::zones(tenant)
            .page::<Zone>(ctx.app.table.as_ref(), window.limit, window.start())
            .await?;
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static LIST_SHIPPING_ZONES: Route = Route {
    name: "list_shipping_zones",
    method: Method::Get,
    path: "/admin/shipping/zones",
    access: Access::Staff("shipping.read"),
    summary: "The company's shipping zones with their methods, oldest first",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list_zones,
    doc: || {
        RouteDoc::new()
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<Zone>("A page of zones, oldest first")
    },
};

fn get_zone(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let zone = service::get(&ctx.app, tenant, ctx.param("id")).await?;
        Ok(ApiResponse::json(200, &zone).with_etag(zone.version))
    })
}

pub static GET_SHIPPING_ZONE: Route = Route {
    name: "get_shipping_zone",
    method: Method::Get,
    path: "/admin/shipping/zones/{id}",
    access: Access::Staff("shipping.read"),
    summary: "One shipping zone with its methods",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: get_zone,
    doc: || {
        RouteDoc::new()
            .response::<Zone>(200, "The zone")
            .error(HttpCode::NotFound)
    },
};

fn patch_zone(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: ZoneChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let zone =
            service::change(&ctx.app, tenant, user, ctx.param("id"), input, if_match).await?;
        Ok(ApiResponse::json(200, &zone).with_etag(zone.version))
    })
}

pub static PATCH_SHIPPING_ZONE: Route = Route {
    name: "patch_shipping_zone",
    method: Method::Patch,
    path: "/admin/shipping/zones/{id}",
    access: Access::Staff("shipping.write"),
    summary: "Change a shipping zone or its methods (If-Match names its version)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch_zone,
    doc: || {
        RouteDoc::new()
            .request::<ZoneChange>()
            .response::<Zone>(200, "The changed zone")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete_zone(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let if_match = ctx.req.if_match()?;
        service::delete(&ctx.app, tenant, user, ctx.param("id"), if_match).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_SHIPPING_ZONE: Route = Route {
    name: "delete_shipping_zone",
    method: Method::Delete,
    path: "/admin/shipping/zones/{id}",
    access: Access::Staff("shipping.write"),
    summary: "Delete a shipping zone (carts that chose one of its methods lose it)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete_zone,
    doc: || {
        RouteDoc::new()
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};
