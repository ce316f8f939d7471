//! Companies (tenants): their profile and the platform-wide handle that names them at log-in.

pub mod errors;
pub mod events;
pub mod model;
pub mod routes;
pub mod store;
