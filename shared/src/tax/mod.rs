//! Tax: rates by place and class (`model.rs`, `store.rs`, `service.rs`, `routes.rs`), the built-in
//! engine that works out what each rate charges (`engine.rs`), EU VAT numbers for reverse charge
//! (`vat.rs`), and the port an external tax engine plugs into (`provider.rs`). Carts and orders
//! ask the provider for their taxes through the totals engine (`pricing`).

pub mod engine;
pub mod errors;
pub mod events;
pub mod model;
pub mod provider;
pub mod routes;
pub mod service;
pub mod store;
pub mod vat;
