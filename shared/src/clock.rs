//! Time is injected so that expiry, TTLs and retries are tested by moving a clock, not by sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;

    fn epoch_seconds(&self) -> i64 {
        self.now().unix_timestamp()
    }

    fn epoch_millis(&self) -> i64 {
        (self.now().unix_timestamp_nanos() / 1_000_000) as i64
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told to; shared by clones.
#[derive(Debug, Clone)]
pub struct ManualClock {
    nanos: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn at(start: OffsetDateTime) -> Self {
        ManualClock {
            nanos: Arc::new(AtomicI64::new(start.unix_timestamp_nanos() as i64)),
        }
    }

    pub fn starting_now() -> Self {
        Self::at(OffsetDateTime::now_utc())
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.nanos.fetch_add(by.as_nanos() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.nanos.load(Ordering::SeqCst) as i128)
            .expect("manual clock within range")
    }
}

/// RFC 3339 in UTC, the one timestamp format of the API.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC timestamp always formats")
}
