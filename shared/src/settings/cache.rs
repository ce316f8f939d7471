//! A short per-container cache of settings groups, so that routes acting on settings (log-in,
//! refresh, password changes) usually read them without a store call.
//!
//! Bound: a change made through one container is seen at once by that container and within
//! [`TTL_MS`] (30 seconds) by every other container.

use crate::ttl_cache::TtlCache;
use serde_json::Value;

pub const TTL_MS: i64 = 30_000;
/// Entries kept at most; beyond it the cache starts over (a container serves few tenants).
const CAPACITY: usize = 10_000;

/// (tenant, group) → the group's values.
pub struct Cache {
    entries: TtlCache<(String, &'static str), Value>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            entries: TtlCache::new(TTL_MS, CAPACITY),
        }
    }
}

impl Cache {
    pub fn get(&self, tenant: &str, group: &'static str, now_ms: i64) -> Option<Value> {
        self.entries.get(&(tenant.to_owned(), group), now_ms)
    }

    pub fn put(&self, tenant: &str, group: &'static str, now_ms: i64, value: Value) {
        self.entries.put((tenant.to_owned(), group), now_ms, value);
    }

    pub fn invalidate(&self, tenant: &str, group: &'static str) {
        self.entries.invalidate(&(tenant.to_owned(), group));
    }
}
