//! `/store/auth/*` and `/store/customers/me/*`: what a storefront calls for its shoppers.

use super::account::{self, AccountChange, AddressChange, NewAddress};
use super::auth::{
    self, CustomerLogin, CustomerPasswordChange, CustomerRefresh, CustomerResetConfirm,
    CustomerResetRequest, NewCustomer, SignedIn, TokenInput,
};
use super::email_change::{self, EmailChangeRequest};
use super::model::{Account, AddressView};
use crate::auth::caller::storefront;
use crate::auth::errors::AuthCode;
use crate::auth::sessions::SessionView;
use crate::auth::signin::{Origin, Tokens};
use crate::auth::{CustomerSession, Principal, TenantId};
use crate::customers::errors::CustomerCode;
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, HandlerFuture, ListPage, Method, Route, RouteDoc,
};
use crate::secrets::Secret;

const AUTH: &str = "customers.auth";
const WRITE: &str = "customers.write";
const TAG: &str = "storefront customers";

fn origin(ctx: &Ctx) -> Origin {
    Origin {
        ip: ctx.req.source_ip.clone(),
        user_agent: ctx.req.header("user-agent").map(str::to_owned),
    }
}

/// The tenant and signed-in customer of a customer route (the pipeline guarantees both).
fn customer(ctx: &Ctx) -> Result<(&TenantId, &CustomerSession), ApiError> {
    match &ctx.principal {
        Principal::Storefront {
            tenant,
            customer: Some(customer),
            ..
        } => Ok((tenant, customer)),
        _ => Err(ApiError::unauthorized(
            "a customer access token is required",
        )),
    }
}

fn list<T: serde::Serialize>(data: Vec<T>) -> ApiResponse {
    ApiResponse::json(
        200,
        &ListPage {
            data,
            next_cursor: None,
        },
    )
}

// Sign-up and sign-in ---------------------------------------------------------------------------

fn register(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let input: NewCustomer = ctx.req.json()?;
        let signed_in = auth::register(&ctx.app, tenant, input, &origin(&ctx)).await?;
        Ok(ApiResponse::created("/store/customers/me", &signed_in))
    })
}

pub static REGISTER: Route = Route {
    name: "store_register",
    method: Method::Post,
    path: "/store/auth/register",
    access: Access::StoreKey(AUTH),
    summary: "Create a customer account, sign it in and email an address confirmation",
    tag: TAG,
    aws: AwsAccess {
        secrets: &[Secret::CustomerTokens, Secret::EmailContent],
        ..AwsAccess::WRITE
    },
    handler: register,
    doc: || {
        RouteDoc::new()
            .request::<NewCustomer>()
            .response::<SignedIn>(201, "The account and its tokens")
            .error(CustomerCode::EmailTaken)
            .error(HttpCode::TooManyRequests)
    },
};

fn verify_email(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let input: TokenInput = ctx.req.json()?;
        auth::verify_email(&ctx.app, tenant, input).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static VERIFY_EMAIL: Route = Route {
    name: "store_verify_email",
    method: Method::Post,
    path: "/store/auth/verify-email",
    access: Access::StoreKey(AUTH),
    summary: "Confirm a customer's email address with the emailed token",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: verify_email,
    doc: || {
        RouteDoc::new()
            .error(CustomerCode::InvalidToken)
            .request::<TokenInput>()
            .empty_response(204, "Confirmed")
    },
};

fn login(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let input: CustomerLogin = ctx.req.json()?;
        let signed_in = auth::login(&ctx.app, tenant, input, &origin(&ctx)).await?;
        Ok(ApiResponse::json(200, &signed_in))
    })
}

pub static LOGIN: Route = Route {
    name: "store_login",
    method: Method::Post,
    path: "/store/auth/login",
    access: Access::StoreKey(AUTH),
    summary: "Sign a customer in",
    tag: TAG,
    aws: AwsAccess::WRITE_SIGNING_CUSTOMERS,
    handler: login,
    doc: || {
        RouteDoc::new()
            .error(AuthCode::InvalidCredentials)
            .request::<CustomerLogin>()
            .response::<SignedIn>(200, "The account and its tokens")
            .error(HttpCode::TooManyRequests)
    },
};

