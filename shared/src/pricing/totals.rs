//! The totals engine: what a cart (and later an order) costs, line by line and in total.
//!
//! The engine takes lines with unit prices and quantities and asks three adjusters, in this
//! order, because each depends on the one before:
//!
//! 1. [`Discounts::lines`]: each line's discount (product and order discounts, already shared
//!    out over the lines);
//! 2. [`Shipping::amount`]: the shipping price, which may depend on the subtotal after those
//!    discounts; then [`Discounts::shipping`]: the discount on it (free shipping);
//! 3. [`Tax::taxes`]: each line's tax and the shipping's, on the amounts after discounts. With
//!    prices that include tax, it is the part of each amount that is tax; otherwise it is added.
//!
//! Every amount is whole minor units; the adjusters round (with [`super::money::rate_of`] and
//! [`super::money::allocate`]), the engine only adds up, so the totals reconcile exactly:
//!
//! - a line's total is its subtotal less its discount, plus its tax when prices exclude tax;
//! - the shipping's total is its amount less its discount, plus its tax when prices exclude tax;
//! - the grand total is the sum of the lines' totals and the shipping's total, which is also the
//!   subtotal, less every discount, plus the shipping amount, plus every tax when prices exclude
//!   tax.
//!
//! A discount never exceeds what it discounts and a tax is never negative: the engine holds
//! adjusters to that (clamping what they answer) so no total can go below zero.

use super::money::Currency;
use serde::Serialize;
use utoipa::ToSchema;

/// The largest amount any total may reach (10^15 minor units: 10 trillion EUR).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// A line to price.
#[derive(Debug, Clone, PartialEq)]
pub struct LineInput {
    /// The cart line's id.
    pub id: String,
    pub variant_id: String,
    pub product_id: String,
    /// In minor units of the cart's currency, never negative.
    pub unit_price: i64,
    pub quantity: i64,
    /// In the company's weight unit, for weight-based shipping.
    pub weight: Option<f64>,
}

/// What the adjusters see.
#[derive(Debug, Clone)]
pub struct PricingInput<'a> {
    pub currency: Currency,
    pub prices_include_tax: bool,
    pub lines: &'a [LineInput],
}

impl PricingInput<'_> {
    /// Each line's unit price times its quantity.
    pub fn subtotals(&self) -> Vec<i64> {
        self.lines
            .iter()
            .map(|l| l.unit_price.saturating_mul(l.quantity))
            .collect()
    }
}

/// Discounts of lines and of shipping. The zero implementation is [`NoDiscounts`].
pub trait Discounts: Send + Sync {
    /// Each line's discount, in line order (missing lines: no discount).
    fn lines(&self, input: &PricingInput) -> Vec<i64>;
    /// The discount on a shipping price of `amount`.
    fn shipping(&self, input: &PricingInput, amount: i64) -> i64;
}

/// The shipping price. The zero implementation is [`NoShipping`].
pub trait Shipping: Send + Sync {
    /// The price of shipping the lines, given their subtotal after discounts.
    fn amount(&self, input: &PricingInput, discounted_subtotal: i64) -> i64;
}

/// Taxes of lines and of shipping. The zero implementation is [`NoTax`].
pub trait Tax: Send + Sync {
    /// Each line's tax on its amount after discount (`taxable`, in line order), and the
    /// shipping's on its amount after discount.
    fn taxes(&self, input: &PricingInput, taxable: &[i64], shipping: i64) -> TaxOutcome;
}

/// What a [`Tax`] adjuster answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxOutcome {
    pub lines: Vec<i64>,
    pub shipping: i64,
}

/// No discounts.
pub struct NoDiscounts;

impl Discounts for NoDiscounts {
    fn lines(&self, _: &PricingInput) -> Vec<i64> {
        Vec::new()
    }
    fn shipping(&self, _: &PricingInput, _: i64) -> i64 {
        0
    }
}

/// Discounts worked out beforehand (by the discount rules, see `discounts::engine`).
pub struct FixedDiscounts {
    pub lines: Vec<i64>,
    pub shipping: i64,
}

impl Discounts for FixedDiscounts {
    fn lines(&self, _: &PricingInput) -> Vec<i64> {
        self.lines.clone()
    }
    fn shipping(&self, _: &PricingInput, amount: i64) -> i64 {
        self.shipping.min(amount)
    }
}

