//! A short per-container cache of settings groups, so that routes acting on settings (log-in,
//! refresh, password changes) usually read them without a store call.
//!
//! Bound: a change made through one container is seen at once by that container and within
//! [`TTL_MS`] (30 seconds) by every other container.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

pub const TTL_MS: i64 = 30_000;
/// Entries kept at most; beyond it the cache starts over (a container serves few tenants).
const CAPACITY: usize = 10_000;

/// (tenant, group) → (expires at, epoch milliseconds; the group's values)
type Entries = HashMap<(String, &'static str), (i64, Value)>;

#[derive(Default)]
pub struct Cache {
    entries: Mutex<Entries>,
}

impl Cache {
    pub fn get(&self, tenant: &str, group: &'static str, now_ms: i64) -> Option<Value> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&(tenant.to_owned(), group))
            .filter(|(expires, _)| *expires > now_ms)
            .map(|(_, value)| value.clone())
    }

    pub fn put(&self, tenant: &str, group: &'static str, now_ms: i64, value: Value) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert((tenant.to_owned(), group), (now_ms + TTL_MS, value));
    }

    pub fn invalidate(&self, tenant: &str, group: &'static str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&(tenant.to_owned(), group));
    }
}