fn refresh(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let input: CustomerRefresh = ctx.req.json()?;
        let tokens = auth::refresh(&ctx.app, tenant, input).await?;
        Ok(ApiResponse::json(200, &tokens))
    })
}

pub static REFRESH: Route = Route {
    name: "store_refresh",
    method: Method::Post,
    path: "/store/auth/refresh",
    access: Access::StoreKey(AUTH),
    summary: "Exchange a refresh token for new tokens (a reused token ends the session)",
    tag: TAG,
    aws: AwsAccess::WRITE_SIGNING_CUSTOMERS,
    handler: refresh,
    doc: || {
        RouteDoc::new()
            .error(AuthCode::InvalidRefreshToken)
            .error(AuthCode::RefreshTokenReused)
            .request::<CustomerRefresh>()
            .response::<Tokens>(200, "New access and refresh tokens")
    },
};

fn logout(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        auth::end_session(&ctx.app, tenant, &me.customer_id, &me.session_id).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static LOGOUT: Route = Route {
    name: "store_logout",
    method: Method::Post,
    path: "/store/auth/logout",
    access: Access::StoreCustomer(AUTH),
    summary: "End the calling session",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: logout,
    doc: || RouteDoc::new().empty_response(204, "Signed out"),
};

fn password_reset(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let input: CustomerResetRequest = ctx.req.json()?;
        auth::request_reset(&ctx.app, tenant, input, &origin(&ctx)).await?;
        Ok(ApiResponse::new(202))
    })
}

pub static PASSWORD_RESET: Route = Route {
    name: "store_password_reset",
    method: Method::Post,
    path: "/store/auth/password-reset",
    access: Access::StoreKey(AUTH),
    summary: "Email a password reset token (answers 202 whether or not the account exists)",
    tag: TAG,
    aws: AwsAccess::WRITE_EMAIL,
    handler: password_reset,
    doc: || {
        RouteDoc::new()
            .request::<CustomerResetRequest>()
            .empty_response(202, "Accepted")
            .error(HttpCode::TooManyRequests)
    },
};

fn password_reset_confirm(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let input: CustomerResetConfirm = ctx.req.json()?;
        auth::confirm_reset(&ctx.app, tenant, input).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static PASSWORD_RESET_CONFIRM: Route = Route {
    name: "store_password_reset_confirm",
    method: Method::Post,
    path: "/store/auth/password-reset/confirm",
    access: Access::StoreKey(AUTH),
    summary: "Set a new password with the emailed token (once, within an hour); ends every session",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: password_reset_confirm,
    doc: || {
        RouteDoc::new()
            .error(CustomerCode::InvalidToken)
            .request::<CustomerResetConfirm>()
            .empty_response(204, "The password is changed")
    },
};

// The signed-in customer ------------------------------------------------------------------------

fn me(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let stored = account::load_live(&ctx.app, tenant, me).await?;
        let view = Account::from(&stored.customer);
        Ok(ApiResponse::json(200, &view).with_etag(view.version))
    })
}

pub static ME: Route = Route {
    name: "store_me",
    method: Method::Get,
    path: "/store/customers/me",
    access: Access::StoreCustomer(AUTH),
    summary: "The signed-in customer's account",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: me,
    doc: || RouteDoc::new().response::<Account>(200, "The account"),
};

fn patch_me(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let input: AccountChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let view = account::change(&ctx.app, tenant, me, input, if_match).await?;
        Ok(ApiResponse::json(200, &view).with_etag(view.version))
    })
}

pub static PATCH_ME: Route = Route {
    name: "store_patch_me",
    method: Method::Patch,
    path: "/store/customers/me",
    access: Access::StoreCustomer(WRITE),
    summary: "Change the signed-in customer's name, phone or marketing consent",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch_me,
    doc: || {
        RouteDoc::new()
            .request::<AccountChange>()
            .response::<Account>(200, "The changed account")
            .error(HttpCode::PreconditionFailed)
    },
};

