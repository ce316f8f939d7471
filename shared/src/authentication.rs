//! How each request is authenticated for its route's access rule: the pipeline's
//! [`Authenticate`](crate::http::route::Authenticate), supplied with the route table. It sits at
//! the composition root because it reads what credentials mean in the domain modules: API keys
//! (`api_keys`), members and their sessions (`staff::standing`), roles (`iam`) and the security
//! policy (`settings`).

use crate::app::App;
use crate::auth::bearer;
use crate::http::{Access, ApiError, ApiRequest, HttpCode};
use crate::identity::{CustomerSession, Principal, TenantId};
use std::future::Future;
use std::pin::Pin;

/// The pipeline's authenticator (see [`authenticate_request`]).
pub fn authenticate<'a>(
    app: &'a App,
    access: Access,
    req: &'a ApiRequest,
    params: &'a [(String, String)],
) -> Pin<Box<dyn Future<Output = Result<Principal, ApiError>> + Send + 'a>> {
    Box::pin(authenticate_request(app, access, req, params))
}

/// Authenticates a request for a route's access rule. The tenant comes from the verified
/// credential only. A staff access token's signature is verified without a store call; whether it
/// still speaks for an active member's live session, and with which permissions, is then checked
/// against the table (see `staff::standing`): at once for changes, within 5 s for reads.
async fn authenticate_request(
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
            let granted = crate::staff::standing::current_permissions(
                app,
                &tenant,
                &claims.sub,
                &claims.sid,
                change,
            )
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
        Access::StoreKey(scope) | Access::StoreCustomer(scope) | Access::StoreShopper(scope) => {
            let (tenant, key_id) = crate::api_keys::service::authenticate(app, req, scope).await?;
            check_origin(app, &tenant, req).await?;
            let customer = match access {
                Access::StoreCustomer(_) => Some(customer_session(app, &tenant, req)?),
                Access::StoreShopper(_) if bearer(req).is_some() => {
                    Some(customer_session(app, &tenant, req)?)
                }
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
    let security =
        crate::settings::service::typed::<crate::settings::groups::Security>(app, tenant).await?;
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
