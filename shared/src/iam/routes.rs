//! The permission catalog and the company's roles.

use super::model::{Permission, Role};
use super::{permissions, store};
use crate::auth::caller::{caller_permissions, escalation, staff};
use crate::auth::errors::AuthCode;
use crate::clock::rfc3339;
use crate::events::{outbox_put, DomainEvent};
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, FieldError, HandlerFuture, ListPage, Method,
    Route, RouteDoc,
};
use crate::iam::errors::IamCode;
use crate::store::Condition;
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

fn list_permissions(_ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let data: Vec<Permission> = permissions::CATALOG
            .iter()
            .map(|(name, description)| Permission {
                name: (*name).into(),
                description: (*description).into(),
            })
            .collect();
        Ok(ApiResponse::json(
            200,
            &ListPage {
                data,
                next_cursor: None,
            },
        ))
    })
}

pub static LIST_PERMISSIONS: Route = Route {
    name: "list_permissions",
    method: Method::Get,
    path: "/admin/permissions",
    access: Access::StaffSelf,
    summary: "The permission catalog",
    tag: "roles",
    // The catalog is code, but every staff request reads the member's standing.
    aws: AwsAccess::READ,
    handler: list_permissions,
    doc: || RouteDoc::new().page::<Permission>("Every permission with what it allows"),
};

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let data = store::list(ctx.app.table.as_ref(), tenant).await?;
        Ok(ApiResponse::json(
            200,
            &ListPage {
                data,
                next_cursor: None,
            },
        ))
    })
}

pub static LIST_ROLES: Route = Route {
    name: "list_roles",
    method: Method::Get,
    path: "/admin/roles",
    access: Access::Staff("roles.read"),
    summary: "The company's roles",
    tag: "roles",
    aws: AwsAccess::READ,
    handler: list,
    doc: || RouteDoc::new().page::<Role>("Every role, system roles first"),
};

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let role = store::get(ctx.app.table.as_ref(), tenant, ctx.param("id"))
            .await?
            .ok_or_else(|| ApiError::not_found("role"))?;
        Ok(ApiResponse::json(200, &role).with_etag(role.version))
    })
}

pub static GET_ROLE: Route = Route {
    name: "get_role",
    method: Method::Get,
    path: "/admin/roles/{id}",
    access: Access::Staff("roles.read"),
    summary: "One role",
    tag: "roles",
    aws: AwsAccess::READ,
    handler: get,
    doc: || {
        RouteDoc::new()
            .response::<Role>(200, "The role")
            .error(HttpCode::NotFound)
    },
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Names from the permission catalog.
    pub permissions: Vec<String>,
}

fn check_role(errors: &mut Errors, name: &str, description: &str, grants: &[String]) {
    errors.check(validate::text("name", name, 60));
    if description.chars().count() > 500 {
        errors.push(FieldError::new(
            "description",
            "too_long",
            "use at most 500 characters",
        ));
    }
    for (i, p) in grants.iter().enumerate() {
        if !permissions::exists(p) {
            errors.push(FieldError::new(
                format!("permissions[{i}]"),
                "unknown_permission",
                format!("`{p}` is not in the permission catalog"),
            ));
        }
    }
}

fn event(ctx: &Ctx, kind: super::events::RoleEvent, role: &Role) -> crate::store::TxOp {
    let (tenant, user, _) = staff(ctx).expect("staff route");
    let event = DomainEvent::new(
        &ctx.app,
        tenant,
        kind,
        Some(user.to_owned()),
        json!({"role": role}),
    );
    outbox_put(&event, ctx.app.clock.epoch_seconds())
}

fn create(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let input: NewRole = ctx.req.json()?;
        let mut errors = Errors::new();
        check_role(
            &mut errors,
            &input.name,
            &input.description,
            &input.permissions,
        );
        errors.finish()?;
        if !permissions::covers(caller_permissions(&ctx), &input.permissions) {
            return Err(escalation());
        }
        let now = rfc3339(ctx.app.clock.now());
        let mut grants = input.permissions;
        grants.sort();
        grants.dedup();
        let role = Role {
            id: ctx.app.ids.new_id("role"),
            name: input.name.trim().to_owned(),
            description: input.description.trim().to_owned(),
            permissions: grants,
            system: false,
            key: None,
            assigned_users: 0,
            active_users: 0,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        ctx.app
            .table
            .transact(vec![
                store::put_op(tenant, &role, Condition::NotExists),
                event(&ctx, crate::iam::events::RoleEvent::Created, &role),
            ])
            .await?;
        Ok(
            ApiResponse::created(&format!("/admin/roles/{}", role.id), &role)
                .with_etag(role.version),
        )
    })
}

