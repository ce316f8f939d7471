//! Levels split into shards, for flash sales.
//!
//! Every reservation of a variant at a location writes its level, and an item accepts about
//! 1,000 write units a second (500 transactional writes); concurrent transactions on one item
//! also cancel each other. A level expected to take more (a drop, a flash sale) is split into
//! up to [`MAX_SHARDS`] shards: full levels (units on hand, reserved, not reserved), each guarded
//! on its own, which together hold the location's stock.
//!
//! - A reservation reads every shard in its batched read, starts at a shard chosen at random and
//!   takes from the next ones when that one is short: the last units stay reachable wherever
//!   they are, with no merge step. Safety stock is kept back in the first shard.
//! - Units received are spread to the shards with the fewest units not reserved; units taken
//!   away (an adjustment, a count, a transfer) come from those with the most ([`spread`]).
//! - Splitting again (more or fewer shards) evens the units not reserved out over the new
//!   count; a shard that goes away must hold no reservations.
//! - Movements, reconciliation and what staff see stay per location: the sums of the shards.

use super::errors::InventoryError;
use super::events::InventoryEvent;
use super::model::{LocationStock, StockLevel};
use super::stock::{empty_level, named_location, named_variant, view};
use super::store::{self, Guard, LevelOf};
use crate::app::App;
use crate::clock::rfc3339;
use crate::events::event;
use crate::identity::TenantId;
pub use crate::inventory::store::MAX_SHARDS;
use crate::store::StoreError;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// How the units of a change are spread over shards holding `free` units each (units not
/// reserved, less anything a shard keeps back): units added go to the shards with the fewest,
/// units taken come from those with the most, so the shards end as even as the change allows.
/// Answers each shard's share; the shares add up to `delta`. Ties go to the lower shard.
pub fn spread(free: &[i64], delta: i64) -> Vec<i64> {
    if delta < 0 {
        let negated: Vec<i64> = free.iter().map(|f| -f).collect();
        return spread(&negated, -delta).into_iter().map(|d| -d).collect();
    }
    let mut shares = vec![0; free.len()];
    if free.is_empty() || delta == 0 {
        return shares;
    }
    // Fill from the lowest: raise the `filled` lowest shards together to the next one's level
    // while the units last, then share what is left among them.
    let mut order: Vec<usize> = (0..free.len()).collect();
    order.sort_by_key(|&i| (free[i], i));
    let mut left = i128::from(delta);
    let mut level = i128::from(free[order[0]]);
    let mut filled = 1;
    while filled < order.len() {
        let next = i128::from(free[order[filled]]);
        let cost = (next - level) * filled as i128;
        if cost > left {
            break;
        }
        left -= cost;
        level = next;
        filled += 1;
    }
    let each = left / filled as i128;
    let mut extra = left % filled as i128;
    let mut lowest: Vec<usize> = order[..filled].to_vec();
    lowest.sort_unstable();
    for i in lowest {
        let mut target = level + each;
        if extra > 0 {
            target += 1;
            extra -= 1;
        }
        shares[i] = (target - i128::from(free[i])) as i64;
    }
    shares
}

/// The units a shard can give a reservation: those not reserved, less the safety stock the
/// first shard keeps back.
pub fn free_units(shard: u32, unreserved: i64, safety_stock: i64) -> i64 {
    if shard == 0 {
        unreserved - safety_stock
    } else {
        unreserved
    }
}

/// `PUT /admin/inventory/shards`: how many shards a level is split into.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Split {
    pub variant_id: String,
    pub location_id: String,
    /// From 1 (not split) to 16.
    pub shards: u32,
}

