//! Stock levels: reading them, and changing units on hand by adjustment, count and transfer.
//!
//! Every change of units on hand writes its movement in the same transaction (who, when, the
//! delta, why, and units on hand after it), conditioned on the level's version, so that the
//! movement's `on_hand_after` is exact and the sum of a level's movements is its units on hand.
//! Reservations move `reserved` without a version, so they never make an adjustment retry.

use super::errors::InventoryError;
use super::events::InventoryEvent;
use super::model::{Location, LocationStock, Movement, Reason, StockLevel, StoredLevel};
use super::shards::{free_units, spread};
use super::store::{self, Guard, LevelOf};
use crate::app::App;
use crate::catalog::model::Variant;
use crate::clock::rfc3339;
use crate::events::event;
use crate::identity::TenantId;
use crate::ids::{LocationId, ProductId, VariantId, MAX_STOCK_UNITS};
use crate::store::TxOp;
use crate::validate::Errors;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The largest change one adjustment or transfer makes.
pub const MAX_DELTA: i64 = 1_000_000;
const MAX_NOTE: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    pub variant_id: String,
    pub location_id: String,
    /// Units added (positive) or taken away (negative), at most 1,000,000 either way.
    pub delta: i64,
    /// `received`, `correction`, `damaged`, `shrinkage`, `returned`, `transfer_in` or
    /// `transfer_out`.
    pub reason: Reason,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelCount {
    pub variant_id: String,
    pub location_id: String,
    /// The units counted.
    pub on_hand: i64,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub variant_id: String,
    pub from_location_id: String,
    pub to_location_id: String,
    pub quantity: i64,
    pub note: Option<String>,
}

/// A change's result: the level after it and the movement it wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockChange {
    pub level: StockLevel,
    pub movement: Movement,
}

/// A transfer's result: both levels after it and both movements.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferResult {
    pub from: StockChange,
    pub to: StockChange,
}

/// The level as the API shows it: `reserved` without the units of expired reservations still
/// stored, `available` less safety stock and never below 0.
pub fn view(level: &StoredLevel, safety_stock: i64, expired: i64) -> StockLevel {
    let reserved = (level.reserved - expired).max(0);
    StockLevel {
        variant_id: level.variant_id.clone(),
        product_id: level.product_id.clone(),
        location_id: level.location_id.clone(),
        on_hand: level.on_hand,
        reserved,
        available: (level.on_hand - reserved - safety_stock).max(0),
        incoming: level.incoming,
        updated_at: level.updated_at.clone(),
        version: level.version,
        shards: level.shards,
    }
}

/// A level that was never written: nothing at the location.
pub fn empty_level(
    variant: &VariantId,
    product: &ProductId,
    location: &LocationId,
    now: &str,
) -> StoredLevel {
    StoredLevel {
        variant_id: variant.clone(),
        product_id: product.clone(),
        location_id: location.clone(),
        on_hand: 0,
        reserved: 0,
        unreserved: 0,
        incoming: 0,
        updated_at: now.to_owned(),
        version: 0,
        shard: 0,
        shards: 1,
    }
}

/// The variant a request names, with the product holding it; unknown: a field error.
pub async fn named_variant(
    app: &App,
    tenant: &TenantId,
    raw: &str,
    field: &str,
) -> Result<(ProductId, Variant), InventoryError> {
    let unknown = || InventoryError::field(field, "unknown_variant", "no such variant");
    let id = VariantId::parse(raw).ok_or_else(unknown)?;
    crate::catalog::service::find_variant(app, tenant, &id)
        .await?
        .map(|(product, variant)| (product.id, variant))
        .ok_or_else(unknown)
}

/// The level a deleted variant left at a location (its product or the variant was deleted while
/// units were on hand there), as a variant to count: counted down to zero, the units stop
/// showing in the inventory listing and the location can be deleted again. The level keeps its
/// product's id; the variant's own rules are gone, so none apply (no backorder, no safety stock).
async fn left_behind(
    app: &App,
    tenant: &TenantId,
    raw: &str,
    location: &Location,
) -> Result<Option<(ProductId, Variant)>, InventoryError> {
    let Some(id) = VariantId::parse(raw) else {
        return Ok(None);
    };
    let Some(stock) = store::stock(app.table.as_ref(), tenant, &location.id, &id).await? else {
        return Ok(None);
    };
    let Some((first, _)) = stock.shards.first() else {
        return Ok(None);
    };
    let variant = Variant::bare(id, Default::default(), 0, &first.updated_at);
    Ok(Some((first.product_id.clone(), variant)))
}

