//! Staff sign-in routes: sign-up, log-in, refresh, log-out, who am I, the staff token keys,
//! password reset and change, and the caller's sessions.

use super::auth::{self as service, Login, Me, Refresh, Registered, Registration};
use crate::auth::caller::{origin, staff};
use crate::auth::errors::AuthCode;
use crate::auth::signin::Tokens;
use crate::auth::{jwks_response, Jwks};
use crate::companies::errors::CompanyCode;
use crate::http::HttpCode;
use crate::http::{Access, ApiResponse, AwsAccess, Ctx, HandlerFuture, Method, Route, RouteDoc};
use serde::Serialize;
use utoipa::ToSchema;

fn register(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let input: Registration = ctx.req.json()?;
        let registered = service::register(&ctx.app, input, &origin(&ctx)).await?;
        Ok(ApiResponse::created("/admin/company", &registered))
    })
}

pub static REGISTER: Route = Route {
    name: "register_company",
    method: Method::Post,
    path: "/admin/auth/register",
    access: Access::Public,
    summary: "Register a company with its owner and sign the owner in",
    tag: "auth",
    aws: AwsAccess::WRITE_SIGNING,
    handler: register,
    doc: || {
        RouteDoc::new()
            .request::<Registration>()
            .response::<Registered>(201, "The company, its owner and the owner's tokens")
            .error(CompanyCode::HandleTaken)
            .error(HttpCode::TooManyRequests)
    },
};

fn login(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let input: Login = ctx.req.json()?;
        let tokens = service::login(&ctx.app, input, &origin(&ctx)).await?;
        Ok(ApiResponse::json(200, &tokens))
    })
}

pub static LOGIN: Route = Route {
    name: "login",
    method: Method::Post,
    path: "/admin/auth/login",
    access: Access::Public,
    summary: "Log in with company handle, email and password",
    tag: "auth",
    aws: AwsAccess::WRITE_SIGNING,
    handler: login,
    doc: || {
        RouteDoc::new()
            .request::<Login>()
            .response::<Tokens>(200, "Access and refresh tokens")
            .error(AuthCode::InvalidCredentials)
            .error(HttpCode::TooManyRequests)
    },
};

fn refresh(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let input: Refresh = ctx.req.json()?;
        Ok(ApiResponse::json(
            200,
            &service::refresh(&ctx.app, input).await?,
        ))
    })
}

pub static REFRESH: Route = Route {
    name: "refresh_token",
    method: Method::Post,
    path: "/admin/auth/refresh",
    access: Access::Public,
    summary: "Exchange a refresh token for new tokens (the old one stops working)",
    tag: "auth",
    aws: AwsAccess::WRITE_SIGNING,
    handler: refresh,
    doc: || {
        RouteDoc::new()
            .description(
                "Presenting a refresh token that was already exchanged revokes the whole session.",
            )
            .request::<Refresh>()
            .response::<Tokens>(200, "New access and refresh tokens")
            .error(AuthCode::InvalidRefreshToken)
            .error(AuthCode::RefreshTokenReused)
    },
};

fn logout(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, session) = staff(&ctx)?;
        service::logout(&ctx.app, tenant, user, session).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static LOGOUT: Route = Route {
    name: "logout",
    method: Method::Post,
    path: "/admin/auth/logout",
    access: Access::StaffSelf,
    summary: "End the current session",
    tag: "auth",
    aws: AwsAccess::WRITE,
    handler: logout,
    doc: || RouteDoc::new().empty_response(204, "The session is ended"),
};

fn logout_all(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        service::logout_all(&ctx.app, tenant, user).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static LOGOUT_ALL: Route = Route {
    name: "logout_all",
    method: Method::Post,
    path: "/admin/auth/logout-all",
    access: Access::StaffSelf,
    summary: "End every session of the current user",
    tag: "auth",
    aws: AwsAccess::WRITE,
    handler: logout_all,
    doc: || RouteDoc::new().empty_response(204, "Every session is ended"),
};

fn me(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        Ok(ApiResponse::json(
            200,
            &service::me(&ctx.app, tenant, user).await?,
        ))
    })
}

pub static ME: Route = Route {
    name: "get_me",
    method: Method::Get,
    path: "/admin/me",
    access: Access::StaffSelf,
    summary: "The current user, their company, roles and effective permissions",
    tag: "auth",
    aws: AwsAccess::READ,
    handler: me,
    doc: || RouteDoc::new().response::<Me>(200, "The current user"),
};

fn jwks(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move { Ok(jwks_response(ctx.app.config.staff_tokens())) })
}

pub static JWKS: Route = Route {
    name: "jwks",
    method: Method::Get,
    path: "/.well-known/jwks.json",
    access: Access::Public,
    summary: "The public keys that verify staff access tokens",
    tag: "auth",
    aws: AwsAccess::NONE,
    handler: jwks,
    doc: || RouteDoc::new().response::<Jwks>(200, "A JSON Web Key Set"),
};

