//! Identity and access: the permission catalog and the roles that grant permissions to staff.

pub mod errors;
pub mod events;
pub mod model;
pub mod permissions;
pub mod routes;
pub mod store;