pub static CREATE_ROLE: Route = Route {
    name: "create_role",
    method: Method::Post,
    path: "/admin/roles",
    access: Access::Staff("roles.manage"),
    summary: "Create a custom role",
    tag: "roles",
    aws: AwsAccess::WRITE,
    handler: create,
    doc: || {
        RouteDoc::new()
            .error(AuthCode::PermissionEscalation)
            .request::<NewRole>()
            .response::<Role>(201, "The new role")
    },
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<Vec<String>>,
}

fn system_role() -> ApiError {
    ApiError::new(
        IamCode::SystemRole,
        "system roles cannot be changed or deleted",
    )
}

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let input: RolePatch = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let before = store::get(ctx.app.table.as_ref(), tenant, ctx.param("id"))
            .await?
            .ok_or_else(|| ApiError::not_found("role"))?;
        if if_match.is_some_and(|v| v != before.version) {
            return Err(ApiError::precondition_failed());
        }
        if before.system {
            return Err(system_role());
        }
        let name = input.name.unwrap_or_else(|| before.name.clone());
        let description = input
            .description
            .unwrap_or_else(|| before.description.clone());
        let mut grants = input
            .permissions
            .unwrap_or_else(|| before.permissions.clone());
        let mut errors = Errors::new();
        check_role(&mut errors, &name, &description, &grants);
        errors.finish()?;
        let caller = caller_permissions(&ctx);
        if !permissions::covers(caller, &grants)
            || !permissions::covers(caller, &before.permissions)
        {
            return Err(escalation());
        }
        grants.sort();
        grants.dedup();
        let after = Role {
            name: name.trim().to_owned(),
            description: description.trim().to_owned(),
            permissions: grants,
            updated_at: rfc3339(ctx.app.clock.now()),
            version: before.version + 1,
            ..before.clone()
        };
        let result = ctx
            .app
            .table
            .transact(vec![
                store::update_op(tenant, &after, before.version),
                event(&ctx, crate::iam::events::RoleEvent::Updated, &after),
            ])
            .await;
        match result {
            Ok(()) => Ok(ApiResponse::json(200, &after).with_etag(after.version)),
            Err(e) if e.failed_at(0) => Err(ApiError::precondition_failed()),
            Err(e) => Err(e.into()),
        }
    })
}

pub static PATCH_ROLE: Route = Route {
    name: "update_role",
    method: Method::Patch,
    path: "/admin/roles/{id}",
    access: Access::Staff("roles.manage"),
    summary: "Change a custom role",
    tag: "roles",
    aws: AwsAccess::WRITE,
    handler: patch,
    doc: || {
        RouteDoc::new()
            .description("Holders of the role get the new permissions when their access token is next refreshed.")
            .request::<RolePatch>()
            .response::<Role>(200, "The changed role")
            .error(HttpCode::NotFound).error(IamCode::SystemRole).error(AuthCode::PermissionEscalation).error(HttpCode::PreconditionFailed)
    },
};

fn delete(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let if_match = ctx.req.if_match()?;
        let role = store::get(ctx.app.table.as_ref(), tenant, ctx.param("id"))
            .await?
            .ok_or_else(|| ApiError::not_found("role"))?;
        if if_match.is_some_and(|v| v != role.version) {
            return Err(ApiError::precondition_failed());
        }
        if role.system {
            return Err(system_role());
        }
        // Deleting takes a role's power away from whoever would be given it: nobody does that
        // to more than they hold, as for changing it.
        if !permissions::covers(caller_permissions(&ctx), &role.permissions) {
            return Err(escalation());
        }
        let result = ctx
            .app
            .table
            .transact(vec![
                store::delete_op(tenant, &role.id, role.version),
                event(&ctx, crate::iam::events::RoleEvent::Deleted, &role),
            ])
            .await;
        match result {
            Ok(()) => Ok(ApiResponse::no_content()),
            Err(e) if e.failed_at(0) => {
                let current = store::get(ctx.app.table.as_ref(), tenant, &role.id).await?;
                match current {
                    Some(r) if r.assigned_users > 0 => Err(ApiError::new(
                        IamCode::RoleInUse,
                        "staff users hold this role; give them another role first",
                    )),
                    Some(_) => Err(ApiError::precondition_failed()),
                    None => Err(ApiError::not_found("role")),
                }
            }
            Err(e) => Err(e.into()),
        }
    })
}

pub static DELETE_ROLE: Route = Route {
    name: "delete_role",
    method: Method::Delete,
    path: "/admin/roles/{id}",
    access: Access::Staff("roles.manage"),
    summary: "Delete a custom role nobody holds",
    tag: "roles",
    aws: AwsAccess::WRITE,
    handler: delete,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "The role is deleted")
            .error(HttpCode::NotFound)
            .error(AuthCode::PermissionEscalation)
            .error(IamCode::SystemRole)
            .error(IamCode::RoleInUse)
            .error(HttpCode::PreconditionFailed)
    },
};
