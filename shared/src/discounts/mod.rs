//! Discounts: automatic ones and ones applied by codes (`model.rs`, `store.rs`, `service.rs`,
//! `routes.rs`), the rules that pick the best combination for a cart and work out every amount
//! (`engine.rs`, pure), and the counting of uses when orders are placed (`usage.rs`). Carts
//! and orders apply them through the totals engine (`pricing`).

pub mod engine;
pub mod errors;
pub mod events;
pub mod model;
pub mod routes;
pub mod service;
pub mod store;
pub mod usage;
