//! Shipping zones and their methods, as stored and shown.

use crate::places::PostcodePattern;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Matches every country (a "rest of the world" zone).
pub const ANY_COUNTRY: &str = "*";

/// Where a set of shipping methods applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Zone {
    /// `shz_<ULID>`
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2 codes, or `["*"]` for every country.
    pub countries: Vec<String>,
    /// ISO 3166-2 codes (`US-NY`): when given, only these regions of the countries.
    pub regions: Vec<String>,
    /// Postcode patterns (`10115`, `101*`, `10000-14999`): when given, only these postcodes.
    #[schema(value_type = Vec<String>)]
    pub postcodes: Vec<PostcodePattern>,
    pub methods: Vec<Method>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// A way to ship, with its price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Method {
    /// `shm_<ULID>`: the option id a cart chooses.
    pub id: String,
    /// What shoppers see (`Standard`, `Express`).
    pub name: String,
    /// The currency of its amounts; offered to carts in that currency.
    pub currency: String,
    pub rate: Rate,
    /// Free when the cart's subtotal after discounts reaches this.
    pub free_over: Option<i64>,
    /// Offered only from this subtotal after discounts (inclusive).
    pub min_subtotal: Option<i64>,
    /// Offered only up to this subtotal after discounts (inclusive).
    pub max_subtotal: Option<i64>,
    /// The estimated delivery window, in days.
    pub delivery_days: Option<DeliveryDays>,
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryDays {
    pub min: u32,
    pub max: u32,
}

/// How a method's price is worked out. Amounts are minor units of the method's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rate {
    /// One price.
    Flat { amount: i64 },
    /// By the cart's weight (its lines' variant weights, in the shipping settings' unit): the
    /// first tier the weight does not exceed; heavier than every tier, not offered.
    Weight { tiers: Vec<WeightTier> },
    /// By the cart's subtotal after discounts: the tier with the highest `from` the subtotal
    /// reaches; below every tier, not offered.
    Price { tiers: Vec<PriceTier> },
    /// `base` plus `amount` for every unit in the cart.
    PerItem { base: i64, amount: i64 },
    /// Asked of the carrier rate provider for `service`; `fallback` when it has no rate or
    /// does not answer in time.
    Carrier { service: String, fallback: i64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightTier {
    pub up_to: f64,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceTier {
    pub from: i64,
    pub amount: i64,
}

/// A shipping option for a cart: a method of the zone its address is in, priced for it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ShippingOption {
    /// The method's id: what `POST /store/carts/{id}/shipping-method` takes.
    pub id: String,
    pub name: String,
    pub amount: i64,
    pub currency: String,
    pub delivery_days: Option<DeliveryDays>,
    pub zone_id: String,
    pub zone_name: String,
}
