//! Reservations: units held for a holder (a cart, an order) until they are sold, given up or
//! expire. Carts and checkout call these operations; staff see who holds what.
//!
//! - [`reserve`] makes a holder's reservations exactly the lines given (adding, growing,
//!   shrinking and removing lines as needed) in one transaction: every line holds or none does.
//!   Each new unit is taken from the highest-priority active location that fulfils online orders
//!   and has it; a line may be split across locations, one reservation line per location.
//!   A level gives units only while `unreserved ≥ units + safety stock` holds at write time (a
//!   condition, not a read), so concurrent reservations cannot oversell. A variant that does not
//!   track inventory is never reserved; one that allows backorder takes what is there and puts
//!   the rest on its first location.
//! - [`release`] gives a holder's units back; [`commit`] turns them into sales: the units leave
//!   stock, each with a `sold` movement.
//! - Reservations expire. An expired line stops counting in what staff see at once; its units go
//!   back to the level when the expiry worker releases the holder, or sooner when a reservation
//!   short of stock sweeps expired lines of the same variant. A commit of an expired holder whose
//!   lines are still there succeeds: its units were never given to anyone else.

use super::availability::{publish, selling};
use super::errors::InventoryError;
use super::events::InventoryEvent;
use super::model::{LocationStock, Movement, Reason, ReservationLine};
use super::shards::free_units;
pub use super::store::Holding;
use super::store::{self, Guard, LevelOf};
use crate::app::App;
use crate::catalog::model::Variant;
use crate::clock::rfc3339;
use crate::events::event;
use crate::identity::TenantId;
use crate::ids::{LocationId, ProductId, VariantId};
use crate::settings::groups::Inventory;
use crate::store::{StoreError, TxOp};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// Variants one reservation holds.
pub const MAX_LINES: usize = 100;

/// Lines one call can surely change: each changed line writes its level, its stock summary and
/// itself, and they all go in one transaction (at most 100 operations). More may fit (lines in
/// the same place share nothing, but a caller's own writes and the holder's header take room
/// too); a change that does not fit answers `TooManyChanges` and changes nothing.
pub const MAX_CHANGED_LINES: usize = 25;

/// Units of a variant a holder wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub variant_id: VariantId,
    pub quantity: i64,
}

/// Holders are named by their owner's id (`cart_…`, `ord_…`).
pub fn valid_holder(holder: &str) -> bool {
    (1..=100).contains(&holder.len())
        && holder
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check(holder: &str, lines: &[Line]) -> Result<BTreeMap<VariantId, i64>, InventoryError> {
    if !valid_holder(holder) {
        return Err(InventoryError::field(
            "holder",
            "invalid",
            "1 to 100 letters, digits, '_' or '-'",
        ));
    }
    let mut wanted: BTreeMap<VariantId, i64> = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        if !(1..=super::stock::MAX_DELTA).contains(&line.quantity) {
            return Err(InventoryError::field(
                &format!("lines[{i}].quantity"),
                "out_of_range",
                format!("a whole number from 1 to {}", super::stock::MAX_DELTA),
            ));
        }
        *wanted.entry(line.variant_id.clone()).or_insert(0) += line.quantity;
    }
    if wanted.len() > MAX_LINES {
        return Err(InventoryError::TooManyLines { max: MAX_LINES });
    }
    Ok(wanted)
}

/// What a reservation starts from: the holder's lines, the variants, the eligible locations and
/// the levels it may take units from. [`reserve_with`] reads it, or takes one its caller read
/// with its own data (a cart: fewer round trips).
pub struct Reading {
    pub holding: Holding,
    /// Every variant wanted or held (with its product).
    pub variants: HashMap<VariantId, (ProductId, Variant)>,
    /// Active, open locations that fulfil online orders, highest priority first.
    pub eligible: Vec<LocationId>,
    /// Whether `eligible` was read from the table now (not from a container's copy): only then
    /// does a publication take it as the selling locations.
    pub eligible_as_stored: bool,
    /// The levels of each variant the holder is to hold more of, at every eligible location,
    /// and the levels of the lines held (others may be missing).
    pub levels: HashMap<(LocationId, VariantId), LocationStock>,
}

/// Where units are held: a location, and the shard of its level.
type Slot = (LocationId, u32);

/// The levels a reservation of `lines` reads when it starts from `holding`: those of the
/// variants it holds more of, at every eligible location.
pub fn levels_to_read(
    holding: &Holding,
    lines: &[Line],
    eligible: &[LocationId],
) -> Vec<(LocationId, VariantId)> {
    let mut pairs = Vec::new();
    for line in lines {
        let held: i64 = holding
            .lines
            .iter()
            .filter(|l| l.variant_id == line.variant_id)
            .map(|l| l.quantity)
            .sum();
        let wanted: i64 = lines
            .iter()
            .filter(|l| l.variant_id == line.variant_id)
            .map(|l| l.quantity)
            .sum();
        if wanted > held {
            for location in eligible {
                let pair = (location.clone(), line.variant_id.clone());
                if !pairs.contains(&pair) {
                    pairs.push(pair);
                }
            }
        }
    }
    pairs
}

