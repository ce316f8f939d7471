//! Who is calling: the principal a request is authenticated as, and the tenant it acts for.
//!
//! A [`TenantId`] can only be produced here (from a verified credential) or by sign-up, so a key
//! built from it always names the caller's own tenant: the tenant never comes from input.

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
    },
    Storefront {
        tenant: TenantId,
        key_id: String,
        customer_id: Option<String>,
    },
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
                key_id,
                customer_id,
                ..
            } => customer_id.clone().unwrap_or_else(|| key_id.clone()),
        }
    }
}

/// Authenticates a request for a route's access rule. Staff tokens, storefront keys and customer
/// tokens are verified by the modules that issue them; until a credential kind exists, routes
/// that need it answer 401.
pub async fn authenticate(
    _app: &App,
    access: Access,
    _req: &ApiRequest,
) -> Result<Principal, ApiError> {
    match access {
        Access::Public => Ok(Principal::Anonymous),
        Access::Staff(_) | Access::StaffSelf => {
            Err(ApiError::unauthorized("a staff access token is required"))
        }
        Access::StoreKey(_) | Access::StoreCustomer(_) => {
            Err(ApiError::unauthorized("a storefront API key is required"))
        }
    }
}
