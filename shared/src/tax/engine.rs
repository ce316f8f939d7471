//! The built-in tax engine: which rates apply to an amount, and how much each charges. Pure.
//!
//! **Which rates.** A rate applies to a destination when its country is the destination's, its
//! region (when it names one) is the destination's, and its postcode pattern (when it has one)
//! matches the destination's postcode; and to a line when its class is the line's. Rates of
//! different priorities add up (state, county and city sales taxes); of the rates of one
//! priority that apply, only the most specific does: one matching the postcode over one matching
//! the region over one for the whole country (between postcode patterns, an exact postcode over
//! a range over a prefix, a longer prefix over a shorter), then the oldest. The class `exempt`
//! is never taxed.
//!
//! **How much.** Taxes are worked out per line (and for shipping), per rate, then summed: the
//! cart's tax is the sum of its lines'. Prices that exclude tax: each rate charges its share of
//! the line's amount after discounts, rounded half away from zero to a whole minor unit
//! ([`rate_of`]); a compound rate charges its share of the amount plus the taxes of the rates
//! before it (lower priorities). Prices that include tax: the line's amount is the gross; the
//! net is the gross divided by the combined factor of the rates (`1 + Σ rate`, compound rates
//! multiplying), rounded half away from zero; the tax is the gross less the net, shared over
//! the rates in proportion to what each would charge on the net ([`allocate`]). Either way the
//! rates' charges add up to the line's tax exactly.

use super::model::{TaxRate, EXEMPT};
use crate::places::{best_match, Destination, Specificity};
use crate::pricing::{allocate, rate_of, RATE_ONE};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One rate's charge on an amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Charge {
    /// The rate (`txr_…`), or the provider's own name for it.
    pub rate_id: String,
    pub name: String,
    /// Millionths: 19 % is 190000.
    pub rate: i64,
    pub amount: i64,
}

/// How specific a rate is for a destination (higher wins).
type Fit = (Option<Specificity>, bool);

fn fit(rate: &TaxRate, destination: &Destination) -> Option<Fit> {
    if rate.country != destination.country {
        return None;
    }
    let region = match &rate.region {
        Some(region) if !destination.in_region(region) => return None,
        Some(_) => true,
        None => false,
    };
    let postcode = match &rate.postcode {
        Some(pattern) => Some(best_match(std::slice::from_ref(pattern), destination)?),
        None => None,
    };
    Some((postcode, region))
}

/// The rates that apply to an amount of `class` shipped to `destination`, lowest priority first
/// (see the module).
pub fn applicable<'a>(
    rates: &'a [TaxRate],
    destination: &Destination,
    class: &str,
) -> Vec<&'a TaxRate> {
    if class == EXEMPT {
        return Vec::new();
    }
    let mut best: BTreeMap<u32, (&TaxRate, Fit)> = BTreeMap::new();
    for rate in rates.iter().filter(|r| r.tax_class == class) {
        let Some(fit) = fit(rate, destination) else {
            continue;
        };
        let better = match best.get(&rate.priority) {
            None => true,
            Some((held, held_fit)) => fit > *held_fit || (fit == *held_fit && rate.id < held.id),
        };
        if better {
            best.insert(rate.priority, (rate, fit));
        }
    }
    best.into_values().map(|(rate, _)| rate).collect()
}

fn charge(rate: &TaxRate, amount: i64) -> Charge {
    Charge {
        rate_id: rate.id.clone(),
        name: rate.name.clone(),
        rate: rate.rate,
        amount,
    }
}

