//! The sandbox's logs: by default one short, coloured line per request (method, path, status,
//! time, store calls) and compact lines for everything else, for a person at a terminal;
//! `--log-format json` gives the JSON lines deployed functions write.

use std::fmt::Write as _;
use std::io::IsTerminal;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per request, coloured on a terminal.
    Pretty,
    /// JSON lines, as in Lambda.
    Json,
}

/// Sets up logging once per process; `RUST_LOG` filters it (default `info`).
pub fn init(format: LogFormat) {
    match format {
        LogFormat::Json => shared::observe::init_logging(),
        LogFormat::Pretty => {
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
            let _ = tracing_subscriber::fmt()
                .event_format(Pretty {
                    colour: std::io::stdout().is_terminal(),
                })
                .with_env_filter(filter)
                .try_init();
        }
    }
}

/// The readable format.
pub struct Pretty {
    pub colour: bool,
}

/// An event's message and fields, as text.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(&'static str, String)>,
}

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields.push((field.name(), format!("{value:?}")));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.push((field.name(), value.to_owned()));
        }
    }
}

const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

impl Pretty {
    fn paint(&self, colour: &str, text: &str) -> String {
        if self.colour {
            format!("{colour}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    /// `12:00:01  GET  /store/products  200  3.2 ms  1 store call`.
    fn request_line(&self, fields: &Fields) -> String {
        let status: u16 = fields
            .get("status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let status_colour = match status {
            500.. => RED,
            400..=499 => YELLOW,
            _ => GREEN,
        };
        let ms: f64 = fields
            .get("duration_ms")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0);
        let calls = fields.get("store_calls").unwrap_or("0");
        let noun = if calls == "1" { "call" } else { "calls" };
        format!(
            "{:<7} {} {} {} {}",
            fields.get("method").unwrap_or("?"),
            fields.get("path").unwrap_or("?"),
            self.paint(status_colour, &status.to_string()),
            self.paint(DIM, &format!("{ms:.1} ms")),
            self.paint(DIM, &format!("{calls} store {noun}")),
        )
    }
}

impl<S, N> FormatEvent<S, N> for Pretty
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let time = time::OffsetDateTime::now_utc();
        let clock = format!(
            "{:02}:{:02}:{:02}",
            time.hour(),
            time.minute(),
            time.second()
        );
        let mut line = format!("{} ", self.paint(DIM, &clock));
        if fields.message == "request" && fields.get("status").is_some() {
            line.push_str(&self.request_line(&fields));
        } else {
            let level = *event.metadata().level();
            let label = match level {
                Level::ERROR => self.paint(RED, "error"),
                Level::WARN => self.paint(YELLOW, "warn "),
                Level::INFO => self.paint(CYAN, "info "),
                _ => self.paint(DIM, "debug"),
            };
            let _ = write!(line, "{label} {}", fields.message);
            for (name, value) in &fields.fields {
                let _ = write!(line, " {}", self.paint(DIM, &format!("{name}={value}")));
            }
        }
        writeln!(writer, "{line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_one_short_line() {
        let fields = Fields {
            message: "request".into(),
            fields: vec![
                ("method", "GET".into()),
                ("path", "/store/products".into()),
                ("status", "200".into()),
                ("duration_ms", "3.24".into()),
                ("store_calls", "1".into()),
            ],
        };
        let plain = Pretty { colour: false }.request_line(&fields);
        assert_eq!(plain, "GET     /store/products 200 3.2 ms 1 store call");
        let coloured = Pretty { colour: true }.request_line(&fields);
        assert!(coloured.contains("\x1b[32m200\x1b[0m"), "{coloured}");
    }
}
