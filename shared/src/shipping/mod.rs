//! Shipping: zones of destinations with their methods and rates (`model.rs`, `store.rs`,
//! `service.rs`, `routes.rs`), which zone a destination is in and what a method costs
//! (`quote.rs`), and the port carrier-calculated rates come through (`provider.rs`). Carts
//! offer and price the methods of their address's zone.

pub mod errors;
pub mod events;
pub mod model;
pub mod provider;
pub mod quote;
pub mod routes;
pub mod service;
pub mod store;
