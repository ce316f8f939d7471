//! `/admin/customers`: staff's view of the company's customers.

use super::admin::{self, CustomerAdminChange, CustomerExport, CustomerFilter};
use super::model::Customer;
use crate::auth::caller::staff;
use crate::customers::errors::CustomerCode;
use crate::http::HttpCode;
use crate::http::{
    Access, ApiResponse, AwsAccess, Ctx, HandlerFuture, ListPage, Method, Route, RouteDoc,
};

const TAG: &str = "customers";

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let filter: CustomerFilter = ctx.req.query_params()?;
        let (data, next_cursor) = admin::list(&ctx.app, tenant, filter).await?;
        Ok(ApiResponse::json(200, &ListPage { data, next_cursor }))
    })
}

pub static LIST_CUSTOMERS: Route = Route {
    name: "list_customers",
    method: Method::Get,
    path: "/admin/customers",
    access: Access::Staff("customers.read"),
    summary: "Find customers",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list,
    doc: || {
        RouteDoc::new()
            .description(
                "Newest first, or by email with `email`. `name` and `group` filter what the index \
                 returns, examining at most 1,000 customers per page; a short page with a cursor \
                 means more may follow.",
            )
            .query("email", "Emails starting with this", false)
            .query("name", "First or last name containing this", false)
            .query("group", "Members of this customer group (id)", false)
            .query("created_after", "Created at or after (RFC 3339)", false)
            .query("created_before", "Created at or before (RFC 3339)", false)
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<Customer>("A page of customers")
    },
};

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let stored = admin::load(&ctx.app, tenant, ctx.param("id")).await?;
        Ok(ApiResponse::json(200, &stored.customer).with_etag(stored.customer.version))
    })
}

pub static GET_CUSTOMER: Route = Route {
    name: "get_customer",
    method: Method::Get,
    path: "/admin/customers/{id}",
    access: Access::Staff("customers.read"),
    summary: "One customer",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: get,
    doc: || {
        RouteDoc::new()
            .response::<Customer>(200, "The customer")
            .error(HttpCode::NotFound)
    },
};

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: CustomerAdminChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let customer =
            admin::change(&ctx.app, tenant, user, ctx.param("id"), input, if_match).await?;
        Ok(ApiResponse::json(200, &customer).with_etag(customer.version))
    })
}

pub static PATCH_CUSTOMER: Route = Route {
    name: "patch_customer",
    method: Method::Patch,
    path: "/admin/customers/{id}",
    access: Access::Staff("customers.write"),
    summary: "Disable or enable a customer, or change groups, tags, note or name",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch,
    doc: || {
        RouteDoc::new()
            .request::<CustomerAdminChange>()
            .response::<Customer>(200, "The changed customer")
            .error(HttpCode::NotFound)
            .error(CustomerCode::CustomerErased)
            .error(CustomerCode::EmailTaken)
            .error(HttpCode::PreconditionFailed)
    },
};

fn export(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let export = admin::export(&ctx.app, tenant, ctx.param("id")).await?;
        Ok(ApiResponse::json(200, &export))
    })
}

pub static EXPORT_CUSTOMER: Route = Route {
    name: "export_customer",
    method: Method::Get,
    path: "/admin/customers/{id}/export",
    // Not `customers.read`: an export gathers every personal detail at once, so a viewer of
    // customer lists does not get it by default (the read-only role holds no export).
    access: Access::Staff("customers.export"),
    summary: "Everything held about a customer, as JSON (data access requests)",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: export,
    doc: || {
        RouteDoc::new()
            .response::<CustomerExport>(200, "The customer's data")
            .error(HttpCode::NotFound)
    },
};

fn erase(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        admin::erase(&ctx.app, tenant, user, ctx.param("id")).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static ERASE_CUSTOMER: Route = Route {
    name: "erase_customer",
    method: Method::Delete,
    path: "/admin/customers/{id}",
    access: Access::Staff("customers.write"),
    summary: "Erase a customer's personal data and end their sessions",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: erase,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Erased; the id remains with status `erased`")
            .error(HttpCode::NotFound)
    },
};
