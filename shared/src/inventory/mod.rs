//! Inventory: stock locations, stock levels per variant and location, the movements that change
//! units on hand, and reservations that hold units for carts and orders.
//!
//! - `locations.rs`: creating, changing and deleting locations;
//! - `stock.rs`: levels, adjustments, counts and transfers, each with its movement;
//! - `reservations.rs`: the reservation operations carts and checkout call (`reserve`,
//!   `release`, `commit`), atomic across all lines;
//! - `shards.rs`: levels split into shards so that one variant can take a flash sale;
//! - `availability.rs`: publishing what the storefront shows about stock after each change;
//! - `expiry.rs`: the worker that releases expired reservations;
//! - `routes.rs`: `/admin/locations` and `/admin/inventory`.
//!
//! The stock policy of a variant (`track_inventory`, `allow_backorder`, `safety_stock`) is part
//! of the variant, in the catalog.

pub mod availability;
pub mod errors;
pub mod events;
pub mod expiry;
pub mod locations;
pub mod model;
pub mod reservations;
pub mod routes;
pub mod shards;
pub mod stock;
pub mod store;