/// Nothing to pay for shipping (until a shipping method is chosen).
pub struct NoShipping;

impl Shipping for NoShipping {
    fn amount(&self, _: &PricingInput, _: i64) -> i64 {
        0
    }
}

/// No tax.
pub struct NoTax;

impl Tax for NoTax {
    fn taxes(&self, _: &PricingInput, _: &[i64], _: i64) -> TaxOutcome {
        TaxOutcome::default()
    }
}

/// A shipping price worked out beforehand (a chosen method, priced for the cart).
pub struct FixedShipping(pub i64);

impl Shipping for FixedShipping {
    fn amount(&self, _: &PricingInput, _: i64) -> i64 {
        self.0
    }
}

/// Taxes worked out beforehand (by a tax provider, on the amounts after discounts).
pub struct FixedTax(pub TaxOutcome);

impl Tax for FixedTax {
    fn taxes(&self, _: &PricingInput, _: &[i64], _: i64) -> TaxOutcome {
        self.0.clone()
    }
}

/// The adjusters a calculation uses.
pub struct Adjusters<'a> {
    pub discounts: &'a dyn Discounts,
    pub shipping: &'a dyn Shipping,
    pub tax: &'a dyn Tax,
}

impl Adjusters<'static> {
    /// No discounts, no shipping, no tax: the totals of the lines alone.
    pub fn none() -> Self {
        Adjusters {
            discounts: &NoDiscounts,
            shipping: &NoShipping,
            tax: &NoTax,
        }
    }
}

/// One line's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LineTotals {
    pub id: String,
    pub unit_price: i64,
    pub quantity: i64,
    /// `unit_price × quantity`.
    pub subtotal: i64,
    pub discount: i64,
    /// Added to the total when prices exclude tax; the part of it that is tax when they include it.
    pub tax: i64,
    pub total: i64,
}

/// Shipping's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShippingTotals {
    pub amount: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
}

/// A cart's (or an order's) totals, in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    #[schema(value_type = String)]
    pub currency: Currency,
    pub prices_include_tax: bool,
    pub lines: Vec<LineTotals>,
    pub shipping: ShippingTotals,
    /// The lines' subtotals.
    pub subtotal: i64,
    /// Every discount: the lines' and the shipping's.
    pub discount_total: i64,
    /// What shipping costs after its discount (with its tax when prices exclude tax).
    pub shipping_total: i64,
    /// Every tax: the lines' and the shipping's.
    pub tax_total: i64,
    /// The lines' totals and the shipping's total.
    pub grand_total: i64,
    /// Units in the cart.
    pub item_count: i64,
}

/// Why totals could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("line {0} has a negative price or a quantity below 1")]
    InvalidLine(String),
    #[error("the total would exceed {MAX_AMOUNT} minor units")]
    TooLarge,
}

fn within(amount: i128) -> Result<i64, PricingError> {
    if amount.abs() > i128::from(MAX_AMOUNT) {
        Err(PricingError::TooLarge)
    } else {
        Ok(amount as i64)
    }
}

fn nth(values: &[i64], i: usize) -> i64 {
    values.get(i).copied().unwrap_or(0)
}

