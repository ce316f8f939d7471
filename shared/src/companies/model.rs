use crate::http::FieldError;
use crate::validate::{self, Errors};
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompany {
    pub name: String,
    /// Lower-case letters, digits and hyphens; unique across the platform.
    pub handle: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: String,
}

/// Handles that would confuse people or routes.
const RESERVED_HANDLES: [&str; 8] = [
    "admin", "api", "www", "store", "app", "support", "help", "status",
];

pub fn validate_company(errors: &mut Errors, prefix: &str, c: &NewCompany) {
    errors.check(validate::text(&format!("{prefix}name"), &c.name, 100));
    errors.check(validate::handle(&format!("{prefix}handle"), &c.handle));
    if RESERVED_HANDLES.contains(&c.handle.as_str()) {
        errors.push(FieldError::new(
            format!("{prefix}handle"),
            "reserved",
            "this handle is reserved",
        ));
    }
    errors.check(validate::country(&format!("{prefix}country"), &c.country));
    errors.check(validate::currency(
        &format!("{prefix}currency"),
        &c.currency,
    ));
    errors.check(validate::timezone(
        &format!("{prefix}timezone"),
        &c.timezone,
    ));
}
