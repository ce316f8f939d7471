//! Which discounts a cart gets, and what each takes off each line and the shipping: pure, so the
//! rules can be read, tested and benchmarked on their own.
//!
//! **Applies at all** ([`refusal`]): a discount is active, within its dates, in the cart's
//! currency (when it names one), for this customer (when it names customers or groups), targets
//! at least one line (product and order discounts), and its minimums are met by the targeted
//! lines before any discount (free shipping: by the whole cart).
//!
//! **The best combination** ([`best`]): of the discounts that apply (the automatic ones and the
//! codes entered), the cart gets the set of discounts that may all apply together (each allows
//! every other's class, see `Discount::combines`) which leaves the shopper the least to pay
//! (lines after discounts plus shipping after its discount), among the sets that keep the
//! chosen shipping method offered (a set that would take it away, by dropping the subtotal below
//! its minimum, is considered only when every set does). Ties go to the set holding more of the
//! codes entered, then to the smaller set, then to the set whose discount ids sort first. Every
//! set is tried; past [`MAX_CANDIDATES`] discounts, only those that save the most on their own
//! are considered.
//!
//! **Within a set**, product discounts apply first, then order discounts, then shipping
//! discounts; within a class, in the order of their ids (oldest first). Each works on what the
//! discounts before it left of each line:
//!
//! - a percentage takes that share of the targeted lines' amount together, rounded once (half
//!   away from zero), shared over the lines in proportion to their amounts;
//! - a fixed amount per item takes the amount off each targeted unit, at most the line's amount;
//! - a fixed order amount takes the amount (at most the targeted lines' amount) shared over the
//!   lines in proportion to their amounts;
//! - buy X get Y finds how many times it applies (the units of the buy set and of the get set, a
//!   unit in both counting once), then discounts the cheapest units of the get set, leaving the
//!   dearest for the buy side;
//! - free shipping takes the shipping price (at most its cap), when the chosen method is one it
//!   names (or it names none).
//!
//! Sharing in proportion is `pricing::money::allocate` (largest remainder: the shares add up to
//! the amount exactly, the remainder units go to the largest dropped fractions, the earlier line
//! on a tie).

use super::model::{Discount, DiscountClass, DiscountValue, Targets};
use crate::pricing::money::{allocate, rate_of, RATE_ONE};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The most discounts the best combination is searched among (2^12 sets at most).
pub const MAX_CANDIDATES: usize = 12;

/// A cart line as discounts see it.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub product_id: &'a str,
    pub variant_id: &'a str,
    pub categories: &'a [String],
    pub collections: &'a [String],
    /// Unit price × quantity, before any discount.
    pub subtotal: i64,
    pub quantity: i64,
}

/// A cart as discounts see it.
#[derive(Debug, Clone)]
pub struct Basket<'a> {
    pub currency: &'a str,
    pub lines: &'a [Line<'a>],
    pub customer: Option<&'a str>,
    /// The customer's groups (`cgrp_…`).
    pub groups: &'a [String],
    /// Epoch seconds.
    pub now: i64,
    /// The shipping method chosen (`shm_…`).
    pub method_id: Option<&'a str>,
}

/// Why a discount does not apply to a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such code, or the discount is switched off.
    NotFound,
    NotStarted,
    Expired,
    /// Another currency, another customer, or nothing in the cart it targets.
    NotApplicable,
    MinimumNotMet,
    /// It cannot apply together with the discounts the cart has.
    NotCombinable,
    /// Its uses are used up.
    UsageExhausted,
}

