//! Where stock lives.
//!
//! | item | pk | sk | gsi1 (pk / sk) |
//! |---|---|---|---|
//! | location | `T#<t>#LOCATIONS` | `LOC#<location id>` | |
//! | location count (caps locations per company) | `T#<t>#LOCATIONS` | `COUNT` | |
//! | stock level (its first shard) | `T#<t>#LOCSTOCK#<location id>` | `<variant id>` | `T#<t>#STOCK_LEVELS` / `<variant id>#<location id>` |
//! | stock level shard `k` ≥ 1 (a level split for a flash sale) | `T#<t>#LOCSTOCK#<location id>` | `<variant id>#<k>` | |
//! | movement | `T#<t>#MOVES#<variant id>` | `<movement id>` | `T#<t>#MOVES#<variant id>#<location id>` / `<movement id>` |
//! | reservation holder | `T#<t>#HOLD#<holder>` | `HOLDER` | |
//! | reservation line | `T#<t>#HOLD#<holder>` | `LINE#<variant id>#<location id>` (shard `k` ≥ 1: `…#<k>`) | `T#<t>#RESERVED#<variant id>` / `<expires epoch when last written, 12 digits>#<holder>#<location id>` |
//!
//! A location's levels share its partition, so deleting a location reads them all strongly
//! consistently. A holder's lines share its partition, so releasing reads them in one query.
//! A holder's lines expire with it (its header's `expires_epoch`); each line also records the
//! expiry it was last written with, never later, by which lines are indexed per variant, so a
//! reservation short of stock finds the lines that may have expired, oldest first, and checks
//! them against their holders.
//!
//! A level may be split into shards (see `super::shards`): full levels of their own, each with
//! its own guard, that together hold the location's stock. The first shard is the level as it
//! always was, and says how many shards there are; only it is indexed, and readers complete it
//! with the others ([`complete`]).

use super::model::{
    HeldUnits, HoldingCopy, Location, LocationStock, Movement, ReservationLine, StoredLevel,
    CLOSING, OPEN,
};
use crate::identity::TenantId;
use crate::ids::{LocationId, ProductId, VariantId};
use crate::store::{self, attr, Comparison, Condition, Index, Item, Key, Query, SortKey};
use crate::store::{StoreError, Table, TxOp, Update};
use serde_json::Value;
use std::collections::BTreeMap;

pub const LOCATION: &str = "location";
pub const LEVEL: &str = "stock_level";
pub const MOVEMENT: &str = "stock_movement";
pub const HOLDER: &str = "reservation_holder";
pub const LINE: &str = "reservation_line";

const STATE: &str = "state";

fn locations_partition(tenant: &TenantId) -> String {
    format!("T#{tenant}#LOCATIONS")
}

pub fn location_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(locations_partition(tenant), format!("LOC#{id}"))
}

/// Most shards one level is split into.
pub const MAX_SHARDS: u32 = 16;

pub fn level_key(tenant: &TenantId, location: &str, variant: &str, shard: u32) -> Key {
    let sk = match shard {
        0 => variant.to_owned(),
        k => format!("{variant}#{k}"),
    };
    Key::new(format!("T#{tenant}#LOCSTOCK#{location}"), sk)
}

fn levels_index(tenant: &TenantId) -> String {
    format!("T#{tenant}#STOCK_LEVELS")
}

fn moves_partition(tenant: &TenantId, variant: &str) -> String {
    format!("T#{tenant}#MOVES#{variant}")
}

fn holder_partition(tenant: &TenantId, holder: &str) -> String {
    format!("T#{tenant}#HOLD#{holder}")
}

fn holder_key(tenant: &TenantId, holder: &str) -> Key {
    Key::new(holder_partition(tenant, holder), "HOLDER")
}

