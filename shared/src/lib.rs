//! The library every Lambda function, the sandbox and the tests are built on.
//!
//! Platform code (ports and adapters, the HTTP layer, auth, events) sits beside the domain
//! modules; each domain module keeps its model, store (the only place that builds its keys),
//! service and routes together.

pub mod access;
pub mod api_keys;
pub mod app;
pub mod auth;
pub mod authentication;
pub mod aws;
pub mod blobs;
pub mod carts;
pub mod catalog;
pub mod clock;
pub mod companies;
pub mod config;
pub mod customers;
pub mod discounts;
pub mod events;
pub mod http;
pub mod iam;
pub mod identity;
pub mod ids;
pub mod inventory;
pub mod mail;
pub mod observe;
pub mod orders;
pub mod payments;
pub mod places;
pub mod pricing;
pub mod queue;
pub mod routes;
pub mod sealed;
pub mod secrets;
pub mod settings;
pub mod shipping;
pub mod staff;
pub mod store;
pub mod system;
pub mod tax;
pub mod tokens;
pub mod ttl_cache;
pub mod validate;
pub mod workers;
