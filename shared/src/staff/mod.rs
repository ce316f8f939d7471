//! Staff users of a company: their accounts, roles and status.

pub mod model;
pub mod store;