fn line_key(tenant: &TenantId, line: &ReservationLine) -> Key {
    let (variant, location) = (line.variant_id.as_str(), line.location_id.as_str());
    let sk = match line.shard {
        0 => format!("LINE#{variant}#{location}"),
        k => format!("LINE#{variant}#{location}#{k}"),
    };
    Key::new(holder_partition(tenant, &line.holder), sk)
}

fn reserved_index(tenant: &TenantId, variant: &str) -> String {
    format!("T#{tenant}#RESERVED#{variant}")
}

fn expiry_sort(expires_epoch: i64) -> String {
    format!("{:012}", expires_epoch.max(0))
}

// Locations ----------------------------------------------------------------------------------

/// Counts a location in (`+1`, only while fewer than `max` exist) or out (`-1`).
pub fn location_count_op(tenant: &TenantId, delta: i64, max: usize) -> TxOp {
    store::capped_count_op(
        Key::new(locations_partition(tenant), "COUNT"),
        "location_count",
        delta,
        max,
    )
}

/// Creates a location (open).
pub fn location_create_op(tenant: &TenantId, location: &Location) -> TxOp {
    let mut item = store::to_item(
        &location_key(tenant, location.id.as_str()),
        LOCATION,
        location,
    );
    item.insert(STATE.into(), OPEN.into());
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

/// Replaces a location's fields from the version read, while it is open.
pub fn location_update_op(tenant: &TenantId, location: &Location, expected: u64) -> TxOp {
    let mut item = store::to_item(
        &location_key(tenant, location.id.as_str()),
        LOCATION,
        location,
    );
    item.insert(STATE.into(), OPEN.into());
    TxOp::Put {
        item,
        condition: Some(Condition::All(vec![Condition::VersionIs(expected), open()])),
    }
}

fn open() -> Condition {
    Condition::Equals {
        attr: STATE.into(),
        value: OPEN.into(),
    }
}

/// Checks, within a transaction that adds stock or reservations, that the location is active
/// and not being deleted.
pub fn location_takes_stock(tenant: &TenantId, location: &LocationId) -> TxOp {
    TxOp::Check {
        key: location_key(tenant, location.as_str()),
        condition: Condition::All(vec![
            open(),
            Condition::Equals {
                attr: "active".into(),
                value: true.into(),
            },
        ]),
    }
}

/// Checks, within a transaction that puts stock back, that the location exists and is not
/// being deleted (active or not).
pub fn location_open_check(tenant: &TenantId, location: &LocationId) -> TxOp {
    TxOp::Check {
        key: location_key(tenant, location.as_str()),
        condition: open(),
    }
}

/// Marks an open location as closing (from the version read), or opens a closing one again.
pub async fn set_location_state(
    table: &dyn Table,
    tenant: &TenantId,
    location: &LocationId,
    expected: u64,
    closing: bool,
) -> Result<(), StoreError> {
    let (from, to) = if closing {
        (OPEN, CLOSING)
    } else {
        (CLOSING, OPEN)
    };
    table
        .update(
            &location_key(tenant, location.as_str()),
            Update::new().set(STATE, to),
            Some(Condition::All(vec![
                Condition::VersionIs(expected),
                Condition::Equals {
                    attr: STATE.into(),
                    value: from.into(),
                },
            ])),
        )
        .await
        .map(|_| ())
}

/// Deletes a closing location.
pub fn location_delete_op(tenant: &TenantId, location: &LocationId, expected: u64) -> TxOp {
    TxOp::Delete {
        key: location_key(tenant, location.as_str()),
        condition: Some(Condition::All(vec![
            Condition::VersionIs(expected),
            Condition::Equals {
                attr: STATE.into(),
                value: CLOSING.into(),
            },
        ])),
    }
}

pub async fn location(
    table: &dyn Table,
    tenant: &TenantId,
    id: &LocationId,
) -> Result<Option<Location>, StoreError> {
    table
        .get(&location_key(tenant, id.as_str()))
        .await?
        .map(store::from_item)
        .transpose()
}

/// Every location of the company (at most [`super::locations::MAX_LOCATIONS`]), oldest first,
/// each with whether it is open (not being deleted).
pub async fn all_locations(
    table: &dyn Table,
    tenant: &TenantId,
) -> Result<Vec<(Location, bool)>, StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, locations_partition(tenant))
                .sk(SortKey::BeginsWith("LOC#".into()))
                .limit(1000),
        )
        .await?;
    page.items
        .into_iter()
        .map(|item| {
            let open = item.get(STATE).and_then(Value::as_str) == Some(OPEN);
            Ok((store::from_item(item)?, open))
        })
        .collect()
}

