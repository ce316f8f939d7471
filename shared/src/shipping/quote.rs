//! Which zone a destination is in, and what its methods cost for a cart. Pure, but for carrier
//! rates, which the provider answers (`provider.rs`).
//!
//! **The zone.** A zone matches a destination when one of its countries is the destination's (or
//! it lists `*`), and, when it lists regions, the destination is in one of them, and, when it
//! lists postcode patterns, the destination's postcode matches one. Of the zones that match,
//! the most specific is the destination's zone and only its methods are offered: one matching
//! the postcode over one matching the region over one naming the country over a `*` zone;
//! between postcode matches, an exact postcode over a range over a prefix, a longer prefix over
//! a shorter; then the zone created first.
//!
//! **A method's price** (see [`Rate`]): offered only when active, in the cart's currency, and
//! within its `min_subtotal` and `max_subtotal` (subtotal after discounts, inclusive); free
//! when that subtotal reaches `free_over`.

use super::model::{Method, Rate, Zone, ANY_COUNTRY};
use crate::places::{best_match, Destination, Specificity};

/// What a cart ships, as methods price it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parcel {
    pub currency: String,
    /// The lines' subtotal after discounts.
    pub subtotal: i64,
    /// Units in the cart.
    pub units: i64,
    /// The lines' weight (variant weight × quantity; variants without a weight weigh nothing),
    /// in the shipping settings' unit.
    pub weight: f64,
}

type Fit = (Option<Specificity>, bool, bool);

fn fit(zone: &Zone, destination: &Destination) -> Option<Fit> {
    let named = zone.countries.contains(&destination.country);
    if !named && !zone.countries.iter().any(|c| c == ANY_COUNTRY) {
        return None;
    }
    if !zone.regions.is_empty() && !zone.regions.iter().any(|r| destination.in_region(r)) {
        return None;
    }
    let postcode = if zone.postcodes.is_empty() {
        None
    } else {
        Some(best_match(&zone.postcodes, destination)?)
    };
    Some((postcode, !zone.regions.is_empty(), named))
}

/// The destination's zone (see the module).
pub fn zone_of<'a>(zones: &'a [Zone], destination: &Destination) -> Option<&'a Zone> {
    let mut best: Option<(&Zone, Fit)> = None;
    for zone in zones {
        let Some(fit) = fit(zone, destination) else {
            continue;
        };
        let better = match &best {
            None => true,
            Some((held, held_fit)) => fit > *held_fit || (fit == *held_fit && zone.id < held.id),
        };
        if better {
            best = Some((zone, fit));
        }
    }
    best.map(|(zone, _)| zone)
}

/// Whether a method is offered for a parcel at all (before its rate).
pub fn offered(method: &Method, parcel: &Parcel) -> bool {
    method.active
        && method.currency == parcel.currency
        && method.min_subtotal.is_none_or(|min| parcel.subtotal >= min)
        && method.max_subtotal.is_none_or(|max| parcel.subtotal <= max)
}

/// A method's price for a parcel from its own table (`None`: not offered). A carrier rate is
/// not known here: `Some(None)` says to ask the provider.
pub fn table_price(method: &Method, parcel: &Parcel) -> Option<Option<i64>> {
    if !offered(method, parcel) {
        return None;
    }
    let price = match &method.rate {
        Rate::Flat { amount } => *amount,
        Rate::Weight { tiers } => {
            let mut tiers: Vec<_> = tiers.iter().collect();
            tiers.sort_by(|a, b| a.up_to.total_cmp(&b.up_to));
            tiers.iter().find(|t| parcel.weight <= t.up_to)?.amount
        }
        Rate::Price { tiers } => {
            tiers
                .iter()
                .filter(|t| parcel.subtotal >= t.from)
                .max_by_key(|t| t.from)?
                .amount
        }
        Rate::PerItem { base, amount } => base + amount * parcel.units,
        Rate::Carrier { .. } => return Some(free(method, parcel).then_some(0)),
    };
    Some(Some(if free(method, parcel) { 0 } else { price }))
}

fn free(method: &Method, parcel: &Parcel) -> bool {
    method.free_over.is_some_and(|t| parcel.subtotal >= t)
}

#[cfg(test)]
mod tests {
    use super::super::model::{PriceTier, WeightTier};
    use super::*;
    use crate::places::PostcodePattern;

