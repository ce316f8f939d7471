//! `/admin/tax/rates`: the company's tax rates, for staff.

use super::errors::TaxCode;
use super::model::{TaxRate, TaxRateView};
use super::service::{self, NewTaxRate, TaxRateChange};
use super::store;
use crate::auth::caller::staff;
use crate::http::cursor::Window;
use crate::http::{
    Access, ApiResponse, AwsAccess, Ctx, HandlerFuture, HttpCode, Method, Route, RouteDoc,
};
use serde::Deserialize;

const TAG: &str = "tax";

fn create_rate(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewTaxRate = ctx.req.json()?;
        let rate = service::create(&ctx.app, tenant, user, input).await?;
        let version = rate.version;
        let location = format!("/admin/tax/rates/{}", rate.id);
        Ok(ApiResponse::created(&location, &TaxRateView::from(rate)).with_etag(version))
    })
}

pub static CREATE_TAX_RATE: Route = Route {
    name: "create_tax_rate",
    method: Method::Post,
    path: "/admin/tax/rates",
    access: Access::Staff("tax.write"),
    summary: "Create a tax rate for a country, region or postcodes, and a tax class",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create_rate,
    doc: || {
        RouteDoc::new()
            .request::<NewTaxRate>()
            .response::<TaxRateView>(201, "The rate")
            .error(TaxCode::TooManyTaxRates)
    },
};

#[derive(Debug, Deserialize)]
struct RateFilter {
    country: Option<String>,
    tax_class: Option<String>,
}

fn list_rates(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let filter: RateFilter = ctx.req.query_params()?;
        let mut window = Window::of(&ctx, tenant, "tax_rates")?;
        let (rates, last) = store::rates(tenant)
            .page::<TaxRate>(ctx.app.table.as_ref(), window.limit, window.start())
            .await?;
        let data: Vec<TaxRateView> = rates
            .into_iter()
            .filter(|r| filter.country.as_ref().is_none_or(|c| *c == r.country))
            .filter(|r| filter.tax_class.as_ref().is_none_or(|c| *c == r.tax_class))
            .map(TaxRateView::from)
            .collect();
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static LIST_TAX_RATES: Route = Route {
    name: "list_tax_rates",
    method: Method::Get,
    path: "/admin/tax/rates",
    access: Access::Staff("tax.read"),
    summary: "The company's tax rates, oldest first",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list_rates,
    doc: || {
        RouteDoc::new()
            .query("country", "Only rates of this country", false)
            .query("tax_class", "Only rates of this class", false)
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<TaxRateView>(
                "A page of rates, oldest first (filters apply to the page, which may then be \
                 short: follow next_cursor)",
            )
    },
};

fn get_rate(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let rate = service::get(&ctx.app, tenant, ctx.param("id")).await?;
        let version = rate.version;
        Ok(ApiResponse::json(200, &TaxRateView::from(rate)).with_etag(version))
    })
}

pub static GET_TAX_RATE: Route = Route {
    name: "get_tax_rate",
    method: Method::Get,
    path: "/admin/tax/rates/{id}",
    access: Access::Staff("tax.read"),
    summary: "One tax rate",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: get_rate,
    doc: || {
        RouteDoc::new()
            .response::<TaxRateView>(200, "The rate")
            .error(HttpCode::NotFound)
    },
};

fn patch_rate(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: TaxRateChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let rate =
            service::change(&ctx.app, tenant, user, ctx.param("id"), input, if_match).await?;
        let version = rate.version;
        Ok(ApiResponse::json(200, &TaxRateView::from(rate)).with_etag(version))
    })
}

pub static PATCH_TAX_RATE: Route = Route {
    name: "patch_tax_rate",
    method: Method::Patch,
    path: "/admin/tax/rates/{id}",
    access: Access::Staff("tax.write"),
    summary: "Change a tax rate (If-Match names its version)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch_rate,
    doc: || {
        RouteDoc::new()
            .request::<TaxRateChange>()
            .response::<TaxRateView>(200, "The changed rate")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete_rate(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let if_match = ctx.req.if_match()?;
        service::delete(&ctx.app, tenant, user, ctx.param("id"), if_match).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_TAX_RATE: Route = Route {
    name: "delete_tax_rate",
    method: Method::Delete,
    path: "/admin/tax/rates/{id}",
    access: Access::Staff("tax.write"),
    summary: "Delete a tax rate",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete_rate,
    doc: || {
        RouteDoc::new()
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};