pub async fn location_page(
    table: &dyn Table,
    tenant: &TenantId,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<Location>, Option<Item>), StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, locations_partition(tenant))
                .sk(SortKey::BeginsWith("LOC#".into()))
                .limit(limit)
                .after(after),
        )
        .await?;
    let locations = page
        .items
        .into_iter()
        .map(store::from_item)
        .collect::<Result<_, _>>()?;
    Ok((locations, page.last_key))
}

// Stock levels -------------------------------------------------------------------------------

/// Which level (and which of its shards) a change touches.
#[derive(Debug, Clone, Copy)]
pub struct LevelOf<'a> {
    pub variant: &'a VariantId,
    pub product: &'a ProductId,
    pub location: &'a LocationId,
    pub shard: u32,
}

/// What a level change asks of the level as it is.
#[derive(Debug, Clone, Copy)]
pub enum Guard {
    /// The level is at this version (`None`: it does not exist yet).
    Version(Option<u64>),
    /// At least this many units are unreserved.
    Unreserved(i64),
    /// The level is at this version and at least this many units are unreserved.
    VersionAndUnreserved(u64, i64),
    /// Nothing (a backorder, a release).
    Nothing,
}

/// The moves of the products' stock summaries (what the storefront reads) that a transaction's
/// level changes make: one operation per variant, however many of its levels change, added at
/// the end of the transaction by [`SummaryMoves::ops`].
#[derive(Debug, Default)]
#[allow(clippy::type_complexity)]
pub struct SummaryMoves(BTreeMap<(ProductId, VariantId, u32), BTreeMap<LocationId, i64>>);

impl SummaryMoves {
    /// Records that `unreserved` units moved at a level (level changes record their own).
    pub fn moved(&mut self, of: LevelOf, unreserved: i64) {
        if unreserved != 0 {
            *self
                .0
                .entry((of.product.clone(), of.variant.clone(), of.shard))
                .or_default()
                .entry(of.location.clone())
                .or_insert(0) += unreserved;
        }
    }

    pub fn ops(self, tenant: &TenantId) -> Vec<TxOp> {
        self.0
            .into_iter()
            .map(|((product, variant, shard), moves)| {
                crate::catalog::store::stock_summary_add(tenant, &product, &variant, shard, &moves)
            })
            .collect()
    }
}

/// Moves a level's counts atomically: `on_hand` and `reserved` by the deltas, `unreserved` by
/// their difference, and records the move of the product's stock summary in `summaries`. A
/// change of `on_hand` counts a new version. Creates the level if absent.
#[allow(clippy::too_many_arguments)]
pub fn level_change_op(
    tenant: &TenantId,
    of: LevelOf,
    on_hand: i64,
    reserved: i64,
    now: &str,
    guard: Guard,
    summaries: &mut SummaryMoves,
) -> TxOp {
    level_split_op(tenant, of, on_hand, reserved, now, guard, None, summaries)
}

/// What a split writes on a level's first shard.
#[derive(Debug, Clone, Copy)]
pub struct SplitTo {
    /// How many shards the level has now.
    pub shards: u32,
    /// The versions of the shards that go away. A level's version is the sum of its shards',
    /// so the first takes them on: the version never goes back to one a client read before
    /// (where `If-Match` would let a stale write through).
    pub absorbed_versions: u64,
}

