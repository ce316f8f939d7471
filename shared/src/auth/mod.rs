//! Who is calling: the principal a request is authenticated as, and the tenant it acts for.
//!
//! A [`TenantId`] can only be produced here (from a verified credential) or by sign-up, so a key
//! built from it always names the caller's own tenant: the tenant never comes from input.

pub mod passwords;
pub mod routes;
pub mod service;
pub mod sessions;
pub mod standing;
pub mod throttle;
pub mod tokens;

use crate::app::App;
use crate::http::{Access, ApiError, ApiRequest};

/// A tenant (company) id, `co_<ULID>`, known to come from a verified credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Only authentication and company sign-up may name a tenant.
    pub(crate) fn trusted(id: impl Into<String>) -> Self {
        TenantId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    Staff {
        tenant: TenantId,
        user_id: String,
        session_id: String,
        /// Granted by the member's roles as they are now (`*` for every permission).
        permissions: Vec<String>,
    },
    /// A storefront: its API key, and the signed-in customer on customer routes.
    Storefront {
        tenant: TenantId,
        key_id: String,
        customer: Option<CustomerSession>,
    },
}

/// The customer a storefront request acts for, from a verified customer access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSession {
    pub customer_id: String,
    pub session_id: String,
}

impl Principal {
    pub fn tenant(&self) -> Option<&TenantId> {
        match self {
            Principal::Anonymous => None,
            Principal::Staff { tenant, .. } | Principal::Storefront { tenant, .. } => Some(tenant),
        }
    }

    /// Who, within the tenant, made the request: scopes idempotency keys and audit entries.
    pub fn actor(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            Principal::Staff { user_id, .. } => user_id.clone(),
            Principal::Storefront {
                key_id, customer, ..
            } => customer
                .as_ref()
                .map_or_else(|| key_id.clone(), |c| c.customer_id.clone()),
        }
    }
}

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
            let tenant = claims.tenant();
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
                    return Err(ApiError::forbidden(format!(
                        "this needs the `{permission}` permission"
                    ))
                    .with_code("missing_permission"));
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
        Err(
            ApiError::forbidden("this origin is not allowed to call the storefront API")
                .with_code(ORIGIN_NOT_ALLOWED),
        )
    }
}

/// The code of a refused origin; its answer carries no CORS headers.
pub const ORIGIN_NOT_ALLOWED: &str = "origin_not_allowed";
