//! The company's security policy: how long tokens and sessions live, the password rule, the
//! origins storefront browsers may call from. Companies change it as the settings group `security`
//! (validated there); sign-in and authentication read it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Security {
    pub password_min_length: i64,
    pub access_token_ttl_seconds: i64,
    pub refresh_idle_ttl_seconds: i64,
    pub refresh_absolute_ttl_seconds: i64,
    /// Origins allowed to call the storefront API from a browser, e.g. `https://shop.example.com`.
    pub allowed_origins: Vec<String>,
    pub reauthenticate_for_sensitive_actions: bool,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            password_min_length: 12,
            access_token_ttl_seconds: 900,
            refresh_idle_ttl_seconds: 7 * 24 * 3600,
            refresh_absolute_ttl_seconds: 30 * 24 * 3600,
            allowed_origins: Vec::new(),
            reauthenticate_for_sensitive_actions: false,
        }
    }
}