/// [`level_change_op`] that also sets, on a level's first shard, how many shards it has.
#[allow(clippy::too_many_arguments)]
pub fn level_split_op(
    tenant: &TenantId,
    of: LevelOf,
    on_hand: i64,
    reserved: i64,
    now: &str,
    guard: Guard,
    split: Option<SplitTo>,
    summaries: &mut SummaryMoves,
) -> TxOp {
    summaries.moved(of, on_hand - reserved);
    let key = level_key(tenant, of.location.as_str(), of.variant.as_str(), of.shard);
    let mut update = Update::new()
        .set(attr::ENTITY, LEVEL)
        .set("variant_id", of.variant.as_str())
        .set("product_id", of.product.as_str())
        .set("location_id", of.location.as_str())
        .set("shard", i64::from(of.shard));
    if of.shard == 0 {
        // Only a level's first shard is listed; readers fetch the others.
        update = update.set(attr::GSI1PK, levels_index(tenant)).set(
            attr::GSI1SK,
            format!("{}#{}", of.variant.as_str(), of.location.as_str()),
        );
    }
    if let Some(split) = split {
        update = update.set("shards", i64::from(split.shards));
    }
    update = update
        .set("updated_at", now)
        .add("on_hand", on_hand)
        .add("reserved", reserved)
        .add("unreserved", on_hand - reserved);
    // Adding zero still creates the attribute, so a level first made by a reservation has a
    // version to condition on. Splitting counts as a change: it moves units between shards.
    let absorbed = split.map_or(0, |s| {
        i64::try_from(s.absorbed_versions).unwrap_or(i64::MAX)
    });
    update = update.add(
        attr::VERSION,
        i64::from(on_hand != 0 || split.is_some()) + absorbed,
    );
    let condition = match guard {
        Guard::Version(None) => Some(Condition::NotExists),
        Guard::Version(Some(v)) => Some(Condition::VersionIs(v)),
        Guard::Unreserved(min) => Some(unreserved_at_least(min)),
        Guard::VersionAndUnreserved(version, min) => Some(Condition::All(vec![
            Condition::VersionIs(version),
            unreserved_at_least(min),
        ])),
        Guard::Nothing => None,
    };
    TxOp::Update {
        key,
        update,
        condition,
    }
}

fn zero(name: &str) -> Condition {
    Condition::Number {
        attr: name.into(),
        cmp: Comparison::Eq,
        value: 0,
    }
}

/// Checks, within a change of a split level's units on hand, that a shard it leaves alone is
/// still as read (at its version, or still not written).
pub fn level_unchanged(tenant: &TenantId, shard: &StoredLevel) -> TxOp {
    TxOp::Check {
        key: level_key(
            tenant,
            shard.location_id.as_str(),
            shard.variant_id.as_str(),
            shard.shard,
        ),
        condition: Condition::VersionIs(shard.version),
    }
}

fn unreserved_at_least(min: i64) -> Condition {
    Condition::Number {
        attr: "unreserved".into(),
        cmp: Comparison::Ge,
        value: min,
    }
}

/// Removes a level (or one of its shards) that holds nothing.
pub fn level_delete_empty(tenant: &TenantId, level: &StoredLevel) -> TxOp {
    TxOp::Delete {
        key: level_key(
            tenant,
            level.location_id.as_str(),
            level.variant_id.as_str(),
            level.shard,
        ),
        condition: Some(Condition::All(vec![zero("on_hand"), zero("reserved")])),
    }
}

/// Removes a shard whose units a merge moves to the others: it must hold no reservations and be
/// at the version read (so its units on hand are those moved).
pub fn shard_delete(tenant: &TenantId, shard: &StoredLevel) -> TxOp {
    TxOp::Delete {
        key: level_key(
            tenant,
            shard.location_id.as_str(),
            shard.variant_id.as_str(),
            shard.shard,
        ),
        condition: Some(Condition::All(vec![
            Condition::VersionIs(shard.version),
            zero("reserved"),
        ])),
    }
}