fn epoch(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Whether `discount` is switched on and within its dates at `now`.
pub fn timing(discount: &Discount, now: i64) -> Result<(), Refusal> {
    if !discount.active {
        return Err(Refusal::NotFound);
    }
    if discount
        .starts_at
        .as_deref()
        .and_then(epoch)
        .is_some_and(|s| now < s)
    {
        return Err(Refusal::NotStarted);
    }
    if discount
        .ends_at
        .as_deref()
        .and_then(epoch)
        .is_some_and(|e| now >= e)
    {
        return Err(Refusal::Expired);
    }
    Ok(())
}

fn targets(targets: &Targets, line: &Line) -> bool {
    targets.is_all()
        || targets.products.iter().any(|p| p == line.product_id)
        || targets.variants.iter().any(|v| v == line.variant_id)
        || targets
            .collections
            .iter()
            .any(|c| line.collections.contains(c))
        || targets
            .categories
            .iter()
            .any(|c| line.categories.contains(c))
}

/// Whether a line is one the discount looks at (free shipping looks at every line).
fn looks_at(discount: &Discount, line: &Line) -> bool {
    match &discount.value {
        DiscountValue::Percentage { targets: t, .. }
        | DiscountValue::FixedPerItem { targets: t, .. }
        | DiscountValue::FixedOrder { targets: t, .. } => targets(t, line),
        DiscountValue::BuyXGetY { buy, get, .. } => {
            targets(&buy.targets, line) || targets(&get.targets, line)
        }
        DiscountValue::FreeShipping { .. } => true,
    }
}

/// Why `discount` does not apply to the basket (see the module), or `None`.
pub fn refusal(discount: &Discount, basket: &Basket) -> Option<Refusal> {
    if let Err(refusal) = timing(discount, basket.now) {
        return Some(refusal);
    }
    if discount
        .currency
        .as_deref()
        .is_some_and(|c| c != basket.currency)
    {
        return Some(Refusal::NotApplicable);
    }
    let conditions = &discount.conditions;
    if !conditions.customers.is_empty()
        && !basket
            .customer
            .is_some_and(|c| conditions.customers.iter().any(|x| x == c))
    {
        return Some(Refusal::NotApplicable);
    }
    if !conditions.customer_groups.is_empty()
        && !conditions
            .customer_groups
            .iter()
            .any(|g| basket.groups.contains(g))
    {
        return Some(Refusal::NotApplicable);
    }
    let looked: Vec<&Line> = basket
        .lines
        .iter()
        .filter(|l| looks_at(discount, l))
        .collect();
    if looked.is_empty() && discount.class() != DiscountClass::Shipping {
        return Some(Refusal::NotApplicable);
    }
    let subtotal: i64 = looked.iter().map(|l| l.subtotal).sum();
    let units: i64 = looked.iter().map(|l| l.quantity).sum();
    if conditions.minimum_subtotal.is_some_and(|m| subtotal < m)
        || conditions.minimum_quantity.is_some_and(|m| units < m)
    {
        return Some(Refusal::MinimumNotMet);
    }
    None
}

/// A percentage with at most four decimals as millionths (15 → 150,000).
pub fn millionths(percentage: f64) -> i64 {
    ((percentage * 10_000.0).round() as i64).clamp(0, RATE_ONE)
}

/// What one discount of the chosen set takes off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its index in the candidates given to [`best`].
    pub candidate: usize,
    /// Off each line, in line order.
    pub lines: Vec<i64>,
    pub shipping: i64,
}

impl Applied {
    pub fn total(&self) -> i64 {
        self.lines.iter().sum::<i64>() + self.shipping
    }
}

/// The discounts a cart gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// In the order they applied.
    pub applied: Vec<Applied>,
    /// Off each line, all discounts together.
    pub lines: Vec<i64>,
    pub shipping: i64,
    /// The shipping price for the lines after discounts (`None`: no method, or the chosen one
    /// is not offered for them).
    pub shipping_price: Option<i64>,
}

impl Selection {
    pub fn applies(&self, candidate: usize) -> bool {
        self.applied.iter().any(|a| a.candidate == candidate)
    }
}

