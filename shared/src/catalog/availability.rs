//! Storefront availability: whether shoppers can buy a variant now, and (when the company shows
//! it) how many units.
//!
//! Beside each product (in its partition, so the product page reads everything in one query) the
//! catalog keeps:
//!
//! - one **stock summary** per variant: the units not reserved at each location
//!   (`u_<location id>`). Inventory moves it in the same transaction as the stock level, with an
//!   unconditional `ADD`, so it is exact at every moment and adds no contention;
//! - one **availability record**: which locations sell online (active, open, fulfilling online
//!   orders; inventory writes the list when it changes) and what the listing entries show.
//!
//! A variant's sellable units are the sum, over the selling locations, of what exceeds its safety
//! stock there: exactly what a reservation can take. The product page computes them on every read
//! from the summaries and the current settings. The listing cannot read summaries (one query over
//! a listing partition), so its entries carry each variant's status, rewritten only when a
//! status changes: a hot variant's reservations do not all write to the company's listing
//! partitions. A company that shows quantities accepts that cost: its entries then change with
//! every unit.

use super::model::{Product, Variant};
use super::store::ProductPartition;
use crate::settings::groups::Inventory;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockStatus {
    /// More units than the low-stock threshold, or a variant whose stock is not tracked.
    InStock,
    /// Some units, at most the company's low-stock threshold.
    LowStock,
    /// None, and the variant does not allow backorders.
    OutOfStock,
    /// None, but orders are still taken.
    Backorder,
}

/// What a shopper can buy of a variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Availability {
    pub status: StockStatus,
    /// Units available, when the company shows quantities (inventory settings,
    /// `show_stock_quantity`) and the variant's stock is tracked.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub quantity: Option<i64>,
}

impl Availability {
    /// Whether a shopper can order it now.
    pub fn purchasable(&self) -> bool {
        self.status != StockStatus::OutOfStock
    }
}

/// Units not reserved, by location id (one stock summary).
pub type UnitsByLocation = BTreeMap<String, i64>;

/// Which locations sell online, and what the product's listing entries show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityRecord {
    /// Active, open locations that fulfil online orders.
    #[serde(default)]
    pub sellable: Vec<String>,
    /// The availability in the listing entries, by variant id.
    #[serde(default)]
    pub listed: BTreeMap<String, Availability>,
    /// 0: never written.
    #[serde(default)]
    pub version: u64,
}

impl ProductPartition {
    /// The units a reservation could take of a variant now.
    pub fn sellable_units(&self, variant: &Variant) -> i64 {
        sellable_units(
            variant,
            self.units.get(variant.id.as_str()),
            &self.record.sellable,
        )
    }

    /// Availability of every variant as the product page shows it.
    pub fn page(&self, settings: &Inventory) -> BTreeMap<String, Availability> {
        self.product
            .variants
            .iter()
            .map(|v| (v.id.to_string(), of(v, self.sellable_units(v), settings)))
            .collect()
    }

    /// Availability of every variant of `product` (which may be a changed copy of the stored one)
    /// as its listing entries show it, counting units at `sellable` locations.
    pub fn listing(
        &self,
        product: &Product,
        sellable: &[String],
        settings: &Inventory,
    ) -> BTreeMap<String, Availability> {
        product
            .variants
            .iter()
            .map(|v| {
                let units = sellable_units(v, self.units.get(v.id.as_str()), sellable);
                (v.id.to_string(), listed(v, units, settings))
            })
            .collect()
    }
}

/// Sum over the selling locations of the units above the variant's safety stock.
pub fn sellable_units(
    variant: &Variant,
    units: Option<&UnitsByLocation>,
    sellable: &[String],
) -> i64 {
    let Some(units) = units else {
        return 0;
    };
    sellable
        .iter()
        .filter_map(|location| units.get(location))
        .map(|u| (u - variant.safety_stock).max(0))
        .sum()
}

/// A variant's availability with `units` sellable (the product page).
pub fn of(variant: &Variant, units: i64, settings: &Inventory) -> Availability {
    if !variant.track_inventory {
        return Availability {
            status: StockStatus::InStock,
            quantity: None,
        };
    }
    let status = if units > settings.low_stock_threshold {
        StockStatus::InStock
    } else if units > 0 {
        StockStatus::LowStock
    } else if variant.allow_backorder {
        StockStatus::Backorder
    } else {
        StockStatus::OutOfStock
    };
    Availability {
        status,
        quantity: settings.show_stock_quantity.then_some(units.max(0)),
    }
}

/// A variant's availability as a listing shows it: as the product page does.
pub fn listed(variant: &Variant, units: i64, settings: &Inventory) -> Availability {
    of(variant, units, settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(track: bool, backorder: bool, safety: i64) -> Variant {
        let mut v: Variant = serde_json::from_value(serde_json::json!({
            "id": "var_01J00000000000000000000000",
            "sku": null, "barcode": null, "price": null, "compare_at_price": null,
            "cost": null, "weight": null, "options": {}, "image_id": null, "position": 0,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "version": 1
        }))
        .expect("a variant");
        v.track_inventory = track;
        v.allow_backorder = backorder;
        v.safety_stock = safety;
        v
    }

    fn settings(threshold: i64, show: bool) -> Inventory {
        Inventory {
            low_stock_threshold: threshold,
            show_stock_quantity: show,
        }
    }

    #[test]
    fn sellable_units_count_selling_locations_above_safety_stock() {
        let v = variant(true, false, 2);
        let units: UnitsByLocation = [
            ("loc_a".into(), 5),
            ("loc_b".into(), 1),
            ("loc_c".into(), 9),
        ]
        .into_iter()
        .collect();
        let sellable = vec!["loc_a".to_owned(), "loc_b".to_owned()];
        // loc_a gives 3, loc_b none (below its safety stock), loc_c does not sell online.
        assert_eq!(sellable_units(&v, Some(&units), &sellable), 3);
        assert_eq!(sellable_units(&v, None, &sellable), 0);
    }

    #[test]
    fn statuses_follow_the_threshold_and_the_variant() {
        let s = settings(5, false);
        let status = |v: &Variant, units| of(v, units, &s).status;
        let tracked = variant(true, false, 0);
        assert_eq!(status(&tracked, 6), StockStatus::InStock);
        assert_eq!(status(&tracked, 5), StockStatus::LowStock);
        assert_eq!(status(&tracked, 1), StockStatus::LowStock);
        assert_eq!(status(&tracked, 0), StockStatus::OutOfStock);
        assert_eq!(status(&variant(true, true, 0), 0), StockStatus::Backorder);
        assert_eq!(status(&variant(false, false, 0), 0), StockStatus::InStock);
        assert_eq!(of(&tracked, 3, &s).quantity, None);
    }

    #[test]
    fn quantities_show_when_enabled() {
        let s = settings(5, true);
        let v = variant(true, false, 0);
        assert_eq!(of(&v, 40, &s).quantity, Some(40));
        assert_eq!(listed(&v, 40, &s).quantity, Some(40));
        assert_eq!(listed(&v, 4, &s).quantity, Some(4));
        assert_eq!(of(&variant(false, false, 0), 40, &s).quantity, None);
        assert_eq!(of(&v, -3, &s).quantity, Some(0));
    }
}
