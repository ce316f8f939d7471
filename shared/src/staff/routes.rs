//! `/admin/staff`: list, view, change and remove staff users.

use super::model::{StaffStatus, StaffUser, StoredStaffUser};
use super::{service, store};
use crate::auth::caller::{caller_permissions, staff};
use crate::auth::errors::AuthCode;
use crate::clock::rfc3339;
use crate::events::{outbox_put, DomainEvent};
use crate::http::cursor::Window;
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, HandlerFuture, Method, Route, RouteDoc,
};
use crate::staff::errors::StaffCode;
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let mut window = Window::of(&ctx, tenant, "staff")?;
        let (users, last) =
            store::page(ctx.app.table.as_ref(), tenant, window.limit, window.start()).await?;
        let data: Vec<StaffUser> = users.into_iter().map(|u| u.user).collect();
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static LIST_STAFF: Route = Route {
    name: "list_staff",
    method: Method::Get,
    path: "/admin/staff",
    access: Access::Staff("staff.read"),
    summary: "The company's staff users",
    tag: "staff",
    aws: AwsAccess::READ_LIST,
    handler: list,
    doc: || {
        RouteDoc::new()
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<StaffUser>("A page of staff users, oldest first")
    },
};

async fn load(ctx: &Ctx) -> Result<StoredStaffUser, ApiError> {
    let (tenant, _, _) = staff(ctx)?;
    store::get(ctx.app.table.as_ref(), tenant, ctx.param("id"))
        .await?
        .ok_or_else(|| ApiError::not_found("staff user"))
}

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let user = load(&ctx).await?;
        Ok(ApiResponse::json(200, &user.user).with_etag(user.user.version))
    })
}

pub static GET_STAFF: Route = Route {
    name: "get_staff",
    method: Method::Get,
    path: "/admin/staff/{id}",
    access: Access::Staff("staff.read"),
    summary: "One staff user",
    tag: "staff",
    aws: AwsAccess::READ,
    handler: get,
    doc: || {
        RouteDoc::new()
            .response::<StaffUser>(200, "The staff user")
            .error(HttpCode::NotFound)
    },
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    pub name: Option<String>,
    /// Replaces the user's roles: 1 to 20 (a repeated id counts once).
    pub role_ids: Option<Vec<String>>,
    /// `disabled` ends every session and password-reset link at once (enabling the user again
    /// brings none of them back).
    pub status: Option<StaffStatus>,
}

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, actor, _) = staff(&ctx)?;
        let input: StaffPatch = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let before = load(&ctx).await?;
        if if_match.is_some_and(|v| v != before.user.version) {
            return Err(ApiError::precondition_failed());
        }
        let mut errors = Errors::new();
        if let Some(name) = &input.name {
            errors.check(validate::text("name", name, 100));
        }
        if let Some(roles) = &input.role_ids {
            crate::staff::model::check_role_ids(&mut errors, roles);
        }
        errors.finish()?;
        let mut touched = before.user.role_ids.clone();
        touched.extend(input.role_ids.iter().flatten().cloned());
        touched.sort();
        touched.dedup();
        service::ensure_can_manage(
            ctx.app.table.as_ref(),
            tenant,
            caller_permissions(&ctx),
            &touched,
        )
        .await?;
        let mut after = before.clone();
        if let Some(name) = input.name {
            after.user.name = name.trim().to_owned();
        }
        let asked_roles = input.role_ids.clone().unwrap_or_default();
        if let Some(mut roles) = input.role_ids {
            roles.sort();
            roles.dedup();
            after.user.role_ids = roles;
        }
        if let Some(status) = input.status {
            if status == StaffStatus::Disabled && before.user.status != StaffStatus::Disabled {
                // Disabling ends every session and reset link: enabling the user again later
                // must not bring back what a stolen device or token held.
                after.sessions_valid_after_ms = ctx.app.clock.epoch_millis();
            }
            after.user.status = status;
        }
        if after == before {
            // A change that changes nothing writes nothing.
            return Ok(ApiResponse::json(200, &before.user).with_etag(before.user.version));
        }
        after.user.version += 1;
        after.user.updated_at = rfc3339(ctx.app.clock.now());
        let event = DomainEvent::new(
            &ctx.app,
            tenant,
            crate::staff::events::StaffEvent::Updated,
            Some(actor.to_owned()),
            json!({"user_id": after.user.id, "before": before.user, "after": after.user}),
        );
        service::save(
            ctx.app.table.as_ref(),
            tenant,
            &before,
            &after,
            vec![outbox_put(&event, ctx.app.clock.epoch_seconds())],
        )
        .await
        .map_err(|e| match e {
            // Named by its place in the list the request gave.
            crate::staff::errors::StaffError::UnknownRole { index, id } => {
                crate::staff::errors::StaffError::UnknownRole {
                    index: asked_roles.iter().position(|r| *r == id).unwrap_or(index),
                    id,
                }
            }
            other => other,
        })?;
        Ok(ApiResponse::json(200, &after.user).with_etag(after.user.version))
    })
}

pub static PATCH_STAFF: Route = Route {
    name: "update_staff",
    method: Method::Patch,
    path: "/admin/staff/{id}",
    access: Access::Staff("staff.manage"),
    summary: "Change a staff user's name, roles or status",
    tag: "staff",
    aws: AwsAccess::WRITE,
    handler: patch,
    doc: || {
        RouteDoc::new()
            .description(
                "The last active owner can be neither demoted nor disabled (409 last_owner).",
            )
            .request::<StaffPatch>()
            .response::<StaffUser>(200, "The changed user")
            .error(HttpCode::NotFound)
            .error(StaffCode::LastOwner)
            .error(AuthCode::PermissionEscalation)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, actor, _) = staff(&ctx)?;
        let if_match = ctx.req.if_match()?;
        let user = load(&ctx).await?;
        if if_match.is_some_and(|v| v != user.user.version) {
            return Err(ApiError::precondition_failed());
        }
        let table = ctx.app.table.as_ref();
        service::ensure_can_manage(table, tenant, caller_permissions(&ctx), &user.user.role_ids)
            .await?;
        let counts = service::role_count_ops(table, tenant, Some(&user), None).await?;
        let count_len = counts.len();
        let mut ops = store::delete_ops(tenant, &user);
        let first_count = ops.len();
        ops.extend(counts);
        let event = DomainEvent::new(
            &ctx.app,
            tenant,
            crate::staff::events::StaffEvent::Removed,
            Some(actor.to_owned()),
            json!({"user_id": user.user.id, "email": user.user.email}),
        );
        ops.push(outbox_put(&event, ctx.app.clock.epoch_seconds()));
        table
            .transact(ops)
            .await
            .map_err(|e| service::staff_change_error(e, first_count, count_len))?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_STAFF: Route = Route {
    name: "delete_staff",
    method: Method::Delete,
    path: "/admin/staff/{id}",
    access: Access::Staff("staff.manage"),
    summary: "Remove a staff user",
    tag: "staff",
    aws: AwsAccess::WRITE,
    handler: delete,
    doc: || {
        RouteDoc::new()
            .description(
                "Their sessions stop refreshing at once. The last active owner cannot be removed.",
            )
            .empty_response(204, "The user is removed")
            .error(HttpCode::NotFound)
            .error(StaffCode::LastOwner)
            .error(AuthCode::PermissionEscalation)
            .error(HttpCode::PreconditionFailed)
    },
};
