//! `/admin/customer-groups`: named sets of customers.

use super::model::CustomerGroup;
use super::store;
use crate::auth::caller::staff;
use crate::clock::rfc3339;
use crate::customers::errors::CustomerCode;
use crate::events::event;
use crate::http::cursor::Window;
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, HandlerFuture, Method, Route, RouteDoc,
};
use crate::store::StoreError;
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

const TAG: &str = "customers";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerGroup {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Its members pay no tax (default false).
    #[serde(default)]
    pub tax_exempt: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerGroupChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tax_exempt: Option<bool>,
}

fn check(errors: &mut Errors, name: Option<&str>, description: Option<&str>) {
    if let Some(name) = name {
        errors.check(validate::text("name", name, 100));
    }
    if description.is_some_and(|d| d.chars().count() > 500) {
        errors.push(crate::http::FieldError::new(
            "description",
            "too_long",
            "use at most 500 characters",
        ));
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("customer group")
}

fn create(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewCustomerGroup = ctx.req.json()?;
        let mut errors = Errors::new();
        check(&mut errors, Some(&input.name), Some(&input.description));
        errors.finish()?;
        let now = rfc3339(ctx.app.clock.now());
        let group = CustomerGroup {
            id: ctx.app.ids.new_id("cgrp"),
            name: input.name.trim().to_owned(),
            description: input.description.trim().to_owned(),
            tax_exempt: input.tax_exempt,
            member_count: 0,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        ctx.app
            .table
            .transact(vec![
                store::group_create_op(tenant, &group),
                event(
                    &ctx.app,
                    tenant,
                    crate::customers::events::CustomerEvent::GroupCreated,
                    Some(user),
                    json!({"group": group}),
                ),
            ])
            .await?;
        Ok(
            ApiResponse::created(&format!("/admin/customer-groups/{}", group.id), &group)
                .with_etag(group.version),
        )
    })
}

pub static CREATE_GROUP: Route = Route {
    name: "create_customer_group",
    method: Method::Post,
    path: "/admin/customer-groups",
    access: Access::Staff("customers.write"),
    summary: "Create a customer group",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create,
    doc: || {
        RouteDoc::new()
            .request::<NewCustomerGroup>()
            .response::<CustomerGroup>(201, "The group")
    },
};

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let mut window = Window::of(&ctx, tenant, "customer-groups")?;
        let (data, last) =
            store::group_page(ctx.app.table.as_ref(), tenant, window.limit, window.start()).await?;
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static LIST_GROUPS: Route = Route {
    name: "list_customer_groups",
    method: Method::Get,
    path: "/admin/customer-groups",
    access: Access::Staff("customers.read"),
    summary: "The company's customer groups",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list,
    doc: || {
        RouteDoc::new()
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<CustomerGroup>("A page of groups, oldest first")
    },
};

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let group = store::group_get(ctx.app.table.as_ref(), tenant, ctx.param("id"))
            .await?
            .ok_or_else(not_found)?;
        Ok(ApiResponse::json(200, &group).with_etag(group.version))
    })
}

pub static GET_GROUP: Route = Route {
    name: "get_customer_group",
    method: Method::Get,
    path: "/admin/customer-groups/{id}",
    access: Access::Staff("customers.read"),
    summary: "One customer group",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: get,
    doc: || {
        RouteDoc::new()
            .response::<CustomerGroup>(200, "The group")
            .error(HttpCode::NotFound)
    },
};

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: CustomerGroupChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let mut errors = Errors::new();
        check(
            &mut errors,
            input.name.as_deref(),
            input.description.as_deref(),
        );
        errors.finish()?;
        let current = store::group_get(ctx.app.table.as_ref(), tenant, ctx.param("id"))
            .await?
            .ok_or_else(not_found)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ApiError::precondition_failed());
        }
        let mut group = current.clone();
        if let Some(name) = input.name {
            group.name = name.trim().to_owned();
        }
        if let Some(exempt) = input.tax_exempt {
            group.tax_exempt = exempt;
        }
        if let Some(description) = input.description {
            group.description = description.trim().to_owned();
        }
        group.version += 1;
        group.updated_at = rfc3339(ctx.app.clock.now());
        match ctx
            .app
            .table
            .transact(vec![
                store::group_update_op(tenant, &group, current.version),
                event(
                    &ctx.app,
                    tenant,
                    crate::customers::events::CustomerEvent::GroupUpdated,
                    Some(user),
                    json!({"group_id": group.id, "name": group.name}),
                ),
            ])
            .await
        {
            Ok(()) => Ok(ApiResponse::json(200, &group).with_etag(group.version)),
            Err(e) if e.failed_at(0) => Err(ApiError::precondition_failed()),
            Err(e) => Err(e.into()),
        }
    })
}

pub static PATCH_GROUP: Route = Route {
    name: "patch_customer_group",
    method: Method::Patch,
    path: "/admin/customer-groups/{id}",
    access: Access::Staff("customers.write"),
    summary: "Rename or describe a customer group",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch,
    doc: || {
        RouteDoc::new()
            .request::<CustomerGroupChange>()
            .response::<CustomerGroup>(200, "The changed group")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let if_match = ctx.req.if_match()?;
        let current = store::group_get(ctx.app.table.as_ref(), tenant, ctx.param("id"))
            .await?
            .ok_or_else(not_found)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ApiError::precondition_failed());
        }
        let in_use = || {
            ApiError::new(
                CustomerCode::GroupInUse,
                "customers still belong to this group; take them out first",
            )
        };
        if current.member_count > 0 {
            return Err(in_use());
        }
        match ctx
            .app
            .table
            .transact(vec![
                store::group_delete_op(tenant, &current.id, current.version),
                event(
                    &ctx.app,
                    tenant,
                    crate::customers::events::CustomerEvent::GroupDeleted,
                    Some(user),
                    json!({"group_id": current.id}),
                ),
            ])
            .await
        {
            Ok(()) => Ok(ApiResponse::no_content()),
            // A member joined, or the group changed, after the read.
            Err(e) if e.failed_at(0) => Err(in_use()),
            Err(StoreError::Conflict) => Err(in_use()),
            Err(e) => Err(e.into()),
        }
    })
}

pub static DELETE_GROUP: Route = Route {
    name: "delete_customer_group",
    method: Method::Delete,
    path: "/admin/customer-groups/{id}",
    access: Access::Staff("customers.write"),
    summary: "Delete a customer group that has no members",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Deleted")
            .error(HttpCode::NotFound)
            .error(CustomerCode::GroupInUse)
            .error(HttpCode::PreconditionFailed)
    },
};
