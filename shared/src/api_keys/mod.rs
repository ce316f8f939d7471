//! Publishable storefront API keys: how a storefront names its tenant and what it may do.
//!
//! A key (`pk_<32 random alphanumerics>`, about 190 bits) is shown once, when it is created or
//! rotated; the table holds only its SHA-256. Authenticating a key is one read of a global lookup
//! item (the hash pointing to the tenant, the key id and the scopes), and usually none: a
//! per-container cache keeps answers for [`cache::TTL_MS`] (30 s), which bounds how long a
//! revoked or rotated key keeps working (the requirement is a minute).

pub mod cache;
pub mod errors;
pub mod events;
pub mod model;
pub mod routes;
pub mod service;
pub mod store;

/// The access of a storefront route that only reads: the table, plus recording its API key's
/// last use, the one update such a function may make (on the keys' partitions only).
pub const STORE_READ: crate::access::AwsAccess = crate::access::AwsAccess {
    updates: &[store::KEY_PARTITIONS],
    ..crate::access::AwsAccess::READ
};
