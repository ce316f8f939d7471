//! Stock locations, stock levels, movements and reservations, as stored and as the API shows
//! them.

use crate::ids::{LocationId, ProductId, VariantId};
use crate::settings::groups::Address;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A place that holds stock: a warehouse, a shop, a supplier shipping direct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    /// `loc_<ULID>`
    #[schema(value_type = String)]
    pub id: LocationId,
    pub name: String,
    pub address: Option<Address>,
    /// An inactive location takes no new stock and no reservations.
    pub active: bool,
    /// Whether online orders are reserved from it.
    pub fulfils_online_orders: bool,
    /// Higher first: reservations take from the highest-priority location that can cover a line.
    pub priority: i64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// How a stored location's state reads: `open`, or `closing` while a delete checks that it
/// holds nothing (writes that add stock check for `open`).
pub const OPEN: &str = "open";
pub const CLOSING: &str = "closing";

/// Why units on hand changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Received,
    Correction,
    Damaged,
    Shrinkage,
    Returned,
    TransferIn,
    TransferOut,
    /// A count set the level (`PUT /admin/inventory/levels`).
    Count,
    /// Reserved units left with an order.
    Sold,
    /// Units of a canceled order, or of a return received, back on hand.
    Restocked,
    /// An order's units shipped from another location than they were taken from at checkout:
    /// they come back where they were taken (`+`) and leave where they ship from (`-`).
    Fulfilled,
}

impl Reason {
    /// The reasons an adjustment may give (counts, sales and transfers have their own routes).
    pub const ADJUSTMENT: [Reason; 7] = [
        Reason::Received,
        Reason::Correction,
        Reason::Damaged,
        Reason::Shrinkage,
        Reason::Returned,
        Reason::TransferIn,
        Reason::TransferOut,
    ];
}

/// The stock of one variant at one location, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLevel {
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub location_id: LocationId,
    pub on_hand: i64,
    /// Units reserved by holders, expired or not.
    pub reserved: i64,
    /// `on_hand - reserved`, kept beside them so that a reservation can be conditioned on it.
    pub unreserved: i64,
    #[serde(default)]
    pub incoming: i64,
    pub updated_at: String,
    /// Counts changes of `on_hand` (reservations leave it alone); `If-Match` of a count.
    #[serde(default)]
    pub version: u64,
    /// Which shard of the level this is (0: the first, or the only one).
    #[serde(default)]
    pub shard: u32,
    /// How many shards the level is split into (said by the first shard).
    #[serde(default = "one")]
    pub shards: u32,
}

fn one() -> u32 {
    1
}

impl StoredLevel {
    /// A shard of this level that was never written.
    pub fn empty_shard(&self, shard: u32) -> StoredLevel {
        StoredLevel {
            on_hand: 0,
            reserved: 0,
            unreserved: 0,
            incoming: 0,
            version: 0,
            shard,
            shards: 1,
            ..self.clone()
        }
    }
}

/// The stock of one variant at one location: its level's shards, by number, each with whether
/// it is stored (a shard never written reads as empty). Most levels have one shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationStock {
    pub shards: Vec<(StoredLevel, bool)>,
}

impl LocationStock {
    /// A level that is not split.
    pub fn single(level: StoredLevel, stored: bool) -> Self {
        LocationStock {
            shards: vec![(level, stored)],
        }
    }

    pub fn first(&self) -> &StoredLevel {
        &self.shards[0].0
    }

    /// The level as a whole: the shards' units summed. Its version is the sum of theirs, so it
    /// changes whenever units on hand change in any shard.
    pub fn total(&self) -> StoredLevel {
        let mut total = self.first().clone();
        for (shard, _) in &self.shards[1..] {
            total.on_hand += shard.on_hand;
            total.reserved += shard.reserved;
            total.unreserved += shard.unreserved;
            total.incoming += shard.incoming;
            total.version += shard.version;
            if shard.updated_at > total.updated_at {
                total.updated_at = shard.updated_at.clone();
            }
        }
        total.shards = self.shards.len() as u32;
        total
    }
}

/// The stock of one variant at one location, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StockLevel {
    #[schema(value_type = String)]
    pub variant_id: VariantId,
    #[schema(value_type = String)]
    pub product_id: ProductId,
    #[schema(value_type = String)]
    pub location_id: LocationId,
    pub on_hand: i64,
    /// Units held by live reservations (expired ones no longer count).
    pub reserved: i64,
    /// `on_hand - reserved - safety_stock`, never below 0.
    pub available: i64,
    pub incoming: i64,
    pub updated_at: String,
    /// The level's version: send it as `If-Match` to set the count.
    pub version: u64,
    /// How many shards the level is split into (1 unless split for a flash sale).
    pub shards: u32,
}

/// One change of units on hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Movement {
    /// `mov_<ULID>`: ordered by time.
    pub id: String,
    #[schema(value_type = String)]
    pub variant_id: VariantId,
    #[schema(value_type = String)]
    pub location_id: LocationId,
    pub delta: i64,
    pub reason: Reason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Units on hand at the location after the change.
    pub on_hand_after: i64,
    /// Who made it: a staff user, or the holder whose reservation was sold.
    pub actor: String,
    pub created_at: String,
}

/// Units of one variant held at one location for a holder (a cart, an order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReservationLine {
    pub holder: String,
    #[schema(value_type = String)]
    pub variant_id: VariantId,
    #[schema(value_type = String)]
    pub location_id: LocationId,
    /// The shard of the location's level the units are held in (0 unless the level is split).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shard: u32,
    pub quantity: i64,
    pub expires_at: String,
    pub expires_epoch: i64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A holder's reservation as its owner keeps a copy of it (a cart does, written with each of its
/// changes), so that the next change can start from it without reading the holder. The copy is
/// only a starting point: the change is conditioned on the holder's version, so a copy that is
/// no longer current (the holder was swept or released meanwhile) makes it read the holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldingCopy {
    pub version: u64,
    pub lines: Vec<HeldUnits>,
}

/// Units held at one level (and shard) in a [`HoldingCopy`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldUnits {
    pub variant_id: VariantId,
    pub location_id: LocationId,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shard: u32,
    pub quantity: i64,
}

/// A reservation line as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReservationView {
    #[serde(flatten)]
    pub line: ReservationLine,
    /// Past its expiry: no longer counted as reserved, and released by the expiry worker (or by
    /// the next reservation that needs its units).
    pub expired: bool,
}