fn change_password(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let input: CustomerPasswordChange = ctx.req.json()?;
        let stored = account::load_live(&ctx.app, tenant, me).await?;
        auth::change_password(&ctx.app, tenant, &stored, &me.session_id, input).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static CHANGE_PASSWORD: Route = Route {
    name: "store_change_password",
    method: Method::Post,
    path: "/store/customers/me/password",
    access: Access::StoreCustomer(WRITE),
    summary: "Change the signed-in customer's password; ends every other session",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: change_password,
    doc: || {
        RouteDoc::new()
            .request::<CustomerPasswordChange>()
            .empty_response(204, "Changed")
            .error(HttpCode::TooManyRequests)
    },
};

fn change_email(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let input: EmailChangeRequest = ctx.req.json()?;
        let stored = account::load_live(&ctx.app, tenant, me).await?;
        email_change::request(&ctx.app, tenant, &stored, input).await?;
        Ok(ApiResponse::new(202))
    })
}

pub static CHANGE_EMAIL: Route = Route {
    name: "store_change_email",
    method: Method::Post,
    path: "/store/customers/me/email",
    access: Access::StoreCustomer(WRITE),
    summary: "Ask to change the signed-in customer's email: a token is mailed to the new address",
    tag: TAG,
    aws: AwsAccess::WRITE_EMAIL,
    handler: change_email,
    doc: || {
        RouteDoc::new()
            .description(
                "Needs the current password (a wrong one counts toward the lockout, as in the \
                 password change). The account keeps its email until the token, which works for \
                 24 hours and replaces any earlier request's, is confirmed. Whether another \
                 account has the new address is answered only at the confirmation.",
            )
            .request::<EmailChangeRequest>()
            .empty_response(202, "The confirmation email is on its way")
            .error(CustomerCode::EmailTaken)
            .error(HttpCode::TooManyRequests)
    },
};

fn confirm_email(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let input: TokenInput = ctx.req.json()?;
        let stored = account::load_live(&ctx.app, tenant, me).await?;
        let view = email_change::confirm(&ctx.app, tenant, &stored, &input.token).await?;
        Ok(ApiResponse::json(200, &view).with_etag(view.version))
    })
}

pub static CONFIRM_EMAIL: Route = Route {
    name: "store_confirm_email",
    method: Method::Post,
    path: "/store/customers/me/email/confirm",
    access: Access::StoreCustomer(WRITE),
    summary: "Switch the signed-in customer to the new email with the token mailed to it",
    tag: TAG,
    aws: AwsAccess::WRITE_EMAIL,
    handler: confirm_email,
    doc: || {
        RouteDoc::new()
            .description(
                "The token works once, for the customer who asked. The new email is verified, \
                 the old one no longer signs in and is told of the change. 409 `email_taken` \
                 when another account has the new email by now.",
            )
            .request::<TokenInput>()
            .response::<Account>(200, "The account with its new email")
            .error(CustomerCode::EmailTaken)
            .error(CustomerCode::InvalidToken)
    },
};

fn sessions(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let stored = account::load_live(&ctx.app, tenant, me).await?;
        let data = auth::list_sessions(&ctx.app, tenant, &stored, &me.session_id).await?;
        Ok(list(data))
    })
}

pub static LIST_SESSIONS: Route = Route {
    name: "store_list_sessions",
    method: Method::Get,
    path: "/store/customers/me/sessions",
    access: Access::StoreCustomer(AUTH),
    summary: "The signed-in customer's live sessions",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: sessions,
    doc: || RouteDoc::new().page::<SessionView>("Every live session"),
};

fn revoke_session(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let id = ctx.param("id");
        if !crate::ids::is_id(id, "ses")
            || !auth::end_session(&ctx.app, tenant, &me.customer_id, id).await?
        {
            return Err(ApiError::not_found("session"));
        }
        Ok(ApiResponse::no_content())
    })
}

