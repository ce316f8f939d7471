//! Payments: payment records with their append-only history (`model.rs`, `store.rs`), the rules
//! of their money (`ledger.rs`, pure: no capture beyond the authorization, no refund beyond the
//! captures), the provider port with the `manual` and `test` providers (`provider.rs`), and
//! opening a payment with its provider's session (`service.rs`). Carts open payment sessions;
//! checkout and orders drive the rest.

pub mod errors;
pub mod ledger;
pub mod model;
pub mod provider;
pub mod service;
pub mod store;
