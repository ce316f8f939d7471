//! Tax rates and classes as stored and shown.

use crate::places::PostcodePattern;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The classes every company has; settings add their own (`tax.custom_classes`).
pub use crate::settings::groups::BUILT_IN_TAX_CLASSES as BUILT_IN_CLASSES;
/// The class that is never taxed, whatever rates exist.
pub const EXEMPT: &str = "exempt";

/// A tax rate: what share of an amount of one class shipped to a place is tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaxRate {
    /// `txr_<ULID>`
    pub id: String,
    /// Shown on the cart's tax lines (`NY State Sales Tax`, `MwSt. 19 %`).
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// ISO 3166-2 (`US-NY`): only shipments to this region.
    pub region: Option<String>,
    /// Only shipments to postcodes matching this pattern (`10001`, `100*`, `10001-10292`).
    #[schema(value_type = Option<String>)]
    pub postcode: Option<PostcodePattern>,
    /// The class of what it taxes (`standard`, `reduced`, `zero`, or one of the settings'
    /// `custom_classes`).
    pub tax_class: String,
    /// Millionths of the amount: 19 % is 190000, 9.975 % is 99750.
    pub rate: i64,
    /// Charged on the amount plus the taxes of the rates of lower priorities.
    pub compound: bool,
    /// 1 to 10. Rates of different priorities add up; of one priority only the most specific
    /// applies.
    pub priority: u32,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// A tax rate as staff see it: with its rate as a percentage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TaxRateView {
    #[serde(flatten)]
    pub rate: TaxRate,
    /// `rate` as a percentage (19.0, 9.975).
    pub percentage: f64,
}

impl From<TaxRate> for TaxRateView {
    fn from(rate: TaxRate) -> Self {
        TaxRateView {
            percentage: rate.rate as f64 / 10_000.0,
            rate,
        }
    }
}
