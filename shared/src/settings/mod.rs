//! Company settings: typed groups with defaults, validation, versioning and history. Secrets are
//! encrypted at rest and only ever shown masked. Other modules read settings through
//! [`service::read`].

pub mod cache;
pub mod errors;
pub mod events;
pub mod groups;
pub mod routes;
pub mod secrets;
pub mod service;
pub mod store;
