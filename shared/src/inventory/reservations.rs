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
use super::store::{self, Guard, Holding, LevelOf};
use crate::app::App;
use crate::catalog::model::Variant;
use crate::clock::rfc3339;
use crate::events::event;
use crate::identity::TenantId;
use crate::ids::{LocationId, ProductId, VariantId};
use crate::store::{StoreError, TxOp};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// Variants one reservation holds.
pub const MAX_LINES: usize = 30;

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

/// What a reserve read: the holder's lines, the variants, the eligible locations and levels.
struct Reading {
    holding: Holding,
    variants: HashMap<VariantId, (ProductId, Variant)>,
    /// Active, open locations that fulfil online orders, highest priority first.
    eligible: Vec<LocationId>,
    levels: HashMap<(LocationId, VariantId), LocationStock>,
}

/// Where units are held: a location, and the shard of its level.
type Slot = (LocationId, u32);

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
        levels,
    })
}

fn by_level(stocks: Vec<LocationStock>) -> HashMap<(LocationId, VariantId), LocationStock> {
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
    reserve_with(app, tenant, holder, lines, expires_epoch, &[]).await
}

/// [`reserve`], committing the caller's own writes (`with`: a cart's change) in the same
/// transaction, so that the two happen together or not at all. They go first in the
/// transaction; when one of their conditions fails nothing is written and the answer is
/// `Stale`, for the caller to read again (a reservation that loses a race is retried here).
pub async fn reserve_with(
    app: &App,
    tenant: &TenantId,
    holder: &str,
    lines: &[Line],
    expires_epoch: i64,
    with: &[TxOp],
) -> Result<Vec<ReservationLine>, InventoryError> {
    let wanted = check(holder, lines)?;
    if expires_epoch <= app.clock.epoch_seconds() {
        return Err(InventoryError::field(
            "expires_at",
            "in_the_past",
            "a reservation expires in the future",
        ));
    }
    let mut swept: Vec<VariantId> = Vec::new();
    'attempts: for attempt in 0..crate::store::ATTEMPTS * 2 {
        if attempt > 0 {
            crate::store::back_off(attempt.min(crate::store::ATTEMPTS)).await;
        }
        let reading = read(app, tenant, holder, &wanted).await?;
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
        let mut ops: Vec<TxOp> = with.to_vec();
        let mut moved: Vec<ProductId> = Vec::new();
        let mut summaries = store::SummaryMoves::default();
        let mut guarded = Vec::new();
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
                    if !moved.contains(&product) {
                        moved.push(product.clone());
                    }
                    let backorder = variant.is_some_and(|v| v.allow_backorder);
                    let safety = variant.map_or(0, |v| v.safety_stock);
                    let guard = if delta > 0 && !backorder {
                        // The first shard keeps the safety stock back.
                        Guard::Unreserved(delta + if shard == 0 { safety } else { 0 })
                    } else {
                        Guard::Nothing
                    };
                    guarded.push(ops.len());
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
                    ops.push(store::line_put(tenant, &line, old_line.map(|l| l.quantity)));
                    result.push(line);
                }
            }
        }
        let check_from = ops.len();
        for location in &checks {
            ops.push(store::location_takes_stock(tenant, location));
        }
        ops.extend(summaries.ops(tenant));
        match (result.is_empty(), reading.holding.version) {
            (true, None) if with.is_empty() => return Ok(result),
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
        if ops.len() > crate::store::MAX_TRANSACTION_OPS {
            return Err(InventoryError::TooManyLines { max: MAX_LINES });
        }
        match app.table.transact(ops).await {
            Ok(()) => {
                // Only products whose stock moved: a cart's change re-puts every line, but
                // moves one.
                publish(app, tenant, &moved, Some(&reading.eligible)).await;
                return Ok(result);
            }
            Err(e) if (0..with.len()).any(|i| e.failed_at(i)) => return Err(InventoryError::Stale),
            // A location closed, a level gave its units to someone else, or the holder changed
            // meanwhile: read again.
            Err(StoreError::TransactionCancelled { failed }) => {
                tracing::debug!(?failed, ?guarded, check_from, "reservation raced; retrying");
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
        let now = rfc3339(app.clock.now());
        let levels = products_of(app, tenant, &holding.lines).await?;
        let mut ops = Vec::new();
        // One movement per level sold from, however many of its shards the lines hold units in.
        let mut sold: BTreeMap<(&LocationId, &VariantId), i64> = BTreeMap::new();
        for line in &holding.lines {
            let shard = levels
                .get(&(line.location_id.clone(), line.variant_id.clone()))
                .and_then(|stock| stock.shards.get(line.shard as usize))
                .filter(|(_, stored)| *stored);
            let Some((shard, _)) = shard else {
                // A line's level is written with it; not there means the line was swept away
                // between the two reads: read again.
                continue 'attempts;
            };
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
            json!({"holder": holder, "lines": lines_json(&holding.lines)}),
        ));
        match app.table.transact(ops).await {
            Ok(()) => return Ok(holding.lines),
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(InventoryError::Busy)
}

/// Releases the expired lines of a variant (oldest first, a page at a time) so that their units
/// count again; answers how many units came back. Each holder's lines go in one transaction; a
/// line that changed meanwhile is left for the next sweep.
pub async fn sweep_expired(
    app: &App,
    tenant: &TenantId,
    variant: &VariantId,
) -> Result<i64, InventoryError> {
    let now_epoch = app.clock.epoch_seconds();
    let (lines, _) = store::reserved_lines(
        app.table.as_ref(),
        tenant,
        variant,
        Some(now_epoch),
        50,
        None,
    )
    .await?;
    let levels = products_of(app, tenant, &lines).await?;
    let now = rfc3339(app.clock.now());
    let mut by_holder: BTreeMap<&str, Vec<&ReservationLine>> = BTreeMap::new();
    for line in &lines {
        by_holder.entry(&line.holder).or_default().push(line);
    }
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
    Ok(returned)
}

/// The operations that move everything `from` holds to `to` (a guest's cart merged into a
/// customer's): each line moves to `to`'s partition, added to the line `to` holds at the same
/// level and shard, and `from` holds nothing after. No level changes: the units stay reserved,
/// only their holder changes. `to` then expires at `expires_epoch`. Both holdings are read
/// here; the operations are conditioned on them, so a transaction holding them fails if either
/// changed meanwhile (the caller reads again). Answers the operations and `to`'s lines after.
pub async fn move_holding_ops(
    app: &App,
    tenant: &TenantId,
    from: &str,
    to: &str,
    expires_epoch: i64,
) -> Result<(Vec<TxOp>, Vec<ReservationLine>), InventoryError> {
    let source = store::holding(app.table.as_ref(), tenant, from).await?;
    let target = store::holding(app.table.as_ref(), tenant, to).await?;
    let expires_at = rfc3339(
        time::OffsetDateTime::from_unix_timestamp(expires_epoch)
            .map_err(|_| InventoryError::field("expires_at", "invalid", "out of range"))?,
    );
    let mut ops = Vec::new();
    let mut after: Vec<ReservationLine> = Vec::new();
    let slot = |l: &ReservationLine| (l.variant_id.clone(), l.location_id.clone(), l.shard);
    let mut slots: Vec<(VariantId, LocationId, u32)> =
        source.lines.iter().chain(&target.lines).map(slot).collect();
    slots.sort();
    slots.dedup();
    for key in slots {
        let moving = source.lines.iter().find(|l| slot(l) == key);
        let staying = target.lines.iter().find(|l| slot(l) == key);
        if let Some(line) = moving {
            ops.push(store::line_delete(tenant, line));
        }
        let quantity = moving.map_or(0, |l| l.quantity) + staying.map_or(0, |l| l.quantity);
        let line = ReservationLine {
            holder: to.to_owned(),
            variant_id: key.0.clone(),
            location_id: key.1.clone(),
            shard: key.2,
            quantity,
            expires_at: expires_at.clone(),
            expires_epoch,
        };
        ops.push(store::line_put(tenant, &line, staying.map(|l| l.quantity)));
        after.push(line);
    }
    if let Some(version) = source.version {
        ops.push(store::holder_delete(tenant, from, version));
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
    Ok((ops, after))
}