/// Prices the lines with the adjusters (see the module).
pub fn compute(input: &PricingInput, adjusters: &Adjusters) -> Result<Totals, PricingError> {
    let mut subtotals = Vec::with_capacity(input.lines.len());
    for line in input.lines {
        if line.unit_price < 0 || line.quantity < 1 {
            return Err(PricingError::InvalidLine(line.id.clone()));
        }
        subtotals.push(within(
            i128::from(line.unit_price) * i128::from(line.quantity),
        )?);
    }
    within(subtotals.iter().map(|s| i128::from(*s)).sum())?;
    let line_discounts = adjusters.discounts.lines(input);
    let discounts: Vec<i64> = subtotals
        .iter()
        .enumerate()
        .map(|(i, subtotal)| nth(&line_discounts, i).clamp(0, *subtotal))
        .collect();
    let taxable: Vec<i64> = subtotals
        .iter()
        .zip(&discounts)
        .map(|(s, d)| s - d)
        .collect();
    let discounted: i64 = taxable.iter().sum();
    let shipping_amount = within(i128::from(
        adjusters.shipping.amount(input, discounted).max(0),
    ))?;
    let shipping_discount = adjusters
        .discounts
        .shipping(input, shipping_amount)
        .clamp(0, shipping_amount);
    let shipping_taxable = shipping_amount - shipping_discount;
    let taxes = adjusters.tax.taxes(input, &taxable, shipping_taxable);
    let added = |amount: i64, tax: i64| {
        if input.prices_include_tax {
            amount
        } else {
            amount + tax
        }
    };
    let mut lines = Vec::with_capacity(input.lines.len());
    for (i, line) in input.lines.iter().enumerate() {
        // Tax included in a price is a part of it, never more than all of it.
        let tax = if input.prices_include_tax {
            nth(&taxes.lines, i).clamp(0, taxable[i])
        } else {
            within(i128::from(nth(&taxes.lines, i).max(0)))?
        };
        lines.push(LineTotals {
            id: line.id.clone(),
            unit_price: line.unit_price,
            quantity: line.quantity,
            subtotal: subtotals[i],
            discount: discounts[i],
            tax,
            total: within(i128::from(taxable[i]) + i128::from(added(0, tax)))?,
        });
    }
    let shipping_tax = if input.prices_include_tax {
        taxes.shipping.clamp(0, shipping_taxable)
    } else {
        within(i128::from(taxes.shipping.max(0)))?
    };
    let shipping = ShippingTotals {
        amount: shipping_amount,
        discount: shipping_discount,
        tax: shipping_tax,
        total: within(i128::from(shipping_taxable) + i128::from(added(0, shipping_tax)))?,
    };
    let sum = |f: fn(&LineTotals) -> i64| -> i128 { lines.iter().map(|l| i128::from(f(l))).sum() };
    let subtotal = within(sum(|l| l.subtotal))?;
    let discount_total = within(sum(|l| l.discount) + i128::from(shipping.discount))?;
    let tax_total = within(sum(|l| l.tax) + i128::from(shipping.tax))?;
    let grand_total = within(sum(|l| l.total) + i128::from(shipping.total))?;
    let item_count = lines.iter().map(|l| l.quantity).sum();
    Ok(Totals {
        currency: input.currency,
        prices_include_tax: input.prices_include_tax,
        shipping_total: shipping.total,
        lines,
        shipping,
        subtotal,
        discount_total,
        tax_total,
        grand_total,
        item_count,
    })
}

#[cfg(test)]
mod tests {
    use super::super::money::{allocate, rate_of, RATE_ONE};
    use super::*;
    use proptest::prelude::*;

    fn line(id: &str, unit_price: i64, quantity: i64) -> LineInput {
        LineInput {
            id: id.into(),
            variant_id: format!("var_{id}"),
            product_id: format!("prod_{id}"),
            unit_price,
            quantity,
            weight: None,
        }
    }

    /// A percentage off every line, then a fixed amount off the order shared out over the
    /// lines by what is left of each, and free shipping over a threshold.
    struct TestDiscounts {
        percent: i64,
        order_amount: i64,
        free_shipping_over: Option<i64>,
    }

    impl Discounts for TestDiscounts {
        fn lines(&self, input: &PricingInput) -> Vec<i64> {
            let subtotals = input.subtotals();
            let off: Vec<i64> = subtotals
                .iter()
                .map(|s| rate_of(*s, self.percent))
                .collect();
            let left: Vec<i64> = subtotals.iter().zip(&off).map(|(s, o)| s - o).collect();
            let order = self.order_amount.min(left.iter().sum());
            let shared = allocate(order, &left);
            off.iter().zip(shared).map(|(o, s)| o + s).collect()
        }
        fn shipping(&self, input: &PricingInput, amount: i64) -> i64 {
            match self.free_shipping_over {
                Some(over) if input.subtotals().iter().sum::<i64>() >= over => amount,
                _ => 0,
            }
        }
    }

    struct FlatShipping(i64);

    impl Shipping for FlatShipping {
        fn amount(&self, _: &PricingInput, _: i64) -> i64 {
            self.0
        }
    }

    /// One rate on everything: added to net prices, or the part of gross prices that is tax
    /// (`gross − gross / (1 + rate)`, rounded by `rate_of` on the net).
    struct FlatTax(i64);

    impl FlatTax {
        fn of(&self, amount: i64, inclusive: bool) -> i64 {
            if inclusive {
                let net = (i128::from(amount) * i128::from(RATE_ONE)
                    / i128::from(RATE_ONE + self.0)) as i64;
                amount - net
            } else {
                rate_of(amount, self.0)
            }
        }
    }

