//! Customers: the shoppers of one company, their accounts, sign-in, addresses and groups.
//!
//! Each customer is one item collection (profile and addresses), so a storefront reads an address
//! book, and staff export a customer, with one query. An email belongs to one customer per
//! company; the same person shopping at two companies has two unrelated accounts.

pub mod account;
pub mod admin;
pub mod admin_routes;
pub mod auth;
pub mod email_change;
pub mod emails;
pub mod errors;
pub mod events;
pub mod groups;
pub mod model;
pub mod postal;
pub mod routes;
pub mod store;
