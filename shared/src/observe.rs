//! Per-request counters of store calls, store time and consumed capacity.
//!
//! The HTTP layer and the queue workers run each unit of work inside [`measure`]; the metered
//! adapters add to the counters of the task they run in. The counts feed the JSON logs, the
//! `Server-Timing` header and the benchmarks.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Counters {
    pub store_calls: u32,
    pub store_time: Duration,
    /// DynamoDB capacity units consumed (read and write together); zero on the embedded store.
    pub capacity_units: f64,
    /// Of `capacity_units`, those consumed by writes (puts, updates, deletes, transactions),
    /// which cost five times what reads do.
    pub write_units: f64,
    pub queue_calls: u32,
    pub blob_calls: u32,
}

tokio::task_local! {
    static COUNTERS: RefCell<Counters>;
}

/// Runs `work` with fresh counters and returns its output with what it counted. Inside another
/// measured unit (a benchmark or test measuring a whole request), the counts also add up into
/// the enclosing one.
pub async fn measure<F: Future>(work: F) -> (F::Output, Counters) {
    let (output, counters) = COUNTERS
        .scope(RefCell::new(Counters::default()), async move {
            let output = work.await;
            let counters = COUNTERS.with(|c| *c.borrow());
            (output, counters)
        })
        .await;
    with(|outer| {
        outer.store_calls += counters.store_calls;
        outer.store_time += counters.store_time;
        outer.capacity_units += counters.capacity_units;
        outer.write_units += counters.write_units;
        outer.queue_calls += counters.queue_calls;
        outer.blob_calls += counters.blob_calls;
    });
    (output, counters)
}

fn with(f: impl FnOnce(&mut Counters)) {
    // Outside a measured unit of work (startup, background tasks) nothing is counted.
    let _ = COUNTERS.try_with(|c| f(&mut c.borrow_mut()));
}

pub fn record_store_call(elapsed: Duration) {
    with(|c| {
        c.store_calls += 1;
        c.store_time += elapsed;
    });
}

pub fn record_capacity(units: f64, write: bool) {
    with(|c| {
        c.capacity_units += units;
        if write {
            c.write_units += units;
        }
    });
}

pub fn record_queue_call() {
    with(|c| c.queue_calls += 1);
}

pub fn record_blob_call() {
    with(|c| c.blob_calls += 1);
}

/// Sets up JSON logs once per process; `RUST_LOG` filters them (default `info`).
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_target(false),
        )
        .with(filter)
        .try_init();
}

/// The filter `RUST_LOG` asks for: a level, or `target=level` directives separated by commas
/// (`warn,shared::orders=debug`); anything unreadable falls back to `info`. Functions use these
/// plain directives rather than `EnvFilter`'s, whose span and field matching links a regular
/// expression engine into every binary.
fn log_filter(setting: Option<&str>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    setting
        .filter(|value| !value.trim().is_empty())
        .and_then(|value| value.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

#[cfg(test)]
mod log_filter_tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn rust_log_sets_the_levels_per_target() {
        let filter = log_filter(Some("warn,shared::orders=debug"));
        assert!(filter.would_enable("shared::orders::service", &Level::DEBUG));
        assert!(!filter.would_enable("shared::orders::service", &Level::TRACE));
        assert!(filter.would_enable("shared::carts", &Level::WARN));
        assert!(!filter.would_enable("shared::carts", &Level::INFO));
    }

    #[test]
    fn no_or_unreadable_setting_logs_info() {
        for setting in [None, Some(""), Some("  "), Some("shared=loud")] {
            let filter = log_filter(setting);
            assert!(filter.would_enable("shared", &Level::INFO), "{setting:?}");
            assert!(!filter.would_enable("shared", &Level::DEBUG), "{setting:?}");
        }
    }
}