pub static REVOKE_SESSION: Route = Route {
    name: "store_revoke_session",
    method: Method::Delete,
    path: "/store/customers/me/sessions/{id}",
    access: Access::StoreCustomer(AUTH),
    summary: "End one of the signed-in customer's sessions",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: revoke_session,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Ended")
            .error(HttpCode::NotFound)
    },
};

// Addresses ---------------------------------------------------------------------------------------

fn list_addresses(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let data = account::list_addresses(&ctx.app, tenant, &me.customer_id).await?;
        Ok(list(data))
    })
}

pub static LIST_ADDRESSES: Route = Route {
    name: "store_list_addresses",
    method: Method::Get,
    path: "/store/customers/me/addresses",
    access: Access::StoreCustomer(AUTH),
    summary: "The signed-in customer's address book",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: list_addresses,
    doc: || RouteDoc::new().page::<AddressView>("Every address, oldest first"),
};

fn create_address(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let input: NewAddress = ctx.req.json()?;
        let view = account::create_address(&ctx.app, tenant, &me.customer_id, input).await?;
        Ok(ApiResponse::created(
            &format!("/store/customers/me/addresses/{}", view.address.id),
            &view,
        )
        .with_etag(view.address.version))
    })
}

pub static CREATE_ADDRESS: Route = Route {
    name: "store_create_address",
    method: Method::Post,
    path: "/store/customers/me/addresses",
    access: Access::StoreCustomer(WRITE),
    summary: "Add an address (the first one becomes the default shipping and billing address)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create_address,
    doc: || {
        RouteDoc::new()
            .request::<NewAddress>()
            .response::<AddressView>(201, "The address")
            .error(CustomerCode::TooManyAddresses)
    },
};

fn get_address(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let view = account::get_address(&ctx.app, tenant, &me.customer_id, ctx.param("id")).await?;
        Ok(ApiResponse::json(200, &view).with_etag(view.address.version))
    })
}

pub static GET_ADDRESS: Route = Route {
    name: "store_get_address",
    method: Method::Get,
    path: "/store/customers/me/addresses/{id}",
    access: Access::StoreCustomer(AUTH),
    summary: "One of the signed-in customer's addresses",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: get_address,
    doc: || {
        RouteDoc::new()
            .response::<AddressView>(200, "The address")
            .error(HttpCode::NotFound)
    },
};

fn patch_address(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let input: AddressChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let view = account::change_address(
            &ctx.app,
            tenant,
            &me.customer_id,
            ctx.param("id"),
            input,
            if_match,
        )
        .await?;
        Ok(ApiResponse::json(200, &view).with_etag(view.address.version))
    })
}

pub static PATCH_ADDRESS: Route = Route {
    name: "store_patch_address",
    method: Method::Patch,
    path: "/store/customers/me/addresses/{id}",
    access: Access::StoreCustomer(WRITE),
    summary: "Change an address or make it a default",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch_address,
    doc: || {
        RouteDoc::new()
            .request::<AddressChange>()
            .response::<AddressView>(200, "The changed address")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete_address(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, me) = customer(&ctx)?;
        let if_match = ctx.req.if_match()?;
        account::delete_address(&ctx.app, tenant, &me.customer_id, ctx.param("id"), if_match)
            .await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_ADDRESS: Route = Route {
    name: "store_delete_address",
    method: Method::Delete,
    path: "/store/customers/me/addresses/{id}",
    access: Access::StoreCustomer(WRITE),
    summary: "Remove an address (a default it was is cleared)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete_address,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Removed")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn jwks(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move { Ok(crate::auth::jwks_response(ctx.app.config.customer_tokens())) })
}

pub static JWKS: Route = Route {
    name: "store_jwks",
    method: Method::Get,
    path: "/store/.well-known/jwks.json",
    access: Access::Public,
    summary: "The public keys that verify customer access tokens (for storefront servers)",
    tag: TAG,
    aws: AwsAccess::NONE,
    handler: jwks,
    doc: || RouteDoc::new().response::<crate::auth::Jwks>(200, "A JSON Web Key Set"),
};