/// What each rate charges on `amount` when prices exclude tax.
pub fn exclusive(amount: i64, rates: &[&TaxRate]) -> Vec<Charge> {
    let mut charged = 0_i64;
    rates
        .iter()
        .map(|rate| {
            let base = if rate.compound {
                amount + charged
            } else {
                amount
            };
            let tax = rate_of(base, rate.rate);
            charged += tax;
            charge(rate, tax)
        })
        .collect()
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

/// The factor a net amount is multiplied by to make the gross, as `numerator / denominator`.
fn gross_factor(rates: &[&TaxRate]) -> Option<(i128, i128)> {
    let one = i128::from(RATE_ONE);
    let (mut num, mut den) = (1_i128, 1_i128);
    for rate in rates {
        let r = i128::from(rate.rate);
        if rate.compound {
            // m × (1 + r)
            num = num.checked_mul(one + r)?;
            den = den.checked_mul(one)?;
        } else {
            // m + r
            num = num.checked_mul(one)?.checked_add(r.checked_mul(den)?)?;
            den = den.checked_mul(one)?;
        }
        let common = gcd(num, den);
        num /= common;
        den /= common;
    }
    Some((num, den))
}

/// `value × numerator / denominator`, rounded half away from zero.
fn scaled(value: i64, numerator: i128, denominator: i128) -> Option<i64> {
    let product = i128::from(value).checked_mul(numerator)?;
    let quotient = product / denominator;
    let remainder = product % denominator;
    let rounded = if remainder.abs() * 2 >= denominator {
        quotient + product.signum()
    } else {
        quotient
    };
    i64::try_from(rounded).ok()
}

/// What each rate's share is of the tax included in `gross` when prices include tax.
pub fn inclusive(gross: i64, rates: &[&TaxRate]) -> Vec<Charge> {
    if rates.is_empty() {
        return Vec::new();
    }
    let net = gross_factor(rates)
        .and_then(|(num, den)| scaled(gross, den, num))
        // Beyond i128 (many compound rates on a huge amount): the rates one by one.
        .unwrap_or_else(|| {
            rates.iter().rev().fold(gross, |amount, rate| {
                scaled(
                    amount,
                    i128::from(RATE_ONE),
                    i128::from(RATE_ONE + rate.rate),
                )
                .unwrap_or(amount)
            })
        });
    let total = (gross - net).max(0);
    let weights: Vec<i64> = exclusive(net, rates).iter().map(|c| c.amount).collect();
    rates
        .iter()
        .zip(allocate(total, &weights))
        .map(|(rate, amount)| charge(rate, amount))
        .collect()
}

/// What each rate charges on `amount` (after discounts), included or added.
pub fn charges(amount: i64, rates: &[&TaxRate], prices_include_tax: bool) -> Vec<Charge> {
    if prices_include_tax {
        inclusive(amount, rates)
    } else {
        exclusive(amount, rates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::places::PostcodePattern;
    use proptest::prelude::*;

    pub(crate) fn rate(id: &str, country: &str, percent_millionths: i64) -> TaxRate {
        TaxRate {
            id: id.into(),
            name: id.into(),
            country: country.into(),
            region: None,
            postcode: None,
            tax_class: "standard".into(),
            rate: percent_millionths,
            compound: false,
            priority: 1,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    fn amounts(charges: &[Charge]) -> Vec<i64> {
        charges.iter().map(|c| c.amount).collect()
    }

    fn ny() -> Destination {
        Destination {
            country: "US".into(),
            region: Some("US-NY".into()),
            postcode: Some("10001".into()),
        }
    }

    fn new_york_rates() -> Vec<TaxRate> {
        let state = TaxRate {
            region: Some("US-NY".into()),
            ..rate("txr_1_state", "US", 40_000)
        };
        let city = TaxRate {
            region: Some("US-NY".into()),
            postcode: Some(PostcodePattern::parse("p", "10001-10292").unwrap()),
            priority: 2,
            ..rate("txr_2_city", "US", 45_000)
        };
        let mctd = TaxRate {
            region: Some("US-NY".into()),
            postcode: Some(PostcodePattern::parse("p", "100*").unwrap()),
            priority: 3,
            ..rate("txr_3_mctd", "US", 3_750)
        };
        // Another state's rate, and a county rate the city's postcode range outranks.
        let nj = TaxRate {
            region: Some("US-NJ".into()),
            ..rate("txr_4_nj", "US", 66_250)
        };
        let county = TaxRate {
            region: Some("US-NY".into()),
            priority: 2,
            ..rate("txr_5_county", "US", 40_000)
        };
        vec![state, city, mctd, nj, county]
    }

    #[test]
    fn rates_of_each_priority_add_up_the_most_specific_winning() {
        let rates = new_york_rates();
        let chosen: Vec<&str> = applicable(&rates, &ny(), "standard")
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(chosen, ["txr_1_state", "txr_2_city", "txr_3_mctd"]);
        // Upstate: the state and the county.
        let albany = Destination {
            postcode: Some("12207".into()),
            ..ny()
        };
        let chosen: Vec<&str> = applicable(&rates, &albany, "standard")
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(chosen, ["txr_1_state", "txr_5_county"]);
        assert!(applicable(&rates, &ny(), "exempt").is_empty());
        assert!(applicable(&rates, &Destination::country("DE"), "standard").is_empty());
    }

    #[test]
    fn new_york_city_charges_8_875_percent_rate_by_rate() {
        let rates = new_york_rates();
        let chosen = applicable(&rates, &ny(), "standard");
        // 100.00 USD: 4.00 + 4.50 + 0.375 (0.38).
        assert_eq!(amounts(&exclusive(10_000, &chosen)), [400, 450, 38]);
        // 19.99 USD: 0.7996 (0.80) + 0.89955 (0.90) + 0.0749625 (0.07).
        assert_eq!(amounts(&exclusive(1_999, &chosen)), [80, 90, 7]);
    }

    #[test]
    fn quebec_charges_gst_and_qst_on_the_same_base() {
        let gst = rate("txr_gst", "CA", 50_000);
        let qst = TaxRate {
            region: Some("CA-QC".into()),
            priority: 2,
            ..rate("txr_qst", "CA", 99_750)
        };
        let rates = [gst, qst];
        let montreal = Destination {
            country: "CA".into(),
            region: Some("CA-QC".into()),
            postcode: Some("H2X 1Y4".into()),
        };
        let chosen = applicable(&rates, &montreal, "standard");
        // 100.00 CAD: 5.00 + 9.975 (9.98).
        assert_eq!(amounts(&exclusive(10_000, &chosen)), [500, 998]);
    }

    #[test]
    fn a_compound_rate_charges_on_the_taxes_before_it() {
        let base = rate("txr_a", "CA", 50_000);
        let compound = TaxRate {
            compound: true,
            priority: 2,
            ..rate("txr_b", "CA", 95_000)
        };
        let rates = [base, compound];
        let chosen = applicable(&rates, &Destination::country("CA"), "standard");
        // 100.00: 5.00, then 9.5 % of 105.00 = 9.975 (9.98).
        assert_eq!(amounts(&exclusive(10_000, &chosen)), [500, 998]);
        // Included in 114.98: net 100.00 exactly; 14.98 shared 5.00 and 9.98.
        assert_eq!(amounts(&inclusive(11_498, &chosen)), [500, 998]);
    }

    #[test]
    fn german_vat_included_in_prices() {
        let standard = rate("txr_de", "DE", 190_000);
        let reduced = TaxRate {
            tax_class: "reduced".into(),
            ..rate("txr_de_reduced", "DE", 70_000)
        };
        let rates = [standard, reduced];
        let berlin = Destination::country("DE");
        // 119.00 EUR gross: 19.00 VAT; 10.70 EUR at 7 %: 0.70.
        let s = applicable(&rates, &berlin, "standard");
        assert_eq!(amounts(&inclusive(11_900, &s)), [1_900]);
        let r = applicable(&rates, &berlin, "reduced");
        assert_eq!(amounts(&inclusive(1_070, &r)), [70]);
        // 9.99 EUR gross at 19 %: net 8.39495… (8.39), VAT 1.60.
        assert_eq!(amounts(&inclusive(999, &s)), [160]);
    }

    proptest! {
        #[test]
        fn included_tax_leaves_a_net_that_taxes_back_to_the_gross_within_units(
            gross in 0i64..1_000_000_000_000,
            first in 0i64..=RATE_ONE,
            second in 0i64..=RATE_ONE,
            compound: bool,
        ) {
            let a = rate("txr_a", "CA", first);
            let b = TaxRate { compound, priority: 2, ..rate("txr_b", "CA", second) };
            let rates = [a, b];
            let chosen: Vec<&TaxRate> = rates.iter().collect();
            let included = inclusive(gross, &chosen);
            let tax: i64 = included.iter().map(|c| c.amount).sum();
            prop_assert!(tax >= 0 && tax <= gross);
            let net = gross - tax;
            // Taxing the net again comes back near the gross: the net's rounding (half a unit)
            // grows by the gross factor (1 + a)(1 + b), at most 4; the first rate's rounding
            // by 1 + b when the second compounds on it, at most 2; and the second's rounding is
            // half a unit: at most 3.5 in all, so 3 whole units.
            let again: i64 = exclusive(net, &chosen).iter().map(|c| c.amount).sum();
            prop_assert!((net + again - gross).abs() <= 3, "{} + {} vs {}", net, again, gross);
        }
    }
}
