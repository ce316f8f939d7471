//! Currencies, and the two ways an amount is ever divided: a rate of an amount, and an amount
//! shared out in proportion.
//!
//! Amounts are whole minor units (`i64`: cents for EUR, yen for JPY, fils for KWD), so rounding
//! to the currency's exponent is rounding to a whole minor unit. It happens in exactly two
//! places, both here:
//!
//! - [`rate_of`]: a rate (in millionths: 19 % is 190,000) of an amount, rounded half away from
//!   zero (what a shopper computes on paper: 2.5 cents is 3, −2.5 is −3);
//! - [`allocate`]: an amount shared in proportion to weights by the largest-remainder method:
//!   each share is rounded down, then the units left over go one each to the shares whose
//!   dropped fractions were largest, the earlier share first on a tie. The shares always add up
//!   to the amount exactly, and no share is more than one unit from its exact proportion.

use serde::{Deserialize, Serialize};

/// A currency a company can sell in: an ISO 4217 code with a decimal exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: iso_currency::Currency,
    exponent: u8,
}

impl Currency {
    /// The currency of an ISO 4217 code (upper case); `None` for an unknown code or one without
    /// minor units defined (gold, special drawing rights, ...).
    pub fn parse(code: &str) -> Option<Currency> {
        let code = iso_currency::Currency::from_code(code)?;
        let exponent = u8::try_from(code.exponent()?).ok()?;
        Some(Currency { code, exponent })
    }

    pub fn code(&self) -> &'static str {
        self.code.code()
    }

    /// Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Minor units in one major unit (100 for EUR).
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(u32::from(self.exponent))
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("not an ISO 4217 currency: {code}")))
    }
}

/// Millionths: a rate of 1,000,000 is 100 %.
pub const RATE_ONE: i64 = 1_000_000;

/// `rate` millionths of `amount`, rounded half away from zero to a whole minor unit.
pub fn rate_of(amount: i64, rate: i64) -> i64 {
    let product = i128::from(amount) * i128::from(rate);
    let one = i128::from(RATE_ONE);
    let quotient = product / one;
    let remainder = product % one;
    let rounded = if remainder.abs() * 2 >= one {
        quotient + product.signum()
    } else {
        quotient
    };
    rounded as i64
}

/// Shares `amount` (which may be negative) in proportion to `weights` (each ≥ 0) by the largest
/// remainder method (see the module). All weights zero: shared equally. No weights: nothing.
pub fn allocate(amount: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let total: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    let weights: Vec<i128> = if total == 0 {
        vec![1; weights.len()]
    } else {
        weights.iter().map(|w| i128::from((*w).max(0))).collect()
    };
    let total: i128 = weights.iter().sum();
    let sign = if amount < 0 { -1 } else { 1 };
    let magnitude = i128::from(amount).abs();
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, weight) in weights.iter().enumerate() {
        let exact = magnitude * weight;
        shares.push(exact / total);
        remainders.push((exact % total, i));
    }
    let left = magnitude - shares.iter().sum::<i128>();
    // Largest dropped fraction first; on a tie, the earlier share.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders.into_iter().take(left as usize) {
        shares[i] += 1;
    }
    shares.into_iter().map(|s| (s * sign) as i64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn currencies_know_their_minor_units() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!((eur.exponent(), eur.minor_per_major()), (2, 100));
        assert_eq!((jpy.exponent(), jpy.minor_per_major()), (0, 1));
        assert_eq!((kwd.exponent(), kwd.minor_per_major()), (3, 1000));
        assert_eq!(Currency::parse("XAU"), None, "no minor units");
        assert_eq!(Currency::parse("EURO"), None);
        assert_eq!(Currency::parse("eur"), None);
        assert_eq!(serde_json::to_string(&kwd).unwrap(), "\"KWD\"");
    }

    #[test]
    fn rates_round_half_away_from_zero() {
        // 19 % of 10.05 EUR is 1.9095 EUR: 1.91.
        assert_eq!(rate_of(1005, 190_000), 191);
        // 10 % of 25 cents is 2.5 cents: 3; of −25, −3.
        assert_eq!(rate_of(25, 100_000), 3);
        assert_eq!(rate_of(-25, 100_000), -3);
        // 8 % of 1,234 yen is 98.72 yen: 99.
        assert_eq!(rate_of(1234, 80_000), 99);
        // 5 % of 1.999 KWD is 0.09995 KWD: 0.100.
        assert_eq!(rate_of(1999, 50_000), 100);
        assert_eq!(rate_of(0, 190_000), 0);
        assert_eq!(rate_of(i64::MAX / 2, RATE_ONE), i64::MAX / 2);
    }

    #[test]
    fn allocation_gives_leftover_units_to_the_largest_fractions() {
        // 10.00 over 3 equal lines: 3.34, 3.33, 3.33.
        assert_eq!(allocate(1000, &[1, 1, 1]), vec![334, 333, 333]);
        // 10 over 20.00, 30.00 and 50.00: exactly 2, 3, 5.
        assert_eq!(allocate(10, &[2000, 3000, 5000]), vec![2, 3, 5]);
        // 100 over 1, 1, 1: the earliest wins the tie; negatives mirror.
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(-100, &[1, 1, 1]), vec![-34, -33, -33]);
        // 7 over 1 and 2 (2.33 and 4.67): 2 and 5.
        assert_eq!(allocate(7, &[1, 2]), vec![2, 5]);
        assert_eq!(allocate(5, &[0, 0]), vec![3, 2]);
        assert_eq!(allocate(5, &[]), Vec::<i64>::new());
    }

    proptest! {
        #[test]
        fn allocation_adds_up_and_stays_within_a_unit_of_its_proportion(
            amount in -10_000_000_000i64..10_000_000_000,
            weights in proptest::collection::vec(0i64..100_000_000, 1..100),
        ) {
            let shares = allocate(amount, &weights);
            prop_assert_eq!(shares.iter().sum::<i64>(), amount);
            let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
            if total > 0 {
                for (share, weight) in shares.iter().zip(&weights) {
                    let exact = i128::from(amount) * i128::from(*weight);
                    let distance = (i128::from(*share) * total - exact).abs();
                    prop_assert!(distance < total, "share {} of {} by {}", share, amount, weight);
                }
            }
        }

        #[test]
        fn a_rate_is_within_half_a_unit_of_the_exact_amount(
            amount in -1_000_000_000_000i64..1_000_000_000_000,
            rate in 0i64..=RATE_ONE,
        ) {
            let rounded = rate_of(amount, rate);
            let exact = i128::from(amount) * i128::from(rate);
            let distance = (i128::from(rounded) * i128::from(RATE_ONE) - exact).abs();
            prop_assert!(distance * 2 <= i128::from(RATE_ONE));
        }
    }
}