/// The location a request names; unknown: a field error.
pub async fn named_location(
    app: &App,
    tenant: &TenantId,
    raw: &str,
    field: &str,
) -> Result<Location, InventoryError> {
    let unknown = || InventoryError::field(field, "unknown_location", "no such location");
    let id = LocationId::parse(raw).ok_or_else(unknown)?;
    store::location(app.table.as_ref(), tenant, &id)
        .await?
        .ok_or_else(unknown)
}

fn check_note(errors: &mut Errors, note: &Option<String>) {
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE || n.chars().any(char::is_control))
    {
        errors.push(crate::http::FieldError::new(
            "note",
            "invalid",
            format!("at most {MAX_NOTE} characters, without control characters"),
        ));
    }
}

fn check_units(errors: &mut Errors, field: &str, value: i64, lo: i64, hi: i64) {
    if !(lo..=hi).contains(&value) {
        errors.push(crate::http::FieldError::new(
            field,
            "out_of_range",
            format!("a whole number from {lo} to {hi}"),
        ));
    }
}

/// One change of units on hand at one location, as the transaction it needs.
struct OnHandChange<'a> {
    /// The level (its first shard).
    of: LevelOf<'a>,
    before: &'a LocationStock,
    delta: i64,
    reason: Reason,
    note: Option<String>,
    /// Whether the units may not drop below those reserved.
    keep_reserved: bool,
    safety_stock: i64,
}

impl OnHandChange<'_> {
    /// The operations on the level's shards (first, `.1` of them), then the movement recording
    /// the change and its event. Every shard is conditioned on its version, whether its units
    /// change or not, so that the movement's units on hand after it are exact.
    fn ops(
        &self,
        app: &App,
        tenant: &TenantId,
        actor: &str,
        now: &str,
        summaries: &mut store::SummaryMoves,
    ) -> (Vec<TxOp>, usize, Movement) {
        let free: Vec<i64> = self
            .before
            .shards
            .iter()
            .map(|(s, _)| free_units(s.shard, s.unreserved, self.safety_stock))
            .collect();
        let shares = spread(&free, self.delta);
        let mut ops = Vec::new();
        for ((shard, stored), share) in self.before.shards.iter().zip(shares) {
            let guard = Guard::Version(stored.then_some(shard.version));
            let of = LevelOf {
                shard: shard.shard,
                ..self.of
            };
            if share != 0 || !stored {
                ops.push(store::level_change_op(
                    tenant, of, share, 0, now, guard, summaries,
                ));
            } else {
                ops.push(store::level_unchanged(tenant, shard));
            }
        }
        let level_ops = ops.len();
        let movement = Movement {
            id: app.ids.new_id("mov"),
            variant_id: self.of.variant.clone(),
            location_id: self.of.location.clone(),
            delta: self.delta,
            reason: self.reason,
            note: self.note.clone(),
            on_hand_after: self.total().on_hand + self.delta,
            actor: actor.to_owned(),
            created_at: now.to_owned(),
        };
        ops.push(store::movement_put(tenant, &movement));
        ops.push(event(
            app,
            tenant,
            InventoryEvent::StockChanged,
            Some(actor),
            json!({
                "variant_id": movement.variant_id,
                "location_id": movement.location_id,
                "delta": movement.delta,
                "reason": movement.reason,
                "on_hand": movement.on_hand_after,
                "movement_id": movement.id,
            }),
        ));
        (ops, level_ops, movement)
    }

    fn total(&self) -> StoredLevel {
        self.before.total()
    }

    fn refused(&self) -> Option<InventoryError> {
        let before = self.total();
        let after = before.on_hand + self.delta;
        if self.keep_reserved && self.delta < 0 && after < before.reserved {
            return Some(InventoryError::InsufficientStock {
                variant_id: self.of.variant.to_string(),
                requested: -self.delta,
                available: before.unreserved.max(0),
            });
        }
        if !(-MAX_STOCK_UNITS..=MAX_STOCK_UNITS).contains(&after) {
            return Some(InventoryError::field(
                "delta",
                "out_of_range",
                format!("units on hand stay within ±{MAX_STOCK_UNITS}"),
            ));
        }
        None
    }

    fn after(&self, now: &str) -> StoredLevel {
        let before = self.total();
        StoredLevel {
            on_hand: before.on_hand + self.delta,
            unreserved: before.unreserved + self.delta,
            updated_at: now.to_owned(),
            // Every shard whose units move counts a version.
            version: before.version + self.moved_shards(),
            ..before
        }
    }

    fn moved_shards(&self) -> u64 {
        let free: Vec<i64> = self
            .before
            .shards
            .iter()
            .map(|(s, _)| free_units(s.shard, s.unreserved, self.safety_stock))
            .collect();
        spread(&free, self.delta)
            .iter()
            .filter(|s| **s != 0)
            .count() as u64
    }
}