fn level_of(item: Item) -> Result<StoredLevel, StoreError> {
    store::from_item(item)
}

async fn batch_levels(table: &dyn Table, keys: Vec<Key>) -> Result<Vec<StoredLevel>, StoreError> {
    let mut found = Vec::new();
    for chunk in keys.chunks(store::MAX_BATCH_GET_KEYS) {
        for item in table.batch_get(chunk).await? {
            found.push(level_of(item)?);
        }
    }
    Ok(found)
}

/// The stock of some variants at some locations: their levels' first shards in one batched
/// read, then, only when some level is split, its other shards in a second (absent levels left
/// out).
pub async fn stocks(
    table: &dyn Table,
    tenant: &TenantId,
    pairs: &[(&LocationId, &VariantId)],
) -> Result<Vec<LocationStock>, StoreError> {
    let keys = pairs
        .iter()
        .map(|(l, v)| level_key(tenant, l.as_str(), v.as_str(), 0))
        .collect();
    let firsts = batch_levels(table, keys).await?;
    complete(table, tenant, firsts).await
}

/// One variant's stock at one location (`None`: never written).
pub async fn stock(
    table: &dyn Table,
    tenant: &TenantId,
    location: &LocationId,
    variant: &VariantId,
) -> Result<Option<LocationStock>, StoreError> {
    Ok(stocks(table, tenant, &[(location, variant)]).await?.pop())
}

/// Completes levels' first shards (as listed) with their other shards, read in one batch; a
/// shard never written reads as empty.
pub async fn complete(
    table: &dyn Table,
    tenant: &TenantId,
    firsts: Vec<StoredLevel>,
) -> Result<Vec<LocationStock>, StoreError> {
    let keys: Vec<Key> = firsts
        .iter()
        .flat_map(|first| {
            (1..first.shards.clamp(1, MAX_SHARDS)).map(move |k| {
                level_key(
                    tenant,
                    first.location_id.as_str(),
                    first.variant_id.as_str(),
                    k,
                )
            })
        })
        .collect();
    let mut others: BTreeMap<(LocationId, VariantId, u32), StoredLevel> = BTreeMap::new();
    if !keys.is_empty() {
        for level in batch_levels(table, keys).await? {
            others.insert(
                (
                    level.location_id.clone(),
                    level.variant_id.clone(),
                    level.shard,
                ),
                level,
            );
        }
    }
    Ok(firsts
        .into_iter()
        .map(|first| {
            let count = first.shards.clamp(1, MAX_SHARDS);
            let mut shards = Vec::with_capacity(count as usize);
            for k in 1..count {
                let found =
                    others.remove(&(first.location_id.clone(), first.variant_id.clone(), k));
                shards.push(match found {
                    Some(level) => (level, true),
                    None => (first.empty_shard(k), false),
                });
            }
            shards.insert(0, (first, true));
            LocationStock { shards }
        })
        .collect())
}

/// Every level at a location, read strongly consistently (a location delete's check).
pub async fn levels_at(
    table: &dyn Table,
    tenant: &TenantId,
    location: &LocationId,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<StoredLevel>, Option<Item>), StoreError> {
    let page = table
        .query(
            &Query::partition(
                Index::Table,
                format!("T#{tenant}#LOCSTOCK#{}", location.as_str()),
            )
            .limit(limit)
            .after(after),
        )
        .await?;
    let levels = page
        .items
        .into_iter()
        .map(level_of)
        .collect::<Result<_, _>>()?;
    Ok((levels, page.last_key))
}