async fn read(
    app: &App,
    tenant: &TenantId,
    holder: &str,
    wanted: &BTreeMap<VariantId, i64>,
) -> Result<Reading, InventoryError> {
    let holding = store::holding(app.table.as_ref(), tenant, holder).await?;
    let mut ids: Vec<VariantId> = wanted.keys().cloned().collect();
    for line in &holding.lines {
        if !ids.contains(&line.variant_id) {
            ids.push(line.variant_id.clone());
        }
    }
    let variants: HashMap<VariantId, (ProductId, Variant)> =
        crate::catalog::service::find_variants(app, tenant, &ids)
            .await?
            .into_iter()
            .map(|(id, product, variant)| (id, (product.id, variant)))
            .collect();
    for (i, id) in wanted.keys().enumerate() {
        if !variants.contains_key(id) {
            return Err(InventoryError::field(
                &format!("lines[{i}].variant_id"),
                "unknown_variant",
                format!("no such variant: {id}"),
            ));
        }
    }
    let eligible = selling(store::all_locations(app.table.as_ref(), tenant).await?);
    let mut pairs: Vec<(&LocationId, &VariantId)> = Vec::new();
    for id in wanted.keys() {
        if variants.get(id).is_some_and(|(_, v)| v.track_inventory) {
            pairs.extend(eligible.iter().map(|l| (l, id)));
        }
    }
    for line in &holding.lines {
        let pair = (&line.location_id, &line.variant_id);
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    let levels = by_level(store::stocks(app.table.as_ref(), tenant, &pairs).await?);
    Ok(Reading {
        holding,
        variants,
        eligible,
        eligible_as_stored: true,
        levels,
    })
}

pub fn by_level(stocks: Vec<LocationStock>) -> HashMap<(LocationId, VariantId), LocationStock> {
    stocks
        .into_iter()
        .map(|s| {
            let first = s.first();
            ((first.location_id.clone(), first.variant_id.clone()), s)
        })
        .collect()
}

/// Where a variant's units should be held: slot → units, or the units it lacks. Within a
/// location split into shards, new units come from a shard chosen at random, then the next ones.
fn allocate(
    reading: &Reading,
    variant: &Variant,
    wanted: i64,
    held: &BTreeMap<Slot, i64>,
) -> Result<BTreeMap<Slot, i64>, i64> {
    let mut target = held.clone();
    let holding: i64 = held.values().sum();
    if wanted <= holding {
        // Give back from the least preferred locations first: ineligible ones, then the lowest
        // priority.
        let rank = |(l, shard): &Slot| {
            let place = reading
                .eligible
                .iter()
                .position(|e| e == l)
                .unwrap_or(usize::MAX);
            (place, *shard)
        };
        let mut order: Vec<Slot> = target.keys().cloned().collect();
        order.sort_by_key(|slot| std::cmp::Reverse(rank(slot)));
        let mut surplus = holding - wanted;
        for slot in order {
            if surplus == 0 {
                break;
            }
            let units = target.get_mut(&slot).expect("held");
            let give = surplus.min(*units);
            *units -= give;
            surplus -= give;
        }
        target.retain(|_, units| *units > 0);
        return Ok(target);
    }
    let mut need = wanted - holding;
    for location in &reading.eligible {
        let Some(stock) = reading.levels.get(&(location.clone(), variant.id.clone())) else {
            continue;
        };
        let count = stock.shards.len();
        let start = if count > 1 {
            rand::random::<u32>() as usize % count
        } else {
            0
        };
        for i in 0..count {
            let (shard, _) = &stock.shards[(start + i) % count];
            let free = free_units(shard.shard, shard.unreserved, variant.safety_stock);
            let take = need.min(free.max(0));
            if take > 0 {
                *target.entry((location.clone(), shard.shard)).or_insert(0) += take;
                need -= take;
            }
            if need == 0 {
                return Ok(target);
            }
        }
    }
    match reading.eligible.first() {
        Some(first) if variant.allow_backorder => {
            *target.entry((first.clone(), 0)).or_insert(0) += need;
            Ok(target)
        }
        _ => Err(need),
    }
}

/// Makes `holder`'s reservations exactly `lines` (no lines: releases everything), expiring at
/// `expires_epoch`; answers the lines held. All or nothing: a line that cannot be covered
/// answers `insufficient_stock` and leaves every reservation as it was.
pub async fn reserve(
    app: &App,
    tenant: &TenantId,
    holder: &str,
    lines: &[Line],
    expires_epoch: i64,
) -> Result<Vec<ReservationLine>, InventoryError> {
    reserve_with(
        app,
        tenant,
        holder,
        lines,
        expires_epoch,
        &|_| Vec::new(),
        None,
    )
    .await
}

/// The caller's own writes for a reservation's transaction, given the holding it leaves.
pub type With<'a> = dyn Fn(&Holding) -> Vec<TxOp> + Send + Sync + 'a;

/// [`reserve`], committing the caller's own writes (`with`: a cart's change, told what the
/// holder will hold) in the same transaction, so that the two happen together or not at all.
/// They go first in the transaction; when one of their conditions fails nothing is written and
/// the answer is `Stale`, for the caller to read again (a reservation that loses a race is
/// retried here). `first` is what the caller already read (see [`Reading`]); it is used for the
/// first try only, and only when it knows every variant involved.
///
/// The storefront's listing is published after the transaction only when the change may have
/// moved what it shows: a level the change takes from (or gives back to) that is seen, when
/// read, to keep more than the low-stock threshold above its safety stock is written on the
/// condition that it still does, which proves the variant's listed status cannot have changed.
/// Should such a condition fail, the change is tried again without it, and publishes.
#[allow(clippy::too_many_arguments)]
pub async fn reserve_with(
    app: &App,
    tenant: &TenantId,
    holder: &str,
    lines: &[Line],
    expires_epoch: i64,
    with: &With<'_>,
    first: Option<Reading>,
) -> Result<Vec<ReservationLine>, InventoryError> {
    let wanted = check(holder, lines)?;
    if expires_epoch <= app.clock.epoch_seconds() {
        return Err(InventoryError::field(
            "expires_at",
            "in_the_past",
            "a reservation expires in the future",
        ));
    }
    let listing = crate::settings::service::typed::<Inventory>(app, tenant).await?;
    // With quantities shown, every change moves the listing.
    let mut quiet = !listing.show_stock_quantity;
    let mut first = first.filter(|r| {
        wanted.keys().all(|v| r.variants.contains_key(v))
            && r.holding
                .lines
                .iter()
                .all(|l| r.variants.contains_key(&l.variant_id))
    });
    let mut swept: Vec<VariantId> = Vec::new();
    'attempts: for attempt in 0..crate::store::ATTEMPTS * 2 {
        if attempt > 0 {
            crate::store::back_off(attempt.min(crate::store::ATTEMPTS)).await;
        }
        let reading = match first.take() {
            Some(reading) => reading,
            None => read(app, tenant, holder, &wanted).await?,
        };
        let now = rfc3339(app.clock.now());
        let expires_at = rfc3339(
            time::OffsetDateTime::from_unix_timestamp(expires_epoch)
                .map_err(|_| InventoryError::field("expires_at", "invalid", "out of range"))?,
        );
        let mut held: BTreeMap<VariantId, BTreeMap<Slot, i64>> = BTreeMap::new();
        for line in &reading.holding.lines {
            held.entry(line.variant_id.clone())
                .or_default()
                .insert((line.location_id.clone(), line.shard), line.quantity);
        }
        let mut ops: Vec<TxOp> = Vec::new();
        // Products whose listing may have moved, and the operations whose conditions say it
        // did not.
        let mut moved: Vec<ProductId> = Vec::new();
        let mut proofs: Vec<usize> = Vec::new();
        let mut summaries = store::SummaryMoves::default();
        let mut checks: Vec<LocationId> = Vec::new();
        let mut result = Vec::new();
        let mut all_variants: Vec<VariantId> = held.keys().cloned().collect();
        for id in wanted.keys() {
            if !all_variants.contains(id) {
                all_variants.push(id.clone());
            }
        }
        for id in &all_variants {
            let before = held.get(id).cloned().unwrap_or_default();
            let want = wanted.get(id).copied().unwrap_or(0);
            let target = match reading.variants.get(id) {
                // Untracked, or gone from the catalog: nothing is held for it.
                Some((_, variant)) if !variant.track_inventory => BTreeMap::new(),
                None => BTreeMap::new(),
                Some((_, variant)) => match allocate(&reading, variant, want, &before) {
                    Ok(target) => target,
                    Err(_) if !swept.contains(id) => {
                        swept.push(id.clone());
                        if sweep_expired(app, tenant, id).await? > 0 {
                            continue 'attempts;
                        }
                        match allocate(&reading, variant, want, &before) {
                            Ok(target) => target,
                            Err(short) => return Err(short_of(id, want, short)),
                        }
                    }
                    Err(short) => return Err(short_of(id, want, short)),
                },
            };
            let (product, variant) = match reading.variants.get(id) {
                Some((product, variant)) => (product.clone(), Some(variant)),
                None => (
                    reading
                        .levels
                        .values()
                        .find(|s| s.first().variant_id == *id)
                        .map(|s| s.first().product_id.clone())
                        .unwrap_or_else(empty_product),
                    None,
                ),
            };
            let mut slots: Vec<&Slot> = before.keys().chain(target.keys()).collect();
            slots.sort();
            slots.dedup();
            for slot in slots {
                let (location, shard) = (&slot.0, slot.1);
                let old = before.get(slot).copied().unwrap_or(0);
                let new = target.get(slot).copied().unwrap_or(0);
                let delta = new - old;
                if delta != 0 {
                    let backorder = variant.is_some_and(|v| v.allow_backorder);
                    let safety = variant.map_or(0, |v| v.safety_stock);
                    // What the level must keep unreserved, beyond this change, for the variant
                    // to stay listed as in stock whatever else happens meanwhile.
                    let comfortable = safety + listing.low_stock_threshold + 1;
                    let seen = reading
                        .levels
                        .get(&(location.clone(), id.clone()))
                        .and_then(|s| s.shards.get(shard as usize))
                        .filter(|(level, stored)| *stored && level.shard == shard)
                        .map(|(level, _)| level.unreserved);
                    let sharded_backorder = backorder
                        && reading
                            .levels
                            .get(&(location.clone(), id.clone()))
                            .is_some_and(|s| s.shards.len() > 1);
                    let provable = quiet
                        && !sharded_backorder
                        && seen.is_some_and(|u| u - delta.max(0) >= comfortable);
                    let guard = if provable {
                        proofs.push(ops.len());
                        Guard::Unreserved(delta.max(0) + comfortable)
                    } else {
                        if !moved.contains(&product) {
                            moved.push(product.clone());
                        }
                        if delta > 0 && !backorder {
                            // The first shard keeps the safety stock back.
                            Guard::Unreserved(delta + if shard == 0 { safety } else { 0 })
                        } else {
                            Guard::Nothing
                        }
                    };
                    ops.push(store::level_change_op(
                        tenant,
                        LevelOf {
                            variant: id,
                            product: &product,
                            location,
                            shard,
                        },
                        0,
                        delta,
                        &now,
                        guard,
                        &mut summaries,
                    ));
                    // Units a guarded reservation takes exist at the location, which therefore
                    // cannot be emptied for deletion; only a backorder, which may hold units
                    // where there are none, checks that the location is open. This keeps the
                    // location's item out of every reservation's transaction.
                    if delta > 0 && backorder && !checks.contains(location) {
                        checks.push(location.clone());
                    }
                }
                let old_line = reading.holding.lines.iter().find(|l| {
                    l.variant_id == *id && l.location_id == *location && l.shard == shard
                });
                if new == 0 {
                    if let Some(old_line) = old_line {
                        ops.push(store::line_delete(tenant, old_line));
                    }
                } else {
                    let line = ReservationLine {
                        holder: holder.to_owned(),
                        variant_id: id.clone(),
                        location_id: location.clone(),
                        shard,
                        quantity: new,
                        expires_at: expires_at.clone(),
                        expires_epoch,
                    };
                    // An unchanged line stays as it is: its expiry is the holder's, which the
                    // header below moves for every line at once.
                    if old_line.map(|l| l.quantity) != Some(new) {
                        ops.push(store::line_put(tenant, &line, old_line.map(|l| l.quantity)));
                    }
                    result.push(line);
                }
            }
        }
        for location in &checks {
            ops.push(store::location_takes_stock(tenant, location));
        }
        ops.extend(summaries.ops(tenant));
        let after = Holding {
            version: (!result.is_empty()).then(|| reading.holding.version.unwrap_or(0) + 1),
            expires_epoch,
            lines: result.clone(),
        };
        let own = with(&after);
        match (result.is_empty(), reading.holding.version) {
            (true, None) if own.is_empty() => return Ok(result),
            (true, None) => {}
            (true, Some(version)) => {
                ops.push(store::holder_delete(tenant, holder, version));
                ops.push(released_event(
                    app,
                    tenant,
                    holder,
                    false,
                    &reading.holding.lines,
                ));
            }
            (false, version) => {
                ops.push(store::holder_put(tenant, holder, expires_epoch, version));
                ops.push(event(
                    app,
                    tenant,
                    InventoryEvent::StockReserved,
                    Some(holder),
                    json!({
                        "holder": holder,
                        "expires_at": expires_at,
                        "expires_epoch": expires_epoch,
                        "lines": lines_json(&result),
                    }),
                ));
            }
        }
        let mine = own.len();
        let ops: Vec<TxOp> = own.into_iter().chain(ops).collect();
        if ops.len() > crate::store::MAX_TRANSACTION_OPS {
            return Err(InventoryError::TooManyChanges {
                max: MAX_CHANGED_LINES,
            });
        }
        match app.table.transact(ops).await {
            Ok(()) => {
                let selling = reading
                    .eligible_as_stored
                    .then_some(reading.eligible.as_slice());
                publish(app, tenant, &moved, selling).await;
                return Ok(result);
            }
            Err(e) if (0..mine).any(|i| e.failed_at(i)) => return Err(InventoryError::Stale),
            Err(e) if proofs.iter().any(|i| e.failed_at(mine + i)) => {
                // A level came close to what the listing shows: go the long way.
                quiet = false;
                continue;
            }
            // A location closed, a level gave its units to someone else, or the holder changed
            // meanwhile: read again.
            Err(StoreError::TransactionCancelled { failed }) => {
                tracing::debug!(?failed, "reservation raced; retrying");
                continue;
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(InventoryError::Busy)
}

fn short_of(variant: &VariantId, wanted: i64, short: i64) -> InventoryError {
    InventoryError::InsufficientStock {
        variant_id: variant.to_string(),
        requested: wanted,
        available: (wanted - short).max(0),
    }
}

fn lines_json(lines: &[ReservationLine]) -> serde_json::Value {
    lines
        .iter()
        .map(|l| json!({"variant_id": l.variant_id, "location_id": l.location_id, "quantity": l.quantity}))
        .collect()
}

fn released_event(
    app: &App,
    tenant: &TenantId,
    holder: &str,
    expired: bool,
    lines: &[ReservationLine],
) -> TxOp {
    event(
        app,
        tenant,
        InventoryEvent::StockReleased,
        Some(holder),
        json!({"holder": holder, "expired": expired, "lines": lines_json(lines)}),
    )
}

/// The operations that give a line's units back to its level and remove it.
fn give_back(
    tenant: &TenantId,
    line: &ReservationLine,
    product: &ProductId,
    now: &str,
    summaries: &mut store::SummaryMoves,
) -> [TxOp; 2] {
    [
        store::line_delete(tenant, line),
        store::level_change_op(
            tenant,
            LevelOf {
                variant: &line.variant_id,
                product,
                location: &line.location_id,
                shard: line.shard,
            },
            0,
            -line.quantity,
            now,
            Guard::Nothing,
            summaries,
        ),
    ]
}

/// The levels lines hold units at (with their products, which levels record).
async fn products_of(
    app: &App,
    tenant: &TenantId,
    lines: &[ReservationLine],
) -> Result<HashMap<(LocationId, VariantId), LocationStock>, InventoryError> {
    let mut pairs: Vec<(&LocationId, &VariantId)> = lines
        .iter()
        .map(|l| (&l.location_id, &l.variant_id))
        .collect();
    pairs.sort();
    pairs.dedup();
    Ok(by_level(
        store::stocks(app.table.as_ref(), tenant, &pairs).await?,
    ))
}

/// Gives back everything `holder` holds (nothing held: nothing to do); answers the lines
/// released. With `only_expired`, only when the holder's reservation has expired.
async fn release_holder(
    app: &App,
    tenant: &TenantId,
    holder: &str,
    only_expired: bool,
) -> Result<Vec<ReservationLine>, InventoryError> {
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let holding = store::holding(app.table.as_ref(), tenant, holder).await?;
        let Some(version) = holding.version else {
            return Ok(Vec::new());
        };
        if only_expired && holding.expires_epoch > app.clock.epoch_seconds() {
            return Ok(Vec::new());
        }
        let now = rfc3339(app.clock.now());
        let levels = products_of(app, tenant, &holding.lines).await?;
        let mut ops = Vec::new();
        let mut summaries = store::SummaryMoves::default();
        for line in &holding.lines {
            let level = levels.get(&(line.location_id.clone(), line.variant_id.clone()));
            let fallback;
            let product = match level {
                Some(level) => &level.first().product_id,
                None => {
                    fallback = empty_product();
                    &fallback
                }
            };
            ops.extend(give_back(tenant, line, product, &now, &mut summaries));
        }
        ops.extend(summaries.ops(tenant));
        ops.push(store::holder_delete(tenant, holder, version));
        ops.push(released_event(
            app,
            tenant,
            holder,
            only_expired,
            &holding.lines,
        ));
        match app.table.transact(ops).await {
            Ok(()) => {
                let products: Vec<ProductId> = levels
                    .values()
                    .map(|s| s.first().product_id.clone())
                    .collect();
                publish(app, tenant, &products, None).await;
                return Ok(holding.lines);
            }
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(InventoryError::Busy)
}

/// A level is always written with its product; a level that vanished (its location deleted
/// with nothing in it) cannot hold reserved units, so this placeholder is never stored.
fn empty_product() -> ProductId {
    ProductId::parse("prod_00000000000000000000000000").expect("a valid id")
}

/// Gives back everything `holder` holds; answers the lines released (none: nothing was held).
pub async fn release(
    app: &App,
    tenant: &TenantId,
    holder: &str,
) -> Result<Vec<ReservationLine>, InventoryError> {
    release_holder(app, tenant, holder, false).await
}

/// Releases `holder` if its reservation has expired (the expiry worker's step).
pub async fn release_expired(
    app: &App,
    tenant: &TenantId,
    holder: &str,
) -> Result<Vec<ReservationLine>, InventoryError> {
    release_holder(app, tenant, holder, true).await
}

/// Turns everything `holder` holds into sales: each line's units leave stock with a `sold`
/// movement, in one transaction. `expected` is what the order sells of the tracked variants (what
/// [`reserve`] held): a holder whose expired lines were swept away meanwhile holds less, and then
/// nothing is sold and the answer is `insufficient_stock` for the first variant short, so an
/// order never silently ships fewer units than it took payment for. Answers the lines sold; 404
/// when the holder holds nothing.
pub async fn commit(
    app: &App,
    tenant: &TenantId,
    holder: &str,
    expected: &[Line],
) -> Result<Vec<ReservationLine>, InventoryError> {
    let mut wanted: BTreeMap<&VariantId, i64> = BTreeMap::new();
    for line in expected {
        *wanted.entry(&line.variant_id).or_insert(0) += line.quantity;
    }
    'attempts: for attempt in 0..crate::store::ATTEMPTS * 2 {
        if attempt > 0 {
            crate::store::back_off(attempt.min(crate::store::ATTEMPTS)).await;
        }
        let holding = store::holding(app.table.as_ref(), tenant, holder).await?;
        let Some(version) = holding.version else {
            return Err(InventoryError::NotFound("reservation"));
        };
        let mut held: BTreeMap<&VariantId, i64> = BTreeMap::new();
        for line in &holding.lines {
            *held.entry(&line.variant_id).or_insert(0) += line.quantity;
        }
        for (variant, units) in &wanted {
            let have = held.get(variant).copied().unwrap_or(0);
            if have != *units {
                return Err(InventoryError::InsufficientStock {
                    variant_id: variant.to_string(),
                    requested: *units,
                    available: have,
                });
            }
        }
        if let Some((variant, units)) = held.iter().find(|(v, _)| !wanted.contains_key(*v)) {
            // Held but not ordered: the caller's lines and the reservation disagree.
            return Err(InventoryError::field(
                "lines",
                "not_reserved_as_ordered",
                format!(
                    "the reservation also holds {units} of {variant}, which the order leaves out"
                ),
            ));
        }
        let levels = products_of(app, tenant, &holding.lines).await?;
        let Some(ops) = sale_ops(app, tenant, holder, &holding.lines, version, &levels) else {
            // A line's level is written with it; not there means the line was swept away
            // between the two reads: read again.
            continue 'attempts;
        };
        match app.table.transact(ops).await {
            Ok(()) => return Ok(holding.lines),
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(InventoryError::Busy)
}

/// Operations of one reservation line in a sale ([`sale_ops`]): the line's delete and its
/// level's change; each level sold from adds a movement, and the sale two more.
pub const SALE_OPS_PER_LINE: usize = 3;

/// The operations that sell what `holder` holds as `lines` (read, or the owner's copy of them
/// at `version`), for the caller's transaction: each line leaves the holder and its units leave
/// stock with a `sold` movement per level, the holder's header goes and `stock.committed` is
/// written. The lines' and the header's conditions make the transaction fail if the holding
/// changed meanwhile (swept after expiring, say). `levels` are the levels the lines hold units
/// at, as read; `None` when one of them is missing.
pub fn sale_ops(
    app: &App,
    tenant: &TenantId,
    holder: &str,
    lines: &[ReservationLine],
    version: u64,
    levels: &HashMap<(LocationId, VariantId), LocationStock>,
) -> Option<Vec<TxOp>> {
    let now = rfc3339(app.clock.now());
    let mut ops = Vec::new();
    // One movement per level sold from, however many of its shards the lines hold units in.
    let mut sold: BTreeMap<(&LocationId, &VariantId), i64> = BTreeMap::new();
    for line in lines {
        let (shard, _) = levels
            .get(&(line.location_id.clone(), line.variant_id.clone()))
            .and_then(|stock| stock.shards.get(line.shard as usize))
            .filter(|(_, stored)| *stored)?;
        ops.push(store::line_delete(tenant, line));
        ops.push(store::level_change_op(
            tenant,
            LevelOf {
                variant: &line.variant_id,
                product: &shard.product_id,
                location: &line.location_id,
                shard: line.shard,
            },
            -line.quantity,
            -line.quantity,
            &now,
            // The line's condition proves the units are held; a version condition here would
            // make every checkout of a popular variant queue behind the others.
            Guard::Nothing,
            // A sale moves on hand and reserved alike: the units not reserved stay.
            &mut store::SummaryMoves::default(),
        ));
        *sold
            .entry((&line.location_id, &line.variant_id))
            .or_insert(0) += line.quantity;
    }
    for ((location, variant), units) in sold {
        let level = levels[&(location.clone(), variant.clone())].total();
        // A sale is not conditioned on the level's version (see above), so its
        // `on_hand_after` may miss another sale committed at the same moment. The movements'
        // sum, which reconciliation checks, is exact either way, and a change by staff is
        // still conditioned on the version, which every sale moves.
        let movement = Movement {
            id: app.ids.new_id("mov"),
            variant_id: variant.clone(),
            location_id: location.clone(),
            delta: -units,
            reason: Reason::Sold,
            note: None,
            on_hand_after: level.on_hand - units,
            actor: holder.to_owned(),
            created_at: now.clone(),
        };
        ops.push(store::movement_put(tenant, &movement));
    }
    ops.push(store::holder_delete(tenant, holder, version));
    ops.push(event(
        app,
        tenant,
        InventoryEvent::StockCommitted,
        Some(holder),
        json!({"holder": holder, "lines": lines_json(lines)}),
    ));
    Some(ops)
}

/// Releases the expired lines of a variant (oldest first, a page at a time) so that their units
/// count again; answers how many units came back. Each holder's lines go in one transaction,
/// conditioned on the holder's header as read, so a holder renewed meanwhile keeps them.
///
/// The index sorts lines by the expiry they were last written with, which a holder's later
/// changes move on without rewriting them; so the lines the index calls expired are checked
/// against their holders, and those of a holder still alive are re-indexed at its expiry, so
/// that the next sweep does not look at them again.
pub async fn sweep_expired(
    app: &App,
    tenant: &TenantId,
    variant: &VariantId,
) -> Result<i64, InventoryError> {
    // A page of lines that only looked expired is re-indexed; then the next page may hold some
    // that are.
    for _ in 0..4 {
        let (returned, reindexed) = sweep_page(app, tenant, variant).await?;
        if returned > 0 || reindexed == 0 {
            return Ok(returned);
        }
    }
    Ok(0)
}

/// One page of [`sweep_expired`]: the units returned, and the live lines re-indexed.
async fn sweep_page(
    app: &App,
    tenant: &TenantId,
    variant: &VariantId,
) -> Result<(i64, usize), InventoryError> {
    let now_epoch = app.clock.epoch_seconds();
    let (candidates, _) = store::reserved_lines(
        app.table.as_ref(),
        tenant,
        variant,
        Some(now_epoch),
        50,
        None,
    )
    .await?;
    if candidates.is_empty() {
        return Ok((0, 0));
    }
    let (lines, heads) = store::with_holder_expiry(app.table.as_ref(), tenant, candidates).await?;
    let mut alive: BTreeMap<&str, Vec<&ReservationLine>> = BTreeMap::new();
    let mut by_holder: BTreeMap<&str, Vec<&ReservationLine>> = BTreeMap::new();
    for line in &lines {
        if line.expires_epoch > now_epoch {
            alive.entry(&line.holder).or_default().push(line);
        } else {
            by_holder.entry(&line.holder).or_default().push(line);
        }
    }
    let reindexed = alive.values().map(Vec::len).sum();
    for (holder, lines) in alive {
        // Best effort: a line changed meanwhile was re-indexed by that change.
        let ops = lines
            .iter()
            .map(|l| store::line_put(tenant, l, Some(l.quantity)))
            .collect();
        if let Err(error) = app.table.transact(ops).await {
            tracing::debug!(%error, holder, "live reservation lines not re-indexed");
        }
    }
    let expired: Vec<ReservationLine> = by_holder
        .values()
        .flat_map(|lines| lines.iter().map(|l| (*l).clone()))
        .collect();
    let levels = products_of(app, tenant, &expired).await?;
    let now = rfc3339(app.clock.now());
    let mut returned = 0;
    for (holder, lines) in by_holder {
        let mut ops = Vec::new();
        let mut summaries = store::SummaryMoves::default();
        for line in &lines {
            let Some(level) = levels.get(&(line.location_id.clone(), line.variant_id.clone()))
            else {
                continue;
            };
            ops.extend(give_back(
                tenant,
                line,
                &level.first().product_id,
                &now,
                &mut summaries,
            ));
        }
        ops.extend(summaries.ops(tenant));
        if let Some(head) = heads.get(holder) {
            ops.push(store::holder_touch(tenant, holder, head.version));
        }
        let owned: Vec<ReservationLine> = lines.iter().map(|l| (*l).clone()).collect();
        ops.push(released_event(app, tenant, holder, true, &owned));
        match app.table.transact(ops).await {
            Ok(()) => returned += owned.iter().map(|l| l.quantity).sum::<i64>(),
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if returned > 0 {
        let products: Vec<ProductId> = levels
            .values()
            .map(|s| s.first().product_id.clone())
            .collect();
        publish(app, tenant, &products, None).await;
    }
    Ok((returned, reindexed))
}

/// Lines of a holding one [`move_holding_ops`] moves at most (each is deleted from one holder
/// and written to the other, in one transaction with the caller's writes).
pub const MAX_MOVED_LINES: usize = 40;

/// What [`move_holding_ops`] answers.
pub struct HoldingMove {
    /// The operations, for one transaction.
    pub ops: Vec<TxOp>,
    /// What `to` holds after them.
    pub after: Holding,
    /// Whether they move everything `from` holds; otherwise `from` holds the rest after them,
    /// for another move.
    pub complete: bool,
}

/// The operations that move what `from` holds to `to` (a guest's cart merged into a
/// customer's), at most [`MAX_MOVED_LINES`] lines of it: each line moves to `to`'s partition,
/// added to the line `to` holds at the same level and shard; when everything has moved, `from`
/// holds nothing. No level changes: the units stay reserved, only their holder changes. `to`
/// then expires at `expires_epoch`. Both holdings are read here; the operations are conditioned
/// on both holders' headers, so a transaction holding them fails if either changed meanwhile
/// (the caller reads again).
pub async fn move_holding_ops(
    app: &App,
    tenant: &TenantId,
    from: &str,
    to: &str,
    expires_epoch: i64,
) -> Result<HoldingMove, InventoryError> {
    let source = store::holding(app.table.as_ref(), tenant, from).await?;
    let target = store::holding(app.table.as_ref(), tenant, to).await?;
    let expires_at = rfc3339(
        time::OffsetDateTime::from_unix_timestamp(expires_epoch)
            .map_err(|_| InventoryError::field("expires_at", "invalid", "out of range"))?,
    );
    let complete = source.lines.len() <= MAX_MOVED_LINES;
    let moving: Vec<&ReservationLine> = source.lines.iter().take(MAX_MOVED_LINES).collect();
    let mut ops = Vec::new();
    let mut after: Vec<ReservationLine> = Vec::new();
    let slot = |l: &ReservationLine| (l.variant_id.clone(), l.location_id.clone(), l.shard);
    let mut slots: Vec<(VariantId, LocationId, u32)> = moving
        .iter()
        .map(|l| slot(l))
        .chain(target.lines.iter().map(slot))
        .collect();
    slots.sort();
    slots.dedup();
    for key in slots {
        let moved = moving.iter().find(|l| slot(l) == key);
        let staying = target.lines.iter().find(|l| slot(l) == key);
        if let Some(line) = moved {
            ops.push(store::line_delete(tenant, line));
        }
        let quantity = moved.map_or(0, |l| l.quantity) + staying.map_or(0, |l| l.quantity);
        let line = ReservationLine {
            holder: to.to_owned(),
            variant_id: key.0.clone(),
            location_id: key.1.clone(),
            shard: key.2,
            quantity,
            expires_at: expires_at.clone(),
            expires_epoch,
        };
        // `to`'s own lines stay as they are (their expiry is its header's).
        if moved.is_some() {
            ops.push(store::line_put(tenant, &line, staying.map(|l| l.quantity)));
        }
        after.push(line);
    }
    match source.version {
        Some(version) if complete => ops.push(store::holder_delete(tenant, from, version)),
        Some(version) => ops.push(store::holder_touch(tenant, from, version)),
        None => {}
    }
    if !after.is_empty() {
        ops.push(store::holder_put(tenant, to, expires_epoch, target.version));
        // The expiry worker follows the holder that now holds the units.
        ops.push(event(
            app,
            tenant,
            InventoryEvent::StockReserved,
            Some(to),
            json!({
                "holder": to,
                "expires_at": expires_at,
                "expires_epoch": expires_epoch,
                "lines": lines_json(&after),
            }),
        ));
    }
    let after = Holding {
        version: (!after.is_empty()).then(|| target.version.unwrap_or(0) + 1),
        expires_epoch,
        lines: after,
    };
    Ok(HoldingMove {
        ops,
        after,
        complete,
    })
}
