//! A per-container cache of key lookups, positive and negative, so that most storefront requests
//! authenticate without a store call.
//!
//! Bound: a key revoked or rotated through any container stops working everywhere within
//! [`TTL_MS`] (30 seconds); through the same container, at once.

use std::collections::HashMap;
use std::sync::Mutex;

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

struct Entry {
    expires_ms: i64,
    resolved: Option<Resolved>,
}

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Per key id: when this container last recorded a use (epoch milliseconds).
    last_use: Mutex<HashMap<String, i64>>,
}

impl Cache {
    /// `Some(answer)` when the hash was looked up less than [`TTL_MS`] ago.
    pub fn get(&self, hash: &str, now_ms: i64) -> Option<Option<Resolved>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|e| e.expires_ms > now_ms)
            .map(|e| e.resolved.clone())
    }

    pub fn put(&self, hash: &str, now_ms: i64, resolved: Option<Resolved>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            hash.to_owned(),
            Entry {
                expires_ms: now_ms + TTL_MS,
                resolved,
            },
        );
    }

    /// Forgets a hash (the key was revoked or rotated through this container).
    pub fn invalidate(&self, hash: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(hash);
    }

    /// Whether this container should record a use of the key now: at most once per `every_ms`.
    pub fn use_is_due(&self, key_id: &str, now_ms: i64, every_ms: i64) -> bool {
        let mut last = self.last_use.lock().unwrap_or_else(|e| e.into_inner());
        if last.len() >= CAPACITY {
            last.clear();
        }
        match last.get(key_id) {
            Some(at) if now_ms - at < every_ms => false,
            _ => {
                last.insert(key_id.to_owned(), now_ms);
                true
            }
        }
    }
}
