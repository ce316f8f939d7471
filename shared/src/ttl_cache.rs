//! A small per-container cache whose entries expire after a fixed time, by the injected clock.
//! Several modules keep one (settings, API keys, the catalog taxonomy); each documents its bound.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct TtlCache<K, V> {
    ttl_ms: i64,
    /// Entries kept at most; beyond it the cache starts over (a container serves few tenants).
    capacity: usize,
    entries: Mutex<HashMap<K, (i64, V)>>,
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    pub fn new(ttl_ms: i64, capacity: usize) -> Self {
        TtlCache {
            ttl_ms,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K, now_ms: i64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(expires, _)| *expires > now_ms)
            .map(|(_, value)| value.clone())
    }

    pub fn put(&self, key: K, now_ms: i64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, (now_ms + self.ttl_ms, value));
    }

    pub fn invalidate(&self, key: &K) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_capacity_bounds_size() {
        let cache = TtlCache::new(1000, 2);
        cache.put("a", 0, 1);
        assert_eq!(cache.get(&"a", 999), Some(1));
        assert_eq!(cache.get(&"a", 1000), None);
        cache.put("b", 0, 2);
        cache.put("c", 0, 3);
        assert_eq!(cache.get(&"a", 1), None, "started over at capacity");
        cache.invalidate(&"c");
        assert_eq!(cache.get(&"c", 1), None);
    }
}