/// A page of the company's levels by variant, optionally of one variant.
pub async fn level_page(
    table: &dyn Table,
    tenant: &TenantId,
    variant: Option<&VariantId>,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<StoredLevel>, Option<Item>), StoreError> {
    let mut query = Query::partition(Index::Gsi1, levels_index(tenant));
    if let Some(variant) = variant {
        query = query.sk(SortKey::BeginsWith(format!("{}#", variant.as_str())));
    }
    let page = table.query(&query.limit(limit).after(after)).await?;
    let levels = page
        .items
        .into_iter()
        .map(level_of)
        .collect::<Result<_, _>>()?;
    Ok((levels, page.last_key))
}

// Movements ----------------------------------------------------------------------------------

pub fn movement_put(tenant: &TenantId, movement: &Movement) -> TxOp {
    let variant = movement.variant_id.as_str();
    let mut item = store::to_item(
        &Key::new(moves_partition(tenant, variant), movement.id.as_str()),
        MOVEMENT,
        movement,
    );
    item.insert(
        attr::GSI1PK.into(),
        format!(
            "{}#{}",
            moves_partition(tenant, variant),
            movement.location_id.as_str()
        )
        .into(),
    );
    item.insert(attr::GSI1SK.into(), movement.id.clone().into());
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

/// A page of a variant's movements, newest first, optionally at one location.
pub async fn movement_page(
    table: &dyn Table,
    tenant: &TenantId,
    variant: &VariantId,
    location: Option<&LocationId>,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<Movement>, Option<Item>), StoreError> {
    let partition = moves_partition(tenant, variant.as_str());
    let query = match location {
        Some(location) => {
            Query::partition(Index::Gsi1, format!("{partition}#{}", location.as_str()))
        }
        None => Query::partition(Index::Table, partition),
    };
    let page = table
        .query(&query.backward().limit(limit).after(after))
        .await?;
    let movements = page
        .items
        .into_iter()
        .map(store::from_item)
        .collect::<Result<_, _>>()?;
    Ok((movements, page.last_key))
}

/// Every movement of a variant (the reconciliation's sum), oldest first.
pub async fn all_movements(
    table: &dyn Table,
    tenant: &TenantId,
    variant: &VariantId,
) -> Result<Vec<Movement>, StoreError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = table
            .query(
                &Query::partition(Index::Table, moves_partition(tenant, variant.as_str()))
                    .limit(1000)
                    .after(after),
            )
            .await?;
        for item in page.items {
            all.push(store::from_item(item)?);
        }
        match page.last_key {
            Some(last) => after = Some(last),
            None => return Ok(all),
        }
    }
}

// Reservations -------------------------------------------------------------------------------

/// A holder's reservation as stored: its header (expiry and version) and its lines.
#[derive(Debug, Clone, Default)]
pub struct Holding {
    /// `None` when the holder holds nothing.
    pub version: Option<u64>,
    pub expires_epoch: i64,
    pub lines: Vec<ReservationLine>,
}

pub async fn holding(
    table: &dyn Table,
    tenant: &TenantId,
    holder: &str,
) -> Result<Holding, StoreError> {
    let page = table
        .query(&Query::partition(Index::Table, holder_partition(tenant, holder)).limit(1000))
        .await?;
    let mut holding = Holding::default();
    for item in page.items {
        match item.get(attr::ENTITY).and_then(Value::as_str) {
            Some(HOLDER) => {
                holding.version = item.get(attr::VERSION).and_then(Value::as_u64);
                holding.expires_epoch = item
                    .get("expires_epoch")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
            }
            Some(LINE) => holding.lines.push(store::from_item(item)?),
            _ => {}
        }
    }
    // A line records the expiry it was last written with; the holder's is the one that counts.
    let expires_at = expiry_text(holding.expires_epoch);
    for line in &mut holding.lines {
        line.expires_epoch = holding.expires_epoch;
        line.expires_at = expires_at.clone();
    }
    Ok(holding)
}