/// Reads a level fresh (all its shards), or the empty level when none was written.
async fn current(
    app: &App,
    tenant: &TenantId,
    variant: &VariantId,
    product: &ProductId,
    location: &LocationId,
    now: &str,
) -> Result<LocationStock, InventoryError> {
    Ok(
        match store::stock(app.table.as_ref(), tenant, location, variant).await? {
            Some(stock) => stock,
            None => LocationStock::single(empty_level(variant, product, location, now), false),
        },
    )
}

/// Where one on-hand change happens and why; its delta comes from the plan.
struct Target<'a> {
    location: &'a LocationId,
    reason: Reason,
    /// Whether the location must be open and active (it receives units).
    receives: bool,
}

/// Runs on-hand changes (one, or a transfer's two) from fresh reads until none loses a race.
/// `plan` turns the levels read into each target's delta; with `if_match`, a level not at that
/// version answers 412 instead of a retry.
#[allow(clippy::too_many_arguments)]
async fn run_changes(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    variant: &Variant,
    product: &ProductId,
    targets: &[Target<'_>],
    note: &Option<String>,
    if_match: Option<u64>,
    plan: impl Fn(&[StoredLevel]) -> Result<Vec<i64>, InventoryError>,
) -> Result<Vec<StockChange>, InventoryError> {
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let now = rfc3339(app.clock.now());
        let mut befores = Vec::new();
        for target in targets {
            befores.push(current(app, tenant, &variant.id, product, target.location, &now).await?);
        }
        if if_match.is_some_and(|v| v != befores[0].total().version) {
            return Err(InventoryError::Stale);
        }
        let levels: Vec<StoredLevel> = befores.iter().map(LocationStock::total).collect();
        let deltas = plan(&levels)?;
        let mut ops = Vec::new();
        let mut summaries = store::SummaryMoves::default();
        let mut level_ops = Vec::new();
        let mut checks = Vec::new();
        let mut changes = Vec::new();
        for ((target, before), delta) in targets.iter().zip(&befores).zip(deltas) {
            let change = OnHandChange {
                of: LevelOf {
                    variant: &variant.id,
                    product,
                    location: target.location,
                    shard: 0,
                },
                before,
                delta,
                reason: target.reason,
                note: note.clone(),
                keep_reserved: !variant.allow_backorder,
                safety_stock: variant.safety_stock,
            };
            if let Some(refusal) = change.refused() {
                return Err(refusal);
            }
            let (change_ops, shard_ops, movement) =
                change.ops(app, tenant, actor, &now, &mut summaries);
            level_ops.extend(ops.len()..ops.len() + shard_ops);
            ops.extend(change_ops);
            if target.receives && delta > 0 {
                checks.push(ops.len());
                ops.push(store::location_takes_stock(tenant, target.location));
            }
            changes.push(StockChange {
                level: view(&change.after(&now), variant.safety_stock, 0),
                movement,
            });
        }
        ops.extend(summaries.ops(tenant));
        match app.table.transact(ops).await {
            Ok(()) => {
                super::availability::publish(app, tenant, std::slice::from_ref(product), None)
                    .await;
                return Ok(changes);
            }
            Err(e) if checks.iter().any(|i| e.failed_at(*i)) => {
                return Err(InventoryError::LocationInactive)
            }
            Err(e) if level_ops.iter().any(|i| e.failed_at(*i)) && if_match.is_some() => {
                return Err(InventoryError::Stale)
            }
            // Another change of the same level won: read again.
            Err(e) if level_ops.iter().any(|i| e.failed_at(*i)) => continue,
            Err(crate::store::StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(InventoryError::Busy)
}

pub async fn adjust(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: Adjustment,
) -> Result<StockChange, InventoryError> {
    let mut errors = Errors::new();
    check_units(&mut errors, "delta", input.delta, -MAX_DELTA, MAX_DELTA);
    if input.delta == 0 {
        errors.push(crate::http::FieldError::new(
            "delta",
            "zero",
            "an adjustment changes the units on hand",
        ));
    }
    if !Reason::ADJUSTMENT.contains(&input.reason) {
        errors.push(crate::http::FieldError::new(
            "reason",
            "invalid",
            "one of received, correction, damaged, shrinkage, returned, transfer_in, transfer_out",
        ));
    }
    check_note(&mut errors, &input.note);
    errors.into_result()?;
    let (product, variant) = named_variant(app, tenant, &input.variant_id, "variant_id").await?;
    let location = named_location(app, tenant, &input.location_id, "location_id").await?;
    let targets = [Target {
        location: &location.id,
        reason: input.reason,
        receives: true,
    }];
    let mut changes = run_changes(
        app,
        tenant,
        actor,
        &variant,
        &product,
        &targets,
        &input.note,
        None,
        |_| Ok(vec![input.delta]),
    )
    .await?;
    Ok(changes.remove(0))
}

/// Sets the units on hand to a count (`if_match`: the level's version the count was made at).
pub async fn count(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: LevelCount,
    if_match: Option<u64>,
) -> Result<StockChange, InventoryError> {
    let mut errors = Errors::new();
    check_units(&mut errors, "on_hand", input.on_hand, 0, MAX_STOCK_UNITS);
    check_note(&mut errors, &input.note);
    errors.into_result()?;
    let location = named_location(app, tenant, &input.location_id, "location_id").await?;
    let (product, variant) = match named_variant(app, tenant, &input.variant_id, "variant_id").await
    {
        Ok(found) => found,
        Err(unknown) if input.on_hand == 0 => {
            left_behind(app, tenant, &input.variant_id, &location)
                .await?
                .ok_or(unknown)?
        }
        Err(other) => return Err(other),
    };
    let targets = [Target {
        location: &location.id,
        reason: Reason::Count,
        receives: true,
    }];
    let mut changes = run_changes(
        app,
        tenant,
        actor,
        &variant,
        &product,
        &targets,
        &input.note,
        if_match,
        |levels| match input.on_hand - levels[0].on_hand {
            0 => Err(InventoryError::field(
                "on_hand",
                "unchanged",
                "the level already holds this count",
            )),
            delta => Ok(vec![delta]),
        },
    )
    .await?;
    Ok(changes.remove(0))
}

pub async fn transfer(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: Transfer,
) -> Result<TransferResult, InventoryError> {
    let mut errors = Errors::new();
    check_units(&mut errors, "quantity", input.quantity, 1, MAX_DELTA);
    if input.from_location_id == input.to_location_id {
        errors.push(crate::http::FieldError::new(
            "to_location_id",
            "same_location",
            "a transfer moves units between two different locations",
        ));
    }
    check_note(&mut errors, &input.note);
    errors.into_result()?;
    let (product, variant) = named_variant(app, tenant, &input.variant_id, "variant_id").await?;
    let from = named_location(app, tenant, &input.from_location_id, "from_location_id").await?;
    let to = named_location(app, tenant, &input.to_location_id, "to_location_id").await?;
    // Units leaving a location never dig into its reservations, backorder or not.
    let strict = Variant {
        allow_backorder: false,
        ..variant.clone()
    };
    let targets = [
        Target {
            location: &from.id,
            reason: Reason::TransferOut,
            receives: false,
        },
        Target {
            location: &to.id,
            reason: Reason::TransferIn,
            receives: true,
        },
    ];
    let mut changes = run_changes(
        app,
        tenant,
        actor,
        &strict,
        &product,
        &targets,
        &input.note,
        None,
        |_| Ok(vec![-input.quantity, input.quantity]),
    )
    .await?;
    let to = changes.remove(1);
    let from = changes.remove(0);
    Ok(TransferResult { from, to })
}

/// Levels as a listing shows them: with their variants' safety stock (one batched read of the
/// variants for the page), and with `low_stock` only those at or below the company's threshold.
/// Expired reservations still count here until they are released; the variant's own route
/// leaves them out.
pub async fn listed(
    app: &App,
    tenant: &TenantId,
    levels: Vec<StoredLevel>,
    low_stock: bool,
) -> Result<Vec<StockLevel>, InventoryError> {
    // A split level is listed once, by its first shard, with all its shards summed.
    let firsts = levels.into_iter().filter(|l| l.shard == 0).collect();
    let levels: Vec<StoredLevel> = store::complete(app.table.as_ref(), tenant, firsts)
        .await?
        .iter()
        .map(LocationStock::total)
        .collect();
    let mut ids: Vec<VariantId> = levels.iter().map(|l| l.variant_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let safety: HashMap<VariantId, i64> = if ids.is_empty() {
        HashMap::new()
    } else {
        crate::catalog::service::find_variants(app, tenant, &ids)
            .await?
            .into_iter()
            .map(|(id, _, variant)| (id, variant.safety_stock))
            .collect()
    };
    let threshold = if low_stock {
        Some(
            crate::settings::service::typed::<crate::settings::groups::Inventory>(app, tenant)
                .await?
                .low_stock_threshold,
        )
    } else {
        None
    };
    Ok(levels
        .iter()
        .map(|l| view(l, safety.get(&l.variant_id).copied().unwrap_or(0), 0))
        .filter(|l| threshold.is_none_or(|t| l.available <= t))
        .collect())
}

/// Every location's level of a variant (zeros where none was written), with expired
/// reservations no longer counted.
pub async fn levels_of(
    app: &App,
    tenant: &TenantId,
    variant: &VariantId,
) -> Result<Vec<StockLevel>, InventoryError> {
    let (product, variant) = crate::catalog::service::find_variant(app, tenant, variant)
        .await?
        .ok_or(InventoryError::NotFound("variant"))?;
    let locations = store::all_locations(app.table.as_ref(), tenant).await?;
    let pairs: Vec<(&LocationId, &VariantId)> = locations
        .iter()
        .map(|(l, _)| (&l.id, &variant.id))
        .collect();
    let stored: Vec<StoredLevel> = store::stocks(app.table.as_ref(), tenant, &pairs)
        .await?
        .iter()
        .map(LocationStock::total)
        .collect();
    let expired = expired_by_location(app, tenant, &variant.id).await?;
    let now = rfc3339(app.clock.now());
    Ok(locations
        .iter()
        .map(|(location, _)| {
            let level = stored
                .iter()
                .find(|l| l.location_id == location.id)
                .cloned()
                .unwrap_or_else(|| empty_level(&variant.id, &product.id, &location.id, &now));
            let gone = expired.get(&location.id).copied().unwrap_or(0);
            view(&level, variant.safety_stock, gone)
        })
        .collect())
}

/// Units of a variant held by reservations that have expired but not yet been released, by
/// location.
pub async fn expired_by_location(
    app: &App,
    tenant: &TenantId,
    variant: &VariantId,
) -> Result<HashMap<LocationId, i64>, InventoryError> {
    let now = app.clock.epoch_seconds();
    let (candidates, _) =
        store::reserved_lines(app.table.as_ref(), tenant, variant, Some(now), 1000, None).await?;
    // The index may call a line expired whose holder has since been renewed.
    let (lines, _) = store::with_holder_expiry(app.table.as_ref(), tenant, candidates).await?;
    let mut by_location = HashMap::new();
    for line in lines.into_iter().filter(|l| l.expires_epoch <= now) {
        *by_location.entry(line.location_id).or_insert(0) += line.quantity;
    }
    Ok(by_location)
}

/// How one level compares with its records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reconciliation {
    #[schema(value_type = String)]
    pub location_id: LocationId,
    pub on_hand: i64,
    /// The sum of the level's movements.
    pub movements_sum: i64,
    pub reserved: i64,
    /// The units of the reservation lines held there (expired ones included until released).
    pub reservations_sum: i64,
    /// Whether the level disagrees with its records.
    pub drift: bool,
}

/// Checks, at every location, that units on hand equal the sum of the variant's movements and
/// units reserved equal the sum of its reservation lines. Reads every movement; run it on
/// demand, not on a hot path. Reservation lines come from an index, so a reservation made a
/// moment ago may show as drift once; check again.
pub async fn reconcile(
    app: &App,
    tenant: &TenantId,
    variant: &VariantId,
) -> Result<Vec<Reconciliation>, InventoryError> {
    let (product, variant) = crate::catalog::service::find_variant(app, tenant, variant)
        .await?
        .ok_or(InventoryError::NotFound("variant"))?;
    let movements = store::all_movements(app.table.as_ref(), tenant, &variant.id).await?;
    let mut lines = Vec::new();
    let mut after = None;
    loop {
        let (page, last) =
            store::reserved_lines(app.table.as_ref(), tenant, &variant.id, None, 1000, after)
                .await?;
        lines.extend(page);
        match last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    let locations = store::all_locations(app.table.as_ref(), tenant).await?;
    let mut ids: Vec<LocationId> = locations.into_iter().map(|(l, _)| l.id).collect();
    for id in movements
        .iter()
        .map(|m| &m.location_id)
        .chain(lines.iter().map(|l| &l.location_id))
    {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let pairs: Vec<(&LocationId, &VariantId)> = ids.iter().map(|l| (l, &variant.id)).collect();
    let stocks = store::stocks(app.table.as_ref(), tenant, &pairs).await?;
    let now = rfc3339(app.clock.now());
    Ok(ids
        .iter()
        .map(|location| {
            let stock = stocks
                .iter()
                .find(|s| s.first().location_id == *location)
                .cloned()
                .unwrap_or_else(|| {
                    LocationStock::single(
                        empty_level(&variant.id, &product.id, location, &now),
                        false,
                    )
                });
            let level = stock.total();
            // Each shard agrees with the lines held in it, and its own counts add up.
            let shards_agree = stock.shards.iter().all(|(shard, _)| {
                let held: i64 = lines
                    .iter()
                    .filter(|l| l.location_id == *location && l.shard == shard.shard)
                    .map(|l| l.quantity)
                    .sum();
                shard.reserved == held && shard.unreserved == shard.on_hand - shard.reserved
            });
            let movements_sum = movements
                .iter()
                .filter(|m| m.location_id == *location)
                .map(|m| m.delta)
                .sum();
            let reservations_sum = lines
                .iter()
                .filter(|l| l.location_id == *location)
                .map(|l| l.quantity)
                .sum();
            Reconciliation {
                location_id: location.clone(),
                on_hand: level.on_hand,
                movements_sum,
                reserved: level.reserved,
                reservations_sum,
                drift: level.on_hand != movements_sum
                    || level.reserved != reservations_sum
                    || !shards_agree,
            }
        })
        .collect())
}

/// Units an order moves on hand outside a reservation: a canceled order's back where they were
/// taken, a received return's at its restock location, or a fulfilment's shipped from another
/// location than they were taken from.
#[derive(Debug, Clone)]
pub struct OrderMove {
    pub variant: VariantId,
    pub product: ProductId,
    pub location: LocationId,
    /// Positive: back on hand; negative: taken (only from units not reserved).
    pub delta: i64,
    pub reason: Reason,
}

/// The levels an order's moves touch, read in one batch.
pub async fn levels_for(
    app: &App,
    tenant: &TenantId,
    moves: &[OrderMove],
) -> Result<HashMap<(LocationId, VariantId), LocationStock>, InventoryError> {
    let mut pairs: Vec<(&LocationId, &VariantId)> =
        moves.iter().map(|m| (&m.location, &m.variant)).collect();
    pairs.sort();
    pairs.dedup();
    Ok(super::reservations::by_level(
        store::stocks(app.table.as_ref(), tenant, &pairs).await?,
    ))
}

/// Checks, in the caller's transaction, that a location still exists and is not being deleted
/// (stock put back there after the caller read it).
pub fn location_is_open(tenant: &TenantId, location: &LocationId) -> TxOp {
    store::location_open_check(tenant, location)
}

/// The operations of an order's moves for the caller's transaction, each with its movement.
/// Units back on hand are unconditioned (like a sale, they race nobody's count); units taken
/// need as many unreserved at the level (its first shard), or the transaction fails.
pub fn order_move_ops(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    moves: &[OrderMove],
    levels: &HashMap<(LocationId, VariantId), LocationStock>,
) -> Vec<TxOp> {
    let now = rfc3339(app.clock.now());
    let mut summaries = store::SummaryMoves::default();
    let mut ops = Vec::new();
    for m in moves {
        let on_hand = levels
            .get(&(m.location.clone(), m.variant.clone()))
            .map_or(0, |l| l.total().on_hand);
        ops.push(store::level_change_op(
            tenant,
            LevelOf {
                variant: &m.variant,
                product: &m.product,
                location: &m.location,
                shard: 0,
            },
            m.delta,
            0,
            &now,
            if m.delta < 0 {
                Guard::Unreserved(-m.delta)
            } else {
                Guard::Nothing
            },
            &mut summaries,
        ));
        let movement = super::model::Movement {
            id: app.ids.new_id("mov"),
            variant_id: m.variant.clone(),
            location_id: m.location.clone(),
            delta: m.delta,
            reason: m.reason,
            note: None,
            on_hand_after: on_hand + m.delta,
            actor: actor.to_owned(),
            created_at: now.clone(),
        };
        ops.push(store::movement_put(tenant, &movement));
    }
    ops.extend(summaries.ops(tenant));
    ops
}
