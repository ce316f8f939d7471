//! Pricing: currencies with their minor units, the two places amounts are ever rounded
//! (`money.rs`: a rate of an amount, and an amount shared out in proportion), and the totals
//! engine carts and orders are priced with (`totals.rs`), with one port per adjuster (discounts,
//! shipping, tax) that later modules fill. Pure: no store, no clock.

pub mod money;
pub mod totals;

pub use money::{allocate, rate_of, Currency, RATE_ONE};
pub use totals::{
    compute, Adjusters, Discounts, FixedDiscounts, FixedShipping, FixedTax, LineInput, LineTotals,
    NoDiscounts, NoShipping, NoTax, PricingError, PricingInput, Shipping, ShippingTotals, Tax,
    TaxOutcome, Totals,
};
