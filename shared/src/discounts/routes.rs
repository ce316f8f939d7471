//! `/admin/discounts`: the company's discounts and their codes, for staff.

use super::errors::DiscountCode as Code;
use super::model::{CodeView, Discount, DiscountMethod, DiscountStatus, DiscountView};
use super::service::{self, CreatedCodes, DiscountChange, NewCodes, NewDiscount};
use super::store;
use crate::auth::caller::staff;
use crate::http::cursor::Window;
use crate::http::{
    Access, ApiResponse, AwsAccess, Ctx, HandlerFuture, HttpCode, Method, Route, RouteDoc,
};
use serde::Deserialize;

const TAG: &str = "discounts";

fn create_discount(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewDiscount = ctx.req.json()?;
        let discount = service::create(&ctx.app, tenant, user, input).await?;
        let location = format!("/admin/discounts/{}", discount.id);
        let view = service::view(&ctx.app, tenant, discount).await?;
        let version = view.discount.version;
        Ok(ApiResponse::created(&location, &view).with_etag(version))
    })
}

pub static CREATE_DISCOUNT: Route = Route {
    name: "create_discount",
    method: Method::Post,
    path: "/admin/discounts",
    access: Access::Staff("discounts.write"),
    summary: "Create a discount: automatic, or applied by codes",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create_discount,
    doc: || {
        RouteDoc::new()
            .request::<NewDiscount>()
            .response::<DiscountView>(201, "The discount")
            .error(Code::TooManyDiscounts)
            .error(Code::CodeTaken)
    },
};

#[derive(Debug, Deserialize)]
struct DiscountFilter {
    method: Option<DiscountMethod>,
    status: Option<DiscountStatus>,
}

fn list_discounts(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let filter: DiscountFilter = ctx.req.query_params()?;
        let mut window = Window::of(&ctx, tenant, "discounts")?;
        let (discounts, last) = store::discounts(tenant)
            .page::<Discount>(ctx.app.table.as_ref(), window.limit, window.start())
            .await?;
        let now = ctx.app.clock.epoch_seconds();
        let kept: Vec<Discount> = discounts
            .into_iter()
            .filter(|d| filter.method.is_none_or(|m| m == d.method))
            .filter(|d| filter.status.is_none_or(|s| s == service::status(d, now)))
            .collect();
        let data = service::views(&ctx.app, tenant, kept).await?;
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static LIST_DISCOUNTS: Route = Route {
    name: "list_discounts",
    method: Method::Get,
    path: "/admin/discounts",
    access: Access::Staff("discounts.read"),
    summary: "The company's discounts, oldest first",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list_discounts,
    doc: || {
        RouteDoc::new()
            .query("method", "Only `automatic` or only `code` discounts", false)
            .query(
                "status",
                "Only discounts `live`, `scheduled`, `expired` or `disabled`",
                false,
            )
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<DiscountView>(
                "A page of discounts, oldest first (filters apply to the page, which may then be \
                 short: follow next_cursor)",
            )
    },
};

fn get_discount(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let discount = service::get(&ctx.app, tenant, ctx.param("id")).await?;
        let view = service::view(&ctx.app, tenant, discount).await?;
        let version = view.discount.version;
        Ok(ApiResponse::json(200, &view).with_etag(version))
    })
}

pub static GET_DISCOUNT: Route = Route {
    name: "get_discount",
    method: Method::Get,
    path: "/admin/discounts/{id}",
    access: Access::Staff("discounts.read"),
    summary: "One discount, with its uses",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: get_discount,
    doc: || {
        RouteDoc::new()
            .response::<DiscountView>(200, "The discount")
            .error(HttpCode::NotFound)
    },
};

fn patch_discount(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: DiscountChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let discount =
            service::change(&ctx.app, tenant, user, ctx.param("id"), input, if_match).await?;
        let view = service::view(&ctx.app, tenant, discount).await?;
        let version = view.discount.version;
        Ok(ApiResponse::json(200, &view).with_etag(version))
    })
}

pub static PATCH_DISCOUNT: Route = Route {
    name: "patch_discount",
    method: Method::Patch,
    path: "/admin/discounts/{id}",
    access: Access::Staff("discounts.write"),
    summary: "Change a discount (If-Match names its version)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch_discount,
    doc: || {
        RouteDoc::new()
            .request::<DiscountChange>()
            .response::<DiscountView>(200, "The changed discount")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete_discount(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let if_match = ctx.req.if_match()?;
        service::delete(&ctx.app, tenant, user, ctx.param("id"), if_match).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_DISCOUNT: Route = Route {
    name: "delete_discount",
    method: Method::Delete,
    path: "/admin/discounts/{id}",
    access: Access::Staff("discounts.write"),
    summary: "Delete a discount and its codes",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete_discount,
    doc: || {
        RouteDoc::new()
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn create_codes(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewCodes = ctx.req.json()?;
        let id = ctx.param("id");
        let created = service::add_codes(&ctx.app, tenant, user, id, input).await?;
        let location = format!("/admin/discounts/{id}/codes");
        Ok(ApiResponse::created(&location, &created))
    })
}

pub static CREATE_DISCOUNT_CODES: Route = Route {
    name: "create_discount_codes",
    method: Method::Post,
    path: "/admin/discounts/{id}/codes",
    access: Access::Staff("discounts.write"),
    summary: "Add a code to a discount, or generate up to 10,000 distinct codes",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create_codes,
    doc: || {
        RouteDoc::new()
            .request::<NewCodes>()
            .response::<CreatedCodes>(201, "The codes created")
            .error(HttpCode::NotFound)
            .error(Code::CodeTaken)
            .error(Code::TooManyCodes)
            .error(Code::NotACodeDiscount)
    },
};

fn list_codes(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let discount = service::get(&ctx.app, tenant, ctx.param("id")).await?;
        let mut window = Window::of(&ctx, tenant, &format!("codes:{}", discount.id))?;
        let (codes, last) = store::code_page(
            ctx.app.table.as_ref(),
            tenant,
            &discount.id,
            window.limit,
            window.start(),
        )
        .await?;
        let data: Vec<CodeView> = codes.into_iter().map(CodeView::from).collect();
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static LIST_DISCOUNT_CODES: Route = Route {
    name: "list_discount_codes",
    method: Method::Get,
    path: "/admin/discounts/{id}/codes",
    access: Access::Staff("discounts.read"),
    summary: "A discount's codes, in code order, with their uses",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list_codes,
    doc: || {
        RouteDoc::new()
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<CodeView>("A page of codes, each with its usage_count")
            .error(HttpCode::NotFound)
    },
};

fn delete_code(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        service::delete_code(&ctx.app, tenant, user, ctx.param("id"), ctx.param("code")).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_DISCOUNT_CODE: Route = Route {
    name: "delete_discount_code",
    method: Method::Delete,
    path: "/admin/discounts/{id}/codes/{code}",
    access: Access::Staff("discounts.write"),
    summary: "Delete one code of a discount",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete_code,
    doc: || RouteDoc::new().error(HttpCode::NotFound),
};