/// The OpenID Connect discovery document of the staff token issuer: where API Gateway's JWT
/// authorizer (and any other verifier) finds the keys.
#[derive(Serialize, ToSchema)]
pub struct OpenIdConfiguration {
    /// The `iss` of every access token (the API's base URL in a deployment).
    pub issuer: String,
    /// The JSON Web Key Set of staff access tokens.
    pub jwks_uri: String,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
}

fn openid_configuration(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let issuer = ctx.app.config.token_issuer().to_owned();
        let document = OpenIdConfiguration {
            jwks_uri: format!("{issuer}{}", JWKS.path),
            issuer,
            id_token_signing_alg_values_supported: vec!["RS256"],
            response_types_supported: vec!["token"],
            subject_types_supported: vec!["public"],
        };
        Ok(ApiResponse::json(200, &document).header("cache-control", "public, max-age=300"))
    })
}

pub static OPENID_CONFIGURATION: Route = Route {
    name: "openid_configuration",
    method: Method::Get,
    path: "/.well-known/openid-configuration",
    access: Access::Public,
    summary: "Where verifiers of staff access tokens find the issuer's keys (OpenID discovery)",
    tag: "auth",
    aws: AwsAccess::NONE,
    handler: openid_configuration,
    doc: || RouteDoc::new().response::<OpenIdConfiguration>(200, "The discovery document"),
};

fn password_reset(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let input: service::ResetRequest = ctx.req.json()?;
        service::request_reset(&ctx.app, input, &origin(&ctx)).await?;
        Ok(ApiResponse::new(202))
    })
}

pub static PASSWORD_RESET: Route = Route {
    name: "request_password_reset",
    method: Method::Post,
    path: "/admin/auth/password-reset",
    access: Access::Public,
    summary: "Email a password reset link (answers 202 whether or not the account exists)",
    tag: "auth",
    aws: AwsAccess::WRITE_EMAIL,
    handler: password_reset,
    doc: || {
        RouteDoc::new()
            .request::<service::ResetRequest>()
            .empty_response(202, "If the account exists, an email is on its way")
            .error(HttpCode::TooManyRequests)
    },
};

fn password_reset_confirm(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let input: service::ResetConfirm = ctx.req.json()?;
        service::confirm_reset(&ctx.app, input).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static PASSWORD_RESET_CONFIRM: Route = Route {
    name: "confirm_password_reset",
    method: Method::Post,
    path: "/admin/auth/password-reset/confirm",
    access: Access::Public,
    summary: "Set a new password with a reset token; ends every session",
    tag: "auth",
    aws: AwsAccess::WRITE,
    handler: password_reset_confirm,
    doc: || {
        RouteDoc::new()
            .error(AuthCode::InvalidResetToken)
            .request::<service::ResetConfirm>()
            .empty_response(204, "The password is changed")
    },
};

fn change_password(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, session) = staff(&ctx)?;
        let input: service::PasswordChange = ctx.req.json()?;
        service::change_password(&ctx.app, tenant, user, session, input).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static CHANGE_PASSWORD: Route = Route {
    name: "change_password",
    method: Method::Post,
    path: "/admin/me/password",
    access: Access::StaffSelf,
    summary: "Change your password; ends your other sessions",
    tag: "auth",
    aws: AwsAccess::WRITE,
    handler: change_password,
    doc: || {
        RouteDoc::new()
            .request::<service::PasswordChange>()
            .empty_response(204, "The password is changed")
            .error(HttpCode::TooManyRequests)
    },
};

fn list_sessions(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, session) = staff(&ctx)?;
        let data = service::list_sessions(&ctx.app, tenant, user, session).await?;
        Ok(ApiResponse::json(
            200,
            &crate::http::ListPage {
                data,
                next_cursor: None,
            },
        ))
    })
}

pub static LIST_SESSIONS: Route = Route {
    name: "list_my_sessions",
    method: Method::Get,
    path: "/admin/me/sessions",
    access: Access::StaffSelf,
    summary: "Your signed-in sessions",
    tag: "auth",
    aws: AwsAccess::READ,
    handler: list_sessions,
    doc: || RouteDoc::new().page::<crate::auth::sessions::SessionView>("Live sessions"),
};

fn revoke_session(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        service::revoke_session(&ctx.app, tenant, user, ctx.param("id")).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static REVOKE_SESSION: Route = Route {
    name: "revoke_my_session",
    method: Method::Delete,
    path: "/admin/me/sessions/{id}",
    access: Access::StaffSelf,
    summary: "End one of your sessions",
    tag: "auth",
    aws: AwsAccess::WRITE,
    handler: revoke_session,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "The session is ended")
            .error(HttpCode::NotFound)
    },
};
