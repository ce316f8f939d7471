//! Carts: what a shopper (a guest, or a signed-in customer) is about to buy.
//!
//! - `model.rs`: carts as stored (header and lines in one item) and as shoppers see them;
//! - `service.rs`: the rules: access, limits, pricing from the catalog on every read and change,
//!   and the stock reservation written in the same transaction as every change;
//! - `store.rs`: keys;
//! - `routes.rs`: `/store/carts`.
//!
//! Totals come from the pricing module's engine; its discount, shipping and tax adjusters are
//! the zero ones until those modules fill them.

pub mod errors;
pub mod model;
pub mod routes;
pub mod service;
pub mod store;