impl Holding {
    /// The copy an owner keeps (`None` when nothing is held).
    pub fn copy(&self) -> Option<HoldingCopy> {
        self.version.map(|version| HoldingCopy {
            version,
            lines: self
                .lines
                .iter()
                .map(|l| HeldUnits {
                    variant_id: l.variant_id.clone(),
                    location_id: l.location_id.clone(),
                    shard: l.shard,
                    quantity: l.quantity,
                })
                .collect(),
        })
    }

    /// The holding an owner's copy describes (its expiry is not in the copy).
    pub fn from_copy(holder: &str, copy: Option<&HoldingCopy>) -> Holding {
        let Some(copy) = copy else {
            return Holding::default();
        };
        Holding {
            version: Some(copy.version),
            expires_epoch: 0,
            lines: copy
                .lines
                .iter()
                .map(|l| ReservationLine {
                    holder: holder.to_owned(),
                    variant_id: l.variant_id.clone(),
                    location_id: l.location_id.clone(),
                    shard: l.shard,
                    quantity: l.quantity,
                    expires_at: String::new(),
                    expires_epoch: 0,
                })
                .collect(),
        }
    }
}

/// The keys of some levels' first shards, for a caller's own batched read; [`level_in`] reads
/// them back and [`complete`] adds their other shards.
pub fn level_keys(tenant: &TenantId, pairs: &[(LocationId, VariantId)]) -> Vec<Key> {
    pairs
        .iter()
        .map(|(l, v)| level_key(tenant, l.as_str(), v.as_str(), 0))
        .collect()
}

/// A level, when a batched read's item is one.
pub fn level_in(item: &Item) -> Option<Result<StoredLevel, StoreError>> {
    (item.get(attr::ENTITY).and_then(Value::as_str) == Some(LEVEL))
        .then(|| store::from_item(item.clone()))
}

fn expiry_text(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .map(crate::clock::rfc3339)
        .unwrap_or_default()
}

/// A holder's header: its version and the expiry every one of its lines shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HolderHead {
    pub version: u64,
    pub expires_epoch: i64,
}

/// The headers of some holders (one batched read); a holder that holds nothing is absent.
pub async fn holder_heads(
    table: &dyn Table,
    tenant: &TenantId,
    holders: &[&str],
) -> Result<BTreeMap<String, HolderHead>, StoreError> {
    let mut names: Vec<&str> = holders.to_vec();
    names.sort_unstable();
    names.dedup();
    let mut heads = BTreeMap::new();
    for chunk in names.chunks(store::MAX_BATCH_GET_KEYS) {
        let keys: Vec<Key> = chunk.iter().map(|h| holder_key(tenant, h)).collect();
        for item in table.batch_get(&keys).await? {
            let name = item
                .get("holder")
                .and_then(Value::as_str)
                .unwrap_or_default();
            heads.insert(
                name.to_owned(),
                HolderHead {
                    version: item.get(attr::VERSION).and_then(Value::as_u64).unwrap_or(0),
                    expires_epoch: item
                        .get("expires_epoch")
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                },
            );
        }
    }
    Ok(heads)
}

/// Lines read from the index, each given its holder's expiry (what counts; the index sorts by
/// the expiry a line was last written with, which is never later). A line whose holder is gone
/// keeps its own (it is about to be removed with it).
pub async fn with_holder_expiry(
    table: &dyn Table,
    tenant: &TenantId,
    mut lines: Vec<ReservationLine>,
) -> Result<(Vec<ReservationLine>, BTreeMap<String, HolderHead>), StoreError> {
    let names: Vec<&str> = lines.iter().map(|l| l.holder.as_str()).collect();
    let heads = holder_heads(table, tenant, &names).await?;
    for line in &mut lines {
        if let Some(head) = heads.get(&line.holder) {
            line.expires_epoch = head.expires_epoch;
            line.expires_at = expiry_text(head.expires_epoch);
        }
    }
    Ok((lines, heads))
}