/// Splits a variant's level at a location into `shards` (1: merges it back into one), spreading
/// the units not reserved evenly. Units on hand at the location do not change, so no movement
/// is written. A shard that would go away while it holds reservations answers 409
/// `shard_in_use`; split again once they are released or sold.
pub async fn split(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: Split,
) -> Result<StockLevel, InventoryError> {
    if !(1..=MAX_SHARDS).contains(&input.shards) {
        return Err(InventoryError::field(
            "shards",
            "out_of_range",
            format!("a whole number from 1 to {MAX_SHARDS}"),
        ));
    }
    let (product, variant) = named_variant(app, tenant, &input.variant_id, "variant_id").await?;
    let location = named_location(app, tenant, &input.location_id, "location_id").await?;
    let count = input.shards;
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let now = rfc3339(app.clock.now());
        let stock =
            match store::stock(app.table.as_ref(), tenant, &location.id, &variant.id).await? {
                Some(stock) => stock,
                None => LocationStock::single(
                    empty_level(&variant.id, &product, &location.id, &now),
                    false,
                ),
            };
        if stock.shards.len() as u32 == count {
            return Ok(view(&stock.total(), variant.safety_stock, 0));
        }
        if let Some((busy, _)) = stock
            .shards
            .iter()
            .skip(count as usize)
            .find(|(s, _)| s.reserved != 0)
        {
            return Err(InventoryError::ShardInUse { shard: busy.shard });
        }
        // The units not reserved of every shard are dealt out again over the shards that stay:
        // the first keeps the safety stock back (and any shortfall of backorders), the others
        // share the rest evenly.
        let unreserved: i64 = stock.shards.iter().map(|(s, _)| s.unreserved).sum();
        let kept_back = if unreserved <= 0 {
            unreserved
        } else {
            unreserved.min(variant.safety_stock)
        };
        let mut targets = spread(&vec![0; count as usize], unreserved - kept_back);
        targets[0] += kept_back;
        let absorbed_versions: u64 = stock
            .shards
            .iter()
            .skip(count as usize)
            .filter(|(_, stored)| *stored)
            .map(|(s, _)| s.version)
            .sum();
        let mut ops = Vec::new();
        let mut summaries = store::SummaryMoves::default();
        for (k, target) in (0..count).zip(targets) {
            let (before, stored) = match stock.shards.get(k as usize) {
                Some((shard, stored)) => (shard.unreserved, *stored),
                None => (0, false),
            };
            let version = stock.shards.get(k as usize).map_or(0, |(s, _)| s.version);
            let delta = target - before;
            let first = k == 0;
            if delta == 0 && !first && stored {
                continue;
            }
            let guard = if !stored {
                Guard::Version(None)
            } else if delta < 0 {
                // Units a reservation took meanwhile cannot be moved away.
                Guard::VersionAndUnreserved(version, -delta)
            } else {
                Guard::Version(Some(version))
            };
            ops.push(store::level_split_op(
                tenant,
                LevelOf {
                    variant: &variant.id,
                    product: &product,
                    location: &location.id,
                    shard: k,
                },
                delta,
                0,
                &now,
                guard,
                first.then_some(store::SplitTo {
                    shards: count,
                    absorbed_versions,
                }),
                &mut summaries,
            ));
        }
        for (shard, stored) in stock.shards.iter().skip(count as usize) {
            if *stored {
                ops.push(store::shard_delete(tenant, shard));
                summaries.moved(
                    LevelOf {
                        variant: &variant.id,
                        product: &product,
                        location: &location.id,
                        shard: shard.shard,
                    },
                    -shard.unreserved,
                );
            }
        }
        ops.extend(summaries.ops(tenant));
        ops.push(event(
            app,
            tenant,
            InventoryEvent::StockSplit,
            Some(actor),
            json!({
                "variant_id": variant.id,
                "location_id": location.id,
                "shards": count,
            }),
        ));
        match app.table.transact(ops).await {
            Ok(()) => {
                let stock = store::stock(app.table.as_ref(), tenant, &location.id, &variant.id)
                    .await?
                    .ok_or(InventoryError::Busy)?;
                return Ok(view(&stock.total(), variant.safety_stock, 0));
            }
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(InventoryError::Busy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn units_received_fill_the_emptiest_shards_first() {
        assert_eq!(spread(&[5, 0, 2], 4), vec![0, 3, 1]);
        assert_eq!(spread(&[5, 0, 2], 10), vec![1, 6, 3]);
        assert_eq!(spread(&[0, 0, 0, 0], 10), vec![3, 3, 2, 2]);
        assert_eq!(spread(&[3], 7), vec![7]);
    }

    #[test]
    fn units_taken_come_from_the_fullest_shards_first() {
        assert_eq!(spread(&[5, 0, 2], -3), vec![-3, 0, 0]);
        assert_eq!(spread(&[5, 0, 2], -6), vec![-5, 0, -1]);
        assert_eq!(spread(&[1, 1], -4), vec![-2, -2]);
    }

    #[test]
    fn the_first_shard_keeps_the_safety_stock() {
        assert_eq!(free_units(0, 10, 3), 7);
        assert_eq!(free_units(2, 10, 3), 10);
    }

    proptest! {
        #[test]
        fn shares_add_up_and_even_the_shards_out(
            free in proptest::collection::vec(-1_000i64..1_000_000, 1..16),
            delta in -2_000_000i64..2_000_000,
        ) {
            let shares = spread(&free, delta);
            prop_assert_eq!(shares.iter().sum::<i64>(), delta);
            let after: Vec<i64> = free.iter().zip(&shares).map(|(f, s)| f + s).collect();
            for (i, share) in shares.iter().enumerate() {
                // Every share moves the way of the change…
                let along = if delta >= 0 { *share >= 0 } else { *share <= 0 };
                prop_assert!(along, "share {} against a change of {}", share, delta);
                // …and a shard that moved ends within one unit of every other: no shard was
                // filled past (or drained below) one that was left alone.
                if *share != 0 {
                    for other in &after {
                        if delta > 0 {
                            prop_assert!(after[i] <= other + 1);
                        } else {
                            prop_assert!(after[i] >= other - 1);
                        }
                    }
                }
            }
        }
    }
}