    impl Tax for FlatTax {
        fn taxes(&self, input: &PricingInput, taxable: &[i64], shipping: i64) -> TaxOutcome {
            TaxOutcome {
                lines: taxable
                    .iter()
                    .map(|a| self.of(*a, input.prices_include_tax))
                    .collect(),
                shipping: self.of(shipping, input.prices_include_tax),
            }
        }
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn the_lines_alone_add_up() {
        let lines = [line("a", 1999, 2), line("b", 500, 1)];
        let input = PricingInput {
            currency: eur(),
            prices_include_tax: false,
            lines: &lines,
        };
        let totals = compute(&input, &Adjusters::none()).unwrap();
        assert_eq!(
            (totals.subtotal, totals.discount_total, totals.tax_total),
            (4498, 0, 0)
        );
        assert_eq!((totals.grand_total, totals.item_count), (4498, 3));
        assert_eq!(totals.lines[0].total, 3998);
        assert_eq!(totals.shipping, ShippingTotals::default());
    }

    #[test]
    fn a_worked_cart_with_every_adjuster_to_the_cent() {
        // 2 × 19.99 + 1 × 5.00 = 44.98; 10 % off: 2.00 and 0.50 (3.998 rounds to 4.00 on the
        // line's 39.98); then 5.00 off the order shared over 35.98 and 4.50: 4.44 and 0.56.
        // Shipping 4.90, free over 40.00 (the subtotal before discounts is 44.98): 0.
        // 19 % VAT added on 31.54 and 3.94: 5.99 and 0.75.
        let lines = [line("a", 1999, 2), line("b", 500, 1)];
        let input = PricingInput {
            currency: eur(),
            prices_include_tax: false,
            lines: &lines,
        };
        let discounts = TestDiscounts {
            percent: 100_000,
            order_amount: 500,
            free_shipping_over: Some(4000),
        };
        let adjusters = Adjusters {
            discounts: &discounts,
            shipping: &FlatShipping(490),
            tax: &FlatTax(190_000),
        };
        let totals = compute(&input, &adjusters).unwrap();
        let a = &totals.lines[0];
        let b = &totals.lines[1];
        assert_eq!(
            (a.subtotal, a.discount, a.tax, a.total),
            (3998, 844, 599, 3753)
        );
        assert_eq!(
            (b.subtotal, b.discount, b.tax, b.total),
            (500, 106, 75, 469)
        );
        assert_eq!(
            totals.shipping,
            ShippingTotals {
                amount: 490,
                discount: 490,
                tax: 0,
                total: 0
            }
        );
        assert_eq!(totals.subtotal, 4498);
        assert_eq!(totals.discount_total, 844 + 106 + 490);
        assert_eq!(totals.tax_total, 674);
        assert_eq!(totals.grand_total, 4222);
        assert_eq!(totals.grand_total, 4498 - 1440 + 490 + 674);
    }

    #[test]
    fn tax_included_in_prices_is_part_of_them() {
        // 1,100 yen including 10 % tax: 100 yen of it is tax; shipping 550 yen: 50.
        let jpy = Currency::parse("JPY").unwrap();
        let lines = [line("a", 1100, 1)];
        let input = PricingInput {
            currency: jpy,
            prices_include_tax: true,
            lines: &lines,
        };
        let adjusters = Adjusters {
            discounts: &NoDiscounts,
            shipping: &FlatShipping(550),
            tax: &FlatTax(100_000),
        };
        let totals = compute(&input, &adjusters).unwrap();
        assert_eq!((totals.lines[0].tax, totals.lines[0].total), (100, 1100));
        assert_eq!((totals.shipping.tax, totals.shipping_total), (50, 550));
        assert_eq!((totals.tax_total, totals.grand_total), (150, 1650));
    }