/// Counts a change of a holder's lines made without rewriting its header (a sweep of expired
/// lines): the next write of the holder, conditioned on the version it read, then reads again.
pub fn holder_touch(tenant: &TenantId, holder: &str, expected: u64) -> TxOp {
    TxOp::Update {
        key: holder_key(tenant, holder),
        update: Update::new().add(attr::VERSION, 1),
        condition: Some(Condition::VersionIs(expected)),
    }
}

/// Writes a holder's header at the next version (`expected`: the version read, `None` when it
/// held nothing).
pub fn holder_put(
    tenant: &TenantId,
    holder: &str,
    expires_epoch: i64,
    expected: Option<u64>,
) -> TxOp {
    let key = holder_key(tenant, holder);
    let mut item = Item::new();
    item.insert(attr::PK.into(), key.pk.into());
    item.insert(attr::SK.into(), key.sk.into());
    item.insert(attr::ENTITY.into(), HOLDER.into());
    item.insert("holder".into(), holder.into());
    item.insert("expires_epoch".into(), expires_epoch.into());
    item.insert(attr::VERSION.into(), (expected.unwrap_or(0) + 1).into());
    TxOp::Put {
        item,
        condition: Some(match expected {
            None => Condition::NotExists,
            Some(v) => Condition::VersionIs(v),
        }),
    }
}

pub fn holder_delete(tenant: &TenantId, holder: &str, expected: u64) -> TxOp {
    TxOp::Delete {
        key: holder_key(tenant, holder),
        condition: Some(Condition::VersionIs(expected)),
    }
}

fn quantity_is(quantity: i64) -> Condition {
    Condition::Number {
        attr: "quantity".into(),
        cmp: Comparison::Eq,
        value: quantity,
    }
}

/// Writes a reservation line (`expected`: the quantity read, `None` when new).
pub fn line_put(tenant: &TenantId, line: &ReservationLine, expected: Option<i64>) -> TxOp {
    let (variant, location) = (line.variant_id.as_str(), line.location_id.as_str());
    let mut item = store::to_item(&line_key(tenant, line), LINE, line);
    item.insert(attr::GSI1PK.into(), reserved_index(tenant, variant).into());
    item.insert(
        attr::GSI1SK.into(),
        format!(
            "{}#{}#{location}",
            expiry_sort(line.expires_epoch),
            line.holder
        )
        .into(),
    );
    TxOp::Put {
        item,
        condition: Some(match expected {
            None => Condition::NotExists,
            Some(q) => quantity_is(q),
        }),
    }
}

/// Removes a reservation line that still holds the quantity read. (Whether the holder is still
/// the one read is for the holder's header to say: every write of a holder's lines also writes
/// or conditions its header.)
pub fn line_delete(tenant: &TenantId, line: &ReservationLine) -> TxOp {
    TxOp::Delete {
        key: line_key(tenant, line),
        condition: Some(quantity_is(line.quantity)),
    }
}

/// A variant's reservation lines by the expiry they were last written with, soonest first; with
/// `expired_by`, only those that may have expired at that instant (their holders say). Read
/// from an index, so a line written a moment ago may be missing.
pub async fn reserved_lines(
    table: &dyn Table,
    tenant: &TenantId,
    variant: &VariantId,
    expired_by: Option<i64>,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<ReservationLine>, Option<Item>), StoreError> {
    let mut query = Query::partition(Index::Gsi1, reserved_index(tenant, variant.as_str()));
    if let Some(now) = expired_by {
        // Lines expiring at `now` or before: their sort keys begin with an epoch ≤ now.
        query = query.sk(SortKey::Lt(format!("{}$", expiry_sort(now))));
    }
    let page = table.query(&query.limit(limit).after(after)).await?;
    let lines = page
        .items
        .into_iter()
        .map(store::from_item)
        .collect::<Result<_, _>>()?;
    Ok((lines, page.last_key))
}
