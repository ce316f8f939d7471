//! Identifiers: a type prefix and a ULID (`prod_01J...`), sortable by creation time.
//!
//! The generator is injected so tests can make ids deterministic.

use std::sync::Mutex;
use ulid::Generator;

pub trait IdGen: Send + Sync {
    /// A new ULID string, monotonic within this generator.
    fn ulid(&self) -> String;

    /// A new id with its type prefix, e.g. `new_id("prod")` → `prod_01J...`.
    fn new_id(&self, prefix: &str) -> String {
        format!("{prefix}_{}", self.ulid())
    }
}

/// ULIDs from the system clock and a random source, monotonic even within one millisecond.
#[derive(Default)]
pub struct UlidGen {
    generator: Mutex<Generator>,
}

impl IdGen for UlidGen {
    fn ulid(&self) -> String {
        let mut generator = self.generator.lock().unwrap_or_else(|e| e.into_inner());
        match generator.generate() {
            Ok(id) => id.to_string(),
            // The random part overflowed within one millisecond: fall back to a fresh ULID.
            Err(_) => ulid::Ulid::new().to_string(),
        }
    }
}

/// Whether `id` has the given prefix followed by a well-formed ULID.
pub fn is_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| ulid::Ulid::from_string(ulid).is_ok())
}