    #[test]
    fn adjusters_cannot_push_a_total_below_zero() {
        struct Greedy;
        impl Discounts for Greedy {
            fn lines(&self, _: &PricingInput) -> Vec<i64> {
                vec![10_000, -5]
            }
            fn shipping(&self, _: &PricingInput, amount: i64) -> i64 {
                amount * 2
            }
        }
        struct Negative;
        impl Tax for Negative {
            fn taxes(&self, _: &PricingInput, _: &[i64], _: i64) -> TaxOutcome {
                TaxOutcome {
                    lines: vec![-100, -100],
                    shipping: -1,
                }
            }
        }
        let lines = [line("a", 300, 1), line("b", 200, 1)];
        let input = PricingInput {
            currency: eur(),
            prices_include_tax: false,
            lines: &lines,
        };
        let adjusters = Adjusters {
            discounts: &Greedy,
            shipping: &FlatShipping(100),
            tax: &Negative,
        };
        let totals = compute(&input, &adjusters).unwrap();
        assert_eq!(
            totals
                .lines
                .iter()
                .map(|l| (l.discount, l.tax, l.total))
                .collect::<Vec<_>>(),
            vec![(300, 0, 0), (0, 0, 200)]
        );
        assert_eq!((totals.shipping.discount, totals.shipping.total), (100, 0));
        assert_eq!(totals.grand_total, 200);
    }

    #[test]
    fn bad_lines_and_huge_totals_are_refused() {
        let input = |lines: &[LineInput]| {
            compute(
                &PricingInput {
                    currency: eur(),
                    prices_include_tax: false,
                    lines,
                },
                &Adjusters::none(),
            )
        };
        assert_eq!(
            input(&[line("a", -1, 1)]),
            Err(PricingError::InvalidLine("a".into()))
        );
        assert_eq!(
            input(&[line("a", 1, 0)]),
            Err(PricingError::InvalidLine("a".into()))
        );
        assert_eq!(
            input(&[line("a", MAX_AMOUNT, 2)]),
            Err(PricingError::TooLarge)
        );
        assert_eq!(
            input(&[line("a", i64::MAX, 9_999)]),
            Err(PricingError::TooLarge)
        );
    }

    fn currency() -> impl Strategy<Value = Currency> {
        prop_oneof![Just("EUR"), Just("JPY"), Just("KWD")].prop_map(|c| Currency::parse(c).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        /// Random carts in EUR, JPY and KWD, with every kind of adjuster: the totals reconcile
        /// to the unit.
        #[test]
        fn random_carts_reconcile_to_the_unit(
            currency in currency(),
            prices_include_tax in any::<bool>(),
            lines in proptest::collection::vec((0i64..5_000_000, 1i64..=9_999), 1..=100),
            percent in prop_oneof![Just(0i64), 0i64..=RATE_ONE],
            order_amount in prop_oneof![Just(0i64), 0i64..100_000_000],
            shipping in 0i64..100_000,
            free_shipping_over in proptest::option::of(0i64..10_000_000),
            tax_rate in prop_oneof![Just(0i64), 0i64..300_000],
        ) {
            let lines: Vec<LineInput> = lines
                .iter()
                .enumerate()
                .map(|(i, (price, quantity))| line(&i.to_string(), *price, *quantity))
                .collect();
            let input = PricingInput { currency, prices_include_tax, lines: &lines };
            let discounts = TestDiscounts { percent, order_amount, free_shipping_over };
            let adjusters = Adjusters {
                discounts: &discounts,
                shipping: &FlatShipping(shipping),
                tax: &FlatTax(tax_rate),
            };
            let t = compute(&input, &adjusters).unwrap();
            let lines_total: i64 = t.lines.iter().map(|l| l.total).sum();
            prop_assert_eq!(lines_total + t.shipping_total, t.grand_total);
            let added_tax = if prices_include_tax { 0 } else { t.tax_total };
            prop_assert_eq!(
                t.subtotal - t.discount_total + t.shipping.amount + added_tax,
                t.grand_total
            );
            prop_assert_eq!(t.subtotal, lines.iter().map(|l| l.unit_price * l.quantity).sum::<i64>());
            prop_assert_eq!(t.item_count, lines.iter().map(|l| l.quantity).sum::<i64>());
            prop_assert_eq!(
                t.tax_total,
                t.lines.iter().map(|l| l.tax).sum::<i64>() + t.shipping.tax
            );
            for l in &t.lines {
                prop_assert_eq!(l.subtotal, l.unit_price * l.quantity);
                prop_assert!(0 <= l.discount && l.discount <= l.subtotal);
                prop_assert!(l.tax >= 0 && l.total >= 0);
                if prices_include_tax {
                    prop_assert!(l.tax <= l.total);
                }
            }
            prop_assert!(t.shipping.discount <= t.shipping.amount && t.grand_total >= 0);
        }
    }
}