/// One discount's take of what is left of the lines (`left`, changed in place).
fn take(discount: &Discount, lines: &[Line], left: &mut [i64]) -> Vec<i64> {
    let mut off = vec![0; lines.len()];
    let targeted = |t: &Targets| -> Vec<usize> {
        (0..lines.len())
            .filter(|&i| left[i] > 0 && targets(t, &lines[i]))
            .collect()
    };
    let share = |off: &mut Vec<i64>, idx: &[usize], amount: i64, left: &[i64]| {
        let weights: Vec<i64> = idx.iter().map(|&i| left[i]).collect();
        for (k, part) in allocate(amount, &weights).into_iter().enumerate() {
            off[idx[k]] = part.clamp(0, left[idx[k]]);
        }
    };
    match &discount.value {
        DiscountValue::Percentage {
            percentage,
            targets: t,
        } => {
            let idx = targeted(t);
            let base: i64 = idx.iter().map(|&i| left[i]).sum();
            let amount = rate_of(base, millionths(*percentage)).clamp(0, base);
            share(&mut off, &idx, amount, left);
        }
        DiscountValue::FixedPerItem { amount, targets: t } => {
            for i in targeted(t) {
                let wanted = i128::from(*amount) * i128::from(lines[i].quantity);
                off[i] = wanted.clamp(0, i128::from(left[i])) as i64;
            }
        }
        DiscountValue::FixedOrder { amount, targets: t } => {
            let idx = targeted(t);
            let base: i64 = idx.iter().map(|&i| left[i]).sum();
            share(&mut off, &idx, (*amount).clamp(0, base), left);
        }
        DiscountValue::BuyXGetY {
            buy,
            get,
            max_applications,
        } => {
            let got = units_got(
                lines,
                left,
                (&buy.targets, buy.quantity),
                (&get.targets, get.quantity),
                *max_applications,
            );
            let rate = i128::from(millionths(get.percentage));
            for (i, units) in got.into_iter().enumerate() {
                if units == 0 {
                    continue;
                }
                // The got units' part of the line's amount, at the rate, rounded half away
                // from zero.
                let whole = i128::from(lines[i].quantity) * i128::from(RATE_ONE);
                let exact = i128::from(left[i]) * i128::from(units) * rate;
                let rounded = (exact + whole / 2) / whole;
                off[i] = rounded.clamp(0, i128::from(left[i])) as i64;
            }
        }
        DiscountValue::FreeShipping { .. } => {}
    }
    for (l, o) in left.iter_mut().zip(&off) {
        *l -= o;
    }
    off
}

/// How many units of each line a buy-X-get-Y discount gives (see the module).
fn units_got(
    lines: &[Line],
    left: &[i64],
    (buy, buy_quantity): (&Targets, i64),
    (get, get_quantity): (&Targets, i64),
    max_applications: Option<i64>,
) -> Vec<i64> {
    let mut got = vec![0; lines.len()];
    if buy_quantity < 1 || get_quantity < 1 {
        return got;
    }
    let (mut only_buy, mut only_get, mut both) = (0i64, 0i64, 0i64);
    let in_buy: Vec<bool> = lines.iter().map(|l| targets(buy, l)).collect();
    let in_get: Vec<bool> = lines.iter().map(|l| targets(get, l)).collect();
    for (i, line) in lines.iter().enumerate() {
        if left[i] <= 0 {
            continue;
        }
        match (in_buy[i], in_get[i]) {
            (true, true) => both += line.quantity,
            (true, false) => only_buy += line.quantity,
            (false, true) => only_get += line.quantity,
            (false, false) => {}
        }
    }
    let mut times = ((only_buy + both) / buy_quantity)
        .min((only_get + both) / get_quantity)
        .min((only_buy + only_get + both) / (buy_quantity + get_quantity));
    if let Some(max) = max_applications {
        times = times.min(max.max(0));
    }
    let mut needed = times * get_quantity;
    // Units in both sets that may be got, leaving enough to buy.
    let mut both_spare = only_buy + both - buy_quantity * times;
    let mut order: Vec<usize> = (0..lines.len())
        .filter(|&i| in_get[i] && left[i] > 0)
        .collect();
    // Cheapest unit first: compare left[i] / quantity[i] without rounding.
    order.sort_by(|&a, &b| {
        (i128::from(left[a]) * i128::from(lines[b].quantity))
            .cmp(&(i128::from(left[b]) * i128::from(lines[a].quantity)))
            .then(a.cmp(&b))
    });
    for i in order {
        if needed == 0 {
            break;
        }
        let mut units = lines[i].quantity.min(needed);
        if in_buy[i] {
            units = units.min(both_spare);
            both_spare -= units;
        }
        got[i] = units;
        needed -= units;
    }
    got
}

