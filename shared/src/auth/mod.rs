//! Who is calling: authentication of a request for its route's access rule, and the staff
//! sign-in flows. The identity types it produces are in [`crate::identity`].

pub mod errors;
pub mod events;
pub mod passwords;
pub mod routes;
pub mod service;
pub mod sessions;
pub mod standing;
pub mod throttle;
pub use crate::identity::{CustomerSession, Principal, TenantId};
pub use crate::tokens;

use crate::app::App;
use crate::http::HttpCode;
use crate::http::{Access, ApiError, ApiRequest};

fn bearer(req: &ApiRequest) -> Option<&str> {
    let value = req.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Authenticates a request for a route's access rule. The tenant comes from the verified
/// credential only. A staff access token's signature is verified without a store call; whether it
/// still speaks for an active member's live session, and with which permissions, is then checked
/// against the table (see [`standing`]): at once for changes, within 5 s for reads.
pub async fn authenticate(
    app: &App,
    access: Access,
    req: &ApiRequest,
    params: &[(String, String)],
) -> Result<Principal, ApiError> {
    match access {
        Access::Public => Ok(Principal::Anonymous),
        Access::Staff(_) | Access::StaffSelf => {
            let token = bearer(req)
                .ok_or_else(|| ApiError::unauthorized("a staff access token is required"))?;
            let claims = app
                .config
                .staff_tokens()
                .verify(token, app.clock.epoch_seconds())?;
            let tenant = TenantId::trusted(claims.tid.clone());
            let change = !matches!(req.method.as_str(), "GET" | "HEAD");
            let granted =
                standing::current_permissions(app, &tenant, &claims.sub, &claims.sid, change)
                    .await?;
            if let Access::Staff(template) = access {
                // A permission may name a path parameter: `settings.{group}.write`.
                let mut permission = template.to_owned();
                for (name, value) in params {
                    permission = permission.replace(&format!("{{{name}}}"), value);
                }
                if !crate::iam::permissions::grants(&granted, &permission) {
                    return Err(ApiError::new(
                        HttpCode::MissingPermission,
                        format!("this needs the `{permission}` permission"),
                    ));
                }
            }
            Ok(Principal::Staff {
                tenant,
                user_id: claims.sub,
                session_id: claims.sid,
                permissions: granted,
            })
        }
        Access::StoreKey(scope) | Access::StoreCustomer(scope) => {
            let (tenant, key_id) = crate::api_keys::service::authenticate(app, req, scope).await?;
            check_origin(app, &tenant, req).await?;
            let customer = match access {
                Access::StoreCustomer(_) => Some(customer_session(app, &tenant, req)?),
                _ => None,
            };
            Ok(Principal::Storefront {
                tenant,
                key_id,
                customer,
            })
        }
    }
}

/// A customer access token of the key's own tenant (a staff token never verifies here: it has
/// another audience and another signing key).
fn customer_session(
    app: &App,
    tenant: &TenantId,
    req: &ApiRequest,
) -> Result<CustomerSession, ApiError> {
    let token =
        bearer(req).ok_or_else(|| ApiError::unauthorized("a customer access token is required"))?;
    let claims = app
        .config
        .customer_tokens()
        .verify(token, app.clock.epoch_seconds())?;
    if claims.tid != tenant.as_str() {
        return Err(ApiError::unauthorized(
            "the access token is invalid or expired",
        ));
    }
    Ok(CustomerSession {
        customer_id: claims.sub,
        session_id: claims.sid,
    })
}

/// Refuses browser requests from origins the company has not allowed (`security.allowed_origins`;
/// an empty list allows every origin). Requests without `Origin` (servers, apps) pass.
async fn check_origin(app: &App, tenant: &TenantId, req: &ApiRequest) -> Result<(), ApiError> {
    let Some(origin) = req.header("origin") else {
        return Ok(());
    };
    let security: crate::settings::groups::Security =
        crate::settings::service::typed(app, tenant, crate::settings::groups::Group::Security)
            .await?;
    if security.allowed_origins.is_empty()
        || security
            .allowed_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin.trim_end_matches('/')))
    {
        Ok(())
    } else {
        Err(ApiError::new(
            HttpCode::OriginNotAllowed,
            "this origin is not allowed to call the storefront API",
        ))
    }
}
