//! Staff users of a company: their accounts, roles and status, and invitations to join.

pub mod auth;
pub mod auth_events;
pub mod auth_routes;
pub mod errors;
pub mod events;
pub mod invite_store;
pub mod invites;
pub mod model;
pub mod routes;
pub mod service;
pub mod standing;
pub mod store;