/// The shipping discount of `discount` on `price` (what earlier shipping discounts left).
fn shipping_off(discount: &Discount, method: Option<&str>, price: i64) -> i64 {
    let DiscountValue::FreeShipping {
        max_amount,
        method_ids,
    } = &discount.value
    else {
        return 0;
    };
    if !method_ids.is_empty() && !method.is_some_and(|m| method_ids.iter().any(|x| x == m)) {
        return 0;
    }
    price.min(max_amount.unwrap_or(i64::MAX)).max(0)
}

/// What a set of candidates (indexes, in application order) comes to.
struct Outcome {
    applied: Vec<Applied>,
    lines: Vec<i64>,
    shipping: i64,
    shipping_price: Option<i64>,
}

fn evaluate(
    set: &[usize],
    candidates: &[&Discount],
    basket: &Basket,
    shipping_price: &dyn Fn(i64) -> Option<i64>,
) -> Outcome {
    let mut left: Vec<i64> = basket.lines.iter().map(|l| l.subtotal).collect();
    let mut applied = Vec::with_capacity(set.len());
    for &c in set {
        let off = take(candidates[c], basket.lines, &mut left);
        applied.push(Applied {
            candidate: c,
            lines: off,
            shipping: 0,
        });
    }
    let discounted: i64 = left.iter().sum();
    let price = shipping_price(discounted);
    let mut shipping_left = price.unwrap_or(0);
    for a in &mut applied {
        let off = shipping_off(candidates[a.candidate], basket.method_id, shipping_left);
        a.shipping = off;
        shipping_left -= off;
    }
    let lines = basket
        .lines
        .iter()
        .zip(&left)
        .map(|(l, left)| l.subtotal - left)
        .collect();
    Outcome {
        shipping: price.unwrap_or(0) - shipping_left,
        applied,
        lines,
        shipping_price: price,
    }
}

/// The best combination of `candidates` (discounts that apply, see [`refusal`]) for the basket;
/// `entered`: which candidates came from codes the shopper entered; `shipping_price`: the
/// chosen method's price for a subtotal after discounts (`None`: no method, or not offered).
pub fn best(
    candidates: &[&Discount],
    entered: &[bool],
    basket: &Basket,
    shipping_price: &dyn Fn(i64) -> Option<i64>,
) -> Selection {
    let mut pool: Vec<usize> = (0..candidates.len()).collect();
    if pool.len() > MAX_CANDIDATES {
        let saving = |c: usize| {
            let alone = evaluate(&[c], candidates, basket, shipping_price);
            alone.applied[0].total()
        };
        let mut savings: Vec<(i64, usize)> = pool.iter().map(|&c| (saving(c), c)).collect();
        savings.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(candidates[a.1].id.cmp(&candidates[b.1].id))
        });
        pool = savings
            .into_iter()
            .take(MAX_CANDIDATES)
            .map(|(_, c)| c)
            .collect();
    }
    // Application order: class, then id.
    pool.sort_by(|&a, &b| {
        (candidates[a].class(), &candidates[a].id).cmp(&(candidates[b].class(), &candidates[b].id))
    });
    let had_method = shipping_price(basket.lines.iter().map(|l| l.subtotal).sum()).is_some();
    // Each candidate's place in id order, so sets compare by ids without copying them.
    let mut by_id: Vec<usize> = (0..candidates.len()).collect();
    by_id.sort_by(|&a, &b| candidates[a].id.cmp(&candidates[b].id));
    let mut id_rank = vec![0usize; candidates.len()];
    for (rank, &c) in by_id.iter().enumerate() {
        id_rank[c] = rank;
    }
    let mut best: Option<(Rank, Vec<usize>)> = None;
    let mut set = Vec::new();
    search(
        &pool,
        0,
        &mut set,
        &mut |set: &[usize]| {
            let (to_pay, lost) = cost(set, candidates, basket, shipping_price);
            let mut ids: Vec<usize> = set.iter().map(|&c| id_rank[c]).collect();
            ids.sort_unstable();
            let rank = Rank {
                lost_method: had_method && lost,
                to_pay,
                codes: std::cmp::Reverse(set.iter().filter(|&&c| entered[c]).count()),
                size: set.len(),
                ids,
            };
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, set.to_vec()));
            }
        },
        candidates,
    );
    let (_, set) = best.expect("the empty set is always tried");
    let outcome = evaluate(&set, candidates, basket, shipping_price);
    Selection {
        applied: outcome
            .applied
            .into_iter()
            .filter(|a| a.total() > 0 || entered[a.candidate])
            .collect(),
        lines: outcome.lines,
        shipping: outcome.shipping,
        shipping_price: outcome.shipping_price,
    }
}

