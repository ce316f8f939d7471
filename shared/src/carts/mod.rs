//! Carts: what a shopper (a guest, or a signed-in customer) is about to buy.
//!
//! - `model.rs`: carts as stored (header and lines in one item) and as shoppers see them;
//! - `service.rs`: the rules: access, limits, pricing from the catalog on every read and change,
//!   the stock reservation written in the same transaction as every change, the shipping method;
//! - `pricing.rs`: what a cart costs: its lines, its shipping method and its destination's taxes;
//! - `customers.rs`: a customer's carts, and the guest cart given to them on sign-in (merged);
//! - `admin.rs`: carts as staff see them, abandoned ones included;
//! - `expiry.rs`: the worker that marks abandoned carts and expires carts left unchanged;
//! - `store.rs`: keys;
//! - `routes.rs`: `/store/carts`.
//!
//! Totals come from the pricing module's engine, with the chosen shipping method's price and the
//! tax provider's taxes; discounts are the zero adjuster until that module fills it.

pub mod admin;
pub mod customers;
pub mod errors;
pub mod events;
pub mod expiry;
pub mod model;
pub mod pricing;
pub mod routes;
pub mod service;
pub mod store;
