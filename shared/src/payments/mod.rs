//! Payments: payment records with their append-only history (`model.rs`), the rules of their
//! money (`ledger.rs`, pure: no capture beyond the authorization, no refund beyond the captures),
//! and the provider port with the `manual` and `test` providers (`provider.rs`). Checkout and
//! orders drive them.

pub mod ledger;
pub mod model;
pub mod provider;