/// What a set leaves the shopper to pay, and whether the chosen method is no longer offered
/// (what [`evaluate`] works out, without keeping each discount's amounts).
fn cost(
    set: &[usize],
    candidates: &[&Discount],
    basket: &Basket,
    shipping_price: &dyn Fn(i64) -> Option<i64>,
) -> (i128, bool) {
    let mut left: Vec<i64> = basket.lines.iter().map(|l| l.subtotal).collect();
    for &c in set {
        take(candidates[c], basket.lines, &mut left);
    }
    let discounted: i64 = left.iter().sum();
    let price = shipping_price(discounted);
    let mut shipping_left = price.unwrap_or(0);
    for &c in set {
        shipping_left -= shipping_off(candidates[c], basket.method_id, shipping_left);
    }
    (
        i128::from(discounted) + i128::from(shipping_left),
        price.is_none(),
    )
}

/// How sets compare: the first field that differs decides (smaller is better).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    lost_method: bool,
    to_pay: i128,
    codes: std::cmp::Reverse<usize>,
    size: usize,
    /// The set's places in id order, ascending.
    ids: Vec<usize>,
}

/// Calls `visit` with every subset of `pool[from..]` added to `set` whose members all combine.
fn search(
    pool: &[usize],
    from: usize,
    set: &mut Vec<usize>,
    visit: &mut dyn FnMut(&[usize]),
    candidates: &[&Discount],
) {
    if from == pool.len() {
        visit(set);
        return;
    }
    search(pool, from + 1, set, visit, candidates);
    let next = pool[from];
    if set
        .iter()
        .all(|&c| candidates[c].combines(candidates[next]))
    {
        set.push(next);
        search(pool, from + 1, set, visit, candidates);
        set.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::*;
    use super::*;
    use proptest::prelude::*;

    fn discount(id: &str, value: DiscountValue, combines: CombinesWith) -> Discount {
        Discount {
            id: id.into(),
            title: id.into(),
            method: DiscountMethod::Automatic,
            value,
            currency: None,
            conditions: Conditions::default(),
            limits: Limits::default(),
            combines_with: combines,
            active: true,
            starts_at: None,
            ends_at: None,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    fn percent(p: f64) -> DiscountValue {
        DiscountValue::Percentage {
            percentage: p,
            targets: Targets::default(),
        }
    }

    const NONE: CombinesWith = CombinesWith {
        product_discounts: false,
        order_discounts: false,
        shipping_discounts: false,
    };
    const ALL: CombinesWith = CombinesWith {
        product_discounts: true,
        order_discounts: true,
        shipping_discounts: true,
    };

    fn line<'a>(product: &'a str, subtotal: i64, quantity: i64) -> Line<'a> {
        Line {
            product_id: product,
            variant_id: "var",
            categories: &[],
            collections: &[],
            subtotal,
            quantity,
        }
    }

    fn basket<'a>(lines: &'a [Line<'a>]) -> Basket<'a> {
        Basket {
            currency: "EUR",
            lines,
            customer: None,
            groups: &[],
            now: 0,
            method_id: None,
        }
    }

    fn no_shipping(_: i64) -> Option<i64> {
        None
    }

    #[test]
    fn a_fixed_order_amount_shares_its_remainder_by_largest_fraction() {
        // 10.00 EUR over 10.00, 20.00 and 30.01: exact shares 1.6664…, 3.3328…, 5.0008…
        let lines = [line("a", 1000, 1), line("b", 2000, 1), line("c", 3001, 1)];
        let fixed = discount(
            "disc_a",
            DiscountValue::FixedOrder {
                amount: 1000,
                targets: Targets::default(),
            },
            NONE,
        );
        let chosen = best(&[&fixed], &[false], &basket(&lines), &no_shipping);
        assert_eq!(chosen.lines, vec![167, 333, 500]);
    }

    #[test]
    fn buy_two_get_one_gives_the_cheapest_unit() {
        let set = Targets::default();
        let bxgy = discount(
            "disc_b",
            DiscountValue::BuyXGetY {
                buy: BuyRule {
                    quantity: 2,
                    targets: set.clone(),
                },
                get: GetRule {
                    quantity: 1,
                    targets: set,
                    percentage: 100.0,
                },
                max_applications: None,
            },
            NONE,
        );
        let lines = [line("a", 3000, 1), line("b", 1000, 1), line("c", 2000, 1)];
        let chosen = best(&[&bxgy], &[false], &basket(&lines), &no_shipping);
        assert_eq!(chosen.lines, vec![0, 1000, 0]);
        // Five units: one application (two more would need three more units).
        let lines = [line("a", 5 * 700, 5)];
        let chosen = best(&[&bxgy], &[false], &basket(&lines), &no_shipping);
        assert_eq!(chosen.lines, vec![700]);
        // Two units: nothing to get.
        let lines = [line("a", 2 * 700, 2)];
        assert_eq!(
            best(&[&bxgy], &[false], &basket(&lines), &no_shipping).lines,
            vec![0]
        );
    }

    #[test]
    fn the_better_of_two_discounts_that_do_not_combine_wins() {
        let ten = discount("disc_1", percent(10.0), NONE);
        let twenty = discount("disc_2", percent(20.0), NONE);
        let lines = [line("a", 10_000, 1)];
        let chosen = best(
            &[&ten, &twenty],
            &[false, false],
            &basket(&lines),
            &no_shipping,
        );
        assert_eq!(chosen.applied.len(), 1);
        assert_eq!(chosen.applied[0].candidate, 1);
        assert_eq!(chosen.lines, vec![2000]);
    }

    #[test]
    fn discounts_that_combine_apply_one_after_another() {
        let product = discount(
            "disc_1",
            DiscountValue::Percentage {
                percentage: 10.0,
                targets: Targets {
                    products: vec!["a".into()],
                    ..Default::default()
                },
            },
            ALL,
        );
        let order = discount(
            "disc_2",
            DiscountValue::FixedOrder {
                amount: 500,
                targets: Targets::default(),
            },
            ALL,
        );
        let lines = [line("a", 10_000, 1), line("b", 9_000, 1)];
        let chosen = best(
            &[&order, &product],
            &[false, false],
            &basket(&lines),
            &no_shipping,
        );
        // 10 % of 100.00 first; then 5.00 over 90.00 and 90.00.
        assert_eq!(chosen.lines, vec![1000 + 250, 250]);
        assert_eq!(chosen.applied[0].candidate, 1, "the product discount first");
    }

    #[test]
    fn free_shipping_that_would_lose_to_a_percentage_it_cannot_join_is_left_out() {
        let free = discount(
            "disc_1",
            DiscountValue::FreeShipping {
                max_amount: None,
                method_ids: vec![],
            },
            NONE,
        );
        let ten = discount("disc_2", percent(10.0), NONE);
        let lines = [line("a", 10_000, 1)];
        let shipping = |_: i64| Some(500);
        let chosen = best(&[&free, &ten], &[false, false], &basket(&lines), &shipping);
        assert_eq!((chosen.lines.clone(), chosen.shipping), (vec![1000], 0));
        let shipping = |_: i64| Some(1500);
        let chosen = best(&[&free, &ten], &[false, false], &basket(&lines), &shipping);
        assert_eq!((chosen.lines, chosen.shipping), (vec![0], 1500));
    }

    #[test]
    fn dates_switches_currencies_and_minimums_refuse() {
        let lines = [line("a", 1000, 1)];
        let mut d = discount("disc_1", percent(10.0), NONE);
        d.starts_at = Some("1970-01-01T00:01:00Z".into());
        assert_eq!(refusal(&d, &basket(&lines)), Some(Refusal::NotStarted));
        d.starts_at = None;
        d.ends_at = Some("1970-01-01T00:00:00Z".into());
        assert_eq!(refusal(&d, &basket(&lines)), Some(Refusal::Expired));
        d.ends_at = None;
        d.currency = Some("USD".into());
        assert_eq!(refusal(&d, &basket(&lines)), Some(Refusal::NotApplicable));
        d.currency = Some("EUR".into());
        d.conditions.minimum_subtotal = Some(1001);
        assert_eq!(refusal(&d, &basket(&lines)), Some(Refusal::MinimumNotMet));
        d.conditions.minimum_subtotal = Some(1000);
        assert_eq!(refusal(&d, &basket(&lines)), None);
        d.active = false;
        assert_eq!(refusal(&d, &basket(&lines)), Some(Refusal::NotFound));
    }

    proptest! {
        /// However discounts combine, no line is discounted below zero, the per-discount amounts
        /// add up to the totals, and the chosen set never costs more than no discount.
        #[test]
        fn selections_reconcile(
            prices in proptest::collection::vec((1i64..100_000, 1i64..20), 1..8),
            percents in proptest::collection::vec(0u32..=100, 0..4),
            fixed in proptest::collection::vec(0i64..20_000, 0..3),
            combine in any::<bool>(),
            shipping in proptest::option::of(0i64..3_000),
        ) {
            let products: Vec<String> = (0..prices.len()).map(|i| format!("p{i}")).collect();
            let lines: Vec<Line> = prices
                .iter()
                .zip(&products)
                .map(|((price, qty), p)| line(p, price * qty, *qty))
                .collect();
            let combines = if combine { ALL } else { NONE };
            let mut discounts = Vec::new();
            for (i, p) in percents.iter().enumerate() {
                discounts.push(discount(&format!("disc_p{i}"), percent(f64::from(*p)), combines));
            }
            for (i, a) in fixed.iter().enumerate() {
                discounts.push(discount(
                    &format!("disc_f{i}"),
                    DiscountValue::FixedOrder { amount: *a, targets: Targets::default() },
                    combines,
                ));
            }
            discounts.push(discount(
                "disc_s",
                DiscountValue::FreeShipping { max_amount: Some(1000), method_ids: vec![] },
                combines,
            ));
            let refs: Vec<&Discount> = discounts.iter().collect();
            let entered = vec![false; refs.len()];
            let price = move |_: i64| shipping;
            let chosen = best(&refs, &entered, &basket(&lines), &price);
            for (i, l) in lines.iter().enumerate() {
                prop_assert!(chosen.lines[i] >= 0 && chosen.lines[i] <= l.subtotal);
                let sum: i64 = chosen.applied.iter().map(|a| a.lines[i]).sum();
                prop_assert_eq!(sum, chosen.lines[i]);
            }
            let shipping_sum: i64 = chosen.applied.iter().map(|a| a.shipping).sum();
            prop_assert_eq!(shipping_sum, chosen.shipping);
            prop_assert!(chosen.shipping <= shipping.unwrap_or(0));
            let off: i64 = chosen.lines.iter().sum::<i64>() + chosen.shipping;
            prop_assert!(off >= 0);
        }
    }
}
