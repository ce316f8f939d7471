//! Who is calling a route, as its handler reads it: the pipeline authenticated the request for
//! the route's access rule, so these only unpack the principal.

use super::errors::AuthCode;
use super::signin::Origin;
use crate::http::{ApiError, Ctx};
use crate::identity::{Principal, TenantId};

pub fn origin(ctx: &Ctx) -> Origin {
    Origin {
        ip: ctx.req.source_ip.clone(),
        user_agent: ctx.req.header("user-agent").map(str::to_owned),
    }
}

/// The staff caller of a route with staff access (the pipeline guarantees it).
pub fn staff(ctx: &Ctx) -> Result<(&TenantId, &str, &str), ApiError> {
    match &ctx.principal {
        Principal::Staff {
            tenant,
            user_id,
            session_id,
            ..
        } => Ok((tenant, user_id, session_id)),
        _ => Err(ApiError::unauthorized("a staff access token is required")),
    }
}

/// The tenant of a storefront route's caller (the pipeline guarantees one).
pub fn storefront(ctx: &Ctx) -> Result<&TenantId, ApiError> {
    match &ctx.principal {
        Principal::Storefront { tenant, .. } => Ok(tenant),
        _ => Err(ApiError::unauthorized("a storefront API key is required")),
    }
}

/// What the staff caller may do: nobody grants, through roles, more than they hold.
pub fn caller_permissions(ctx: &Ctx) -> &[String] {
    match &ctx.principal {
        Principal::Staff { permissions, .. } => permissions,
        _ => &[],
    }
}

pub fn escalation() -> ApiError {
    ApiError::new(
        AuthCode::PermissionEscalation,
        "you cannot grant or manage permissions you do not hold",
    )
}
