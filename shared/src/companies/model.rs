use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A company: one tenant of the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Company {
    /// `co_<ULID>`
    pub id: String,
    pub name: String,
    /// Unique across the platform; staff log in with it.
    pub handle: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// ISO 4217: the default currency of prices and orders.
    pub currency: String,
    /// IANA time zone.
    pub timezone: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}
