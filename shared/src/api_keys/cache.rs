//! A per-container cache of key lookups, positive and negative, so that most storefront requests
//! authenticate without a store call.
//!
//! Bound: a key revoked or rotated through any container stops working everywhere within
//! [`TTL_MS`] (30 seconds); through the same container, at once.

use crate::ttl_cache::TtlCache;

pub const TTL_MS: i64 = 30_000;
/// Entries kept at most; beyond it the cache starts over. Negative entries count too, so a flood
/// of made-up keys cannot grow it without bound.
const CAPACITY: usize = 10_000;

/// What a key hash resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub tenant: String,
    pub key_id: String,
    pub scopes: Vec<String>,
}

pub struct Cache {
    /// Key hash → what it resolved to (`None`: no active key).
    lookups: TtlCache<String, Option<Resolved>>,
    /// Key id → when this container last recorded a use (epoch milliseconds), kept for the
    /// recording interval.
    last_use: TtlCache<String, ()>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            lookups: TtlCache::new(TTL_MS, CAPACITY),
            last_use: TtlCache::new(super::service::LAST_USE_EVERY_SECS * 1000, CAPACITY),
        }
    }
}

impl Cache {
    /// `Some(answer)` when the hash was looked up less than [`TTL_MS`] ago.
    pub fn get(&self, hash: &str, now_ms: i64) -> Option<Option<Resolved>> {
        self.lookups.get(&hash.to_owned(), now_ms)
    }

    pub fn put(&self, hash: &str, now_ms: i64, resolved: Option<Resolved>) {
        self.lookups.put(hash.to_owned(), now_ms, resolved);
    }

    /// Forgets a hash (the key was revoked or rotated through this container).
    pub fn invalidate(&self, hash: &str) {
        self.lookups.invalidate(&hash.to_owned());
    }

    /// Whether this container should record a use of the key now: at most once per interval.
    pub fn use_is_due(&self, key_id: &str, now_ms: i64) -> bool {
        let key = key_id.to_owned();
        if self.last_use.get(&key, now_ms).is_some() {
            return false;
        }
        self.last_use.put(key, now_ms, ());
        true
    }
}
