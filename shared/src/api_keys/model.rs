//! API key records.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every scope a key may carry, with what it allows.
pub const SCOPES: [(&str, &str); 7] = [
    (
        "store.read",
        "Read the storefront settings (GET /store/info)",
    ),
    ("products.read", "Read active products"),
    ("categories.read", "Read categories"),
    (
        "customers.auth",
        "Register, sign in and read the signed-in customer's account",
    ),
    (
        "customers.write",
        "Change the signed-in customer's profile, password and addresses",
    ),
    ("carts.write", "Create and change carts"),
    ("checkout.write", "Check out carts"),
];

pub fn scope_exists(scope: &str) -> bool {
    SCOPES.iter().any(|(name, _)| *name == scope)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Revoked,
}

/// An API key as the admin API shows it: never the secret itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    /// `key_<ULID>`
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// The start of the key, to recognise it: `pk_Ab12`.
    pub prefix: String,
    /// The last four characters of the key.
    pub last_four: String,
    pub status: KeyStatus,
    /// The staff user who created it.
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub rotated_at: Option<String>,
    pub revoked_at: Option<String>,
    /// When the key was last used, to the minute.
    pub last_used_at: Option<String>,
    pub version: u64,
}

/// An API key as stored: with the hash that names its lookup item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Hex SHA-256 of the key.
    pub hash: String,
    /// Epoch seconds of the last recorded use (0 when never used).
    pub last_used_epoch: i64,
}

/// A key with its secret: the answer of create and rotate, the only time the secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevealedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The full key. Store it now: it is not shown again.
    pub secret: String,
}
