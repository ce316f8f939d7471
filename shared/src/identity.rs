//! Who is calling: the principal a request is authenticated as, and the tenant it acts for.
//!
//! A [`TenantId`] can only be produced by authentication (from a verified credential) or by
//! sign-up, so a key built from it always names the caller's own tenant: the tenant never comes
//! from input. These types depend on nothing else in the crate, so every layer may name them.

/// A tenant (company) id, `co_<ULID>`, known to come from a verified credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Only authentication and company sign-up may name a tenant.
    pub(crate) fn trusted(id: impl Into<String>) -> Self {
        TenantId(id.into())
    }

    /// A tenant a test signed up through the API (the `test-support` feature only).
    #[cfg(feature = "test-support")]
    pub fn for_tests(id: impl Into<String>) -> Self {
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