    fn zone(id: &str, countries: &[&str], regions: &[&str], postcodes: &[&str]) -> Zone {
        Zone {
            id: id.into(),
            name: id.into(),
            countries: countries.iter().map(|c| (*c).into()).collect(),
            regions: regions.iter().map(|r| (*r).into()).collect(),
            postcodes: postcodes
                .iter()
                .map(|p| PostcodePattern::parse("p", p).unwrap())
                .collect(),
            methods: Vec::new(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    fn method(rate: Rate) -> Method {
        Method {
            id: "shm_1".into(),
            name: "Standard".into(),
            currency: "EUR".into(),
            rate,
            free_over: None,
            min_subtotal: None,
            max_subtotal: None,
            delivery_days: None,
            active: true,
        }
    }

    fn parcel(subtotal: i64, units: i64, weight: f64) -> Parcel {
        Parcel {
            currency: "EUR".into(),
            subtotal,
            units,
            weight,
        }
    }

    #[test]
    fn the_most_specific_zone_wins() {
        let zones = vec![
            zone("shz_1_world", &["*"], &[], &[]),
            zone("shz_2_germany", &["DE", "AT"], &[], &[]),
            zone("shz_3_berlin", &["DE"], &[], &["10000-14999"]),
            zone("shz_4_mitte", &["DE"], &[], &["101*"]),
            zone("shz_5_bavaria", &["DE"], &["DE-BY"], &[]),
        ];
        let at = |country: &str, region: Option<&str>, postcode: Option<&str>| {
            let destination = Destination {
                country: country.into(),
                region: region.map(Into::into),
                postcode: postcode.map(Into::into),
            };
            zone_of(&zones, &destination).map(|z| z.id.clone())
        };
        assert_eq!(
            at("DE", None, Some("10115")).as_deref(),
            Some("shz_3_berlin")
        );
        assert_eq!(
            at("DE", None, Some("12043")).as_deref(),
            Some("shz_3_berlin")
        );
        assert_eq!(
            at("DE", Some("DE-BY"), Some("80331")).as_deref(),
            Some("shz_5_bavaria")
        );
        assert_eq!(
            at("DE", None, Some("20095")).as_deref(),
            Some("shz_2_germany")
        );
        assert_eq!(at("AT", None, None).as_deref(), Some("shz_2_germany"));
        assert_eq!(at("JP", None, None).as_deref(), Some("shz_1_world"));
        // An exact postcode zone would beat the range; a range beats a shorter prefix.
        let mut zones = zones.clone();
        zones.push(zone("shz_6_office", &["DE"], &[], &["10115"]));
        assert_eq!(
            zone_of(
                &zones,
                &Destination {
                    country: "DE".into(),
                    region: None,
                    postcode: Some("10115".into())
                }
            )
            .map(|z| z.id.as_str()),
            Some("shz_6_office")
        );
        assert!(zone_of(&zones[1..], &Destination::country("JP")).is_none());
    }

    #[test]
    fn methods_price_by_their_rate() {
        let flat = method(Rate::Flat { amount: 490 });
        assert_eq!(table_price(&flat, &parcel(1000, 1, 0.0)), Some(Some(490)));
        let free_over = Method {
            free_over: Some(5000),
            ..flat.clone()
        };
        assert_eq!(
            table_price(&free_over, &parcel(4999, 1, 0.0)),
            Some(Some(490))
        );
        assert_eq!(
            table_price(&free_over, &parcel(5000, 1, 0.0)),
            Some(Some(0))
        );
        let bounded = Method {
            min_subtotal: Some(1000),
            max_subtotal: Some(2000),
            ..flat.clone()
        };
        assert_eq!(table_price(&bounded, &parcel(999, 1, 0.0)), None);
        assert_eq!(
            table_price(&bounded, &parcel(2000, 1, 0.0)),
            Some(Some(490))
        );
        assert_eq!(table_price(&bounded, &parcel(2001, 1, 0.0)), None);
        let weight = method(Rate::Weight {
            tiers: vec![
                WeightTier {
                    up_to: 5.0,
                    amount: 890,
                },
                WeightTier {
                    up_to: 1.0,
                    amount: 490,
                },
            ],
        });
        assert_eq!(table_price(&weight, &parcel(0, 2, 1.0)), Some(Some(490)));
        assert_eq!(table_price(&weight, &parcel(0, 2, 1.5)), Some(Some(890)));
        assert_eq!(table_price(&weight, &parcel(0, 2, 5.5)), None);
        let price = method(Rate::Price {
            tiers: vec![
                PriceTier {
                    from: 0,
                    amount: 690,
                },
                PriceTier {
                    from: 5000,
                    amount: 290,
                },
            ],
        });
        assert_eq!(table_price(&price, &parcel(4999, 1, 0.0)), Some(Some(690)));
        assert_eq!(table_price(&price, &parcel(5000, 1, 0.0)), Some(Some(290)));
        let per_item = method(Rate::PerItem {
            base: 200,
            amount: 150,
        });
        assert_eq!(table_price(&per_item, &parcel(0, 3, 0.0)), Some(Some(650)));
        let carrier = method(Rate::Carrier {
            service: "express".into(),
            fallback: 999,
        });
        assert_eq!(table_price(&carrier, &parcel(0, 1, 0.0)), Some(None));
        let inactive = Method {
            active: false,
            ..flat.clone()
        };
        assert_eq!(table_price(&inactive, &parcel(1000, 1, 0.0)), None);
        let dollars = Method {
            currency: "USD".into(),
            ..flat
        };
        assert_eq!(table_price(&dollars, &parcel(1000, 1, 0.0)), None);
    }
}
