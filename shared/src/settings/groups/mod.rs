//! The settings groups: typed fields with defaults and validation. Unknown fields are refused, so a
//! typo never silently does nothing.

pub use crate::auth::policy::Security;
use crate::http::FieldError;
use crate::validate::{self, Errors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod checkout;
mod general;
mod inventory;
mod notifications;
mod payments;
mod security;
mod shipping;
mod tax;
pub use checkout::*;
pub use general::*;
pub use inventory::*;
pub use notifications::*;
pub use payments::*;
pub use shipping::*;
pub use tax::*;

const WEIGHT_UNITS: [&str; 4] = ["g", "kg", "oz", "lb"];
const DIMENSION_UNITS: [&str; 4] = ["mm", "cm", "m", "in"];

/// The groups, each with its own write permission `settings.<group>.write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    General,
    Security,
    Payments,
    Notifications,
    Shipping,
    Tax,
    Checkout,
    Inventory,
}

impl Group {
    pub const ALL: [Group; 8] = [
        Group::General,
        Group::Security,
        Group::Payments,
        Group::Notifications,
        Group::Shipping,
        Group::Tax,
        Group::Checkout,
        Group::Inventory,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::General => "general",
            Group::Security => "security",
            Group::Payments => "payments",
            Group::Notifications => "notifications",
            Group::Shipping => "shipping",
            Group::Tax => "tax",
            Group::Checkout => "checkout",
            Group::Inventory => "inventory",
        }
    }

    pub fn parse(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }

    /// The group's defaults as JSON (what a company that never saved the group has).
    pub fn defaults(self) -> serde_json::Value {
        let value = match self {
            Group::General => serde_json::to_value(General::default()),
            Group::Security => serde_json::to_value(Security::default()),
            Group::Payments => serde_json::to_value(Payments::default()),
            Group::Notifications => serde_json::to_value(Notifications::default()),
            Group::Shipping => serde_json::to_value(Shipping::default()),
            Group::Tax => serde_json::to_value(Tax::default()),
            Group::Checkout => serde_json::to_value(Checkout::default()),
            Group::Inventory => serde_json::to_value(Inventory::default()),
        };
        value.expect("settings serialise")
    }

    /// Parses and validates a whole group; every problem is reported with its field path.
    pub fn check(self, value: &serde_json::Value) -> Result<(), Vec<FieldError>> {
        fn typed<T: serde::de::DeserializeOwned + Validate>(
            value: &serde_json::Value,
        ) -> Result<(), Vec<FieldError>> {
            let parsed: T = serde_path_to_error::deserialize(value.clone()).map_err(|e| {
                let path = e.path().to_string();
                vec![FieldError::new(
                    if path == "." { String::new() } else { path },
                    "invalid",
                    e.into_inner().to_string(),
                )]
            })?;
            let mut errors = Errors::new();
            parsed.validate(&mut errors);
            errors.into_vec().map_or(Ok(()), Err)
        }
        match self {
            Group::General => typed::<General>(value),
            Group::Security => typed::<Security>(value),
            Group::Payments => typed::<Payments>(value),
            Group::Notifications => typed::<Notifications>(value),
            Group::Shipping => typed::<Shipping>(value),
            Group::Tax => typed::<Tax>(value),
            Group::Checkout => typed::<Checkout>(value),
            Group::Inventory => typed::<Inventory>(value),
        }
    }

    /// Dotted paths of the group's secret fields (stored encrypted, shown masked).
    pub fn secrets(self) -> &'static [&'static str] {
        match self {
            Group::Payments => &["stripe.secret_key", "stripe.webhook_secret"],
            _ => &[],
        }
    }
}

/// A group's typed values: reading settings names the type, and the type names its group, so the
/// two cannot disagree (`settings::service::typed::<General>(app, tenant)`).
pub trait SettingsGroup: serde::de::DeserializeOwned + Serialize + Default + Validate {
    const GROUP: Group;
}

macro_rules! settings_groups {
    ($($group:ident => $ty:ty),* $(,)?) => {
        $(impl SettingsGroup for $ty {
            const GROUP: Group = Group::$group;
        })*
    };
}

settings_groups! {
    General => General,
    Security => Security,
    Payments => Payments,
    Notifications => Notifications,
    Shipping => Shipping,
    Tax => Tax,
    Checkout => Checkout,
    Inventory => Inventory,
}

/// The values of one group, as the OpenAPI document describes them (the group is named by the
/// path). In a PATCH every field is optional, and secrets take a string or null.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum GroupValues {
    General(Box<General>),
    Security(Security),
    Payments(Payments),
    Notifications(Notifications),
    Shipping(Shipping),
    Tax(Tax),
    Checkout(Checkout),
    Inventory(Inventory),
}

pub trait Validate {
    fn validate(&self, errors: &mut Errors);
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    #[serde(default)]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// Checks a postal address; `prefix` names it in field errors.
pub fn check_address(errors: &mut Errors, prefix: &str, a: &Address) {
    errors.check(validate::text(&format!("{prefix}.line1"), &a.line1, 200));
    if let Some(line2) = &a.line2 {
        errors.check(validate::text(&format!("{prefix}.line2"), line2, 200));
    }
    errors.check(validate::text(&format!("{prefix}.city"), &a.city, 100));
    errors.check(validate::text(
        &format!("{prefix}.postal_code"),
        &a.postal_code,
        20,
    ));
    if let Some(region) = &a.region {
        errors.check(validate::text(&format!("{prefix}.region"), region, 100));
    }
    errors.check(validate::country(&format!("{prefix}.country"), &a.country));
}

fn one_of(errors: &mut Errors, field: &str, value: &str, allowed: &[&str]) {
    if !allowed.contains(&value) {
        errors.push(FieldError::new(
            field,
            "invalid",
            format!("must be one of {}", allowed.join(", ")),
        ));
    }
}

fn at_most(errors: &mut Errors, field: &str, len: usize, max: usize) {
    if len > max {
        errors.push(FieldError::new(
            field,
            "too_many",
            format!("list at most {max}"),
        ));
    }
}

/// Refuses a list naming one thing twice (`keys`: what makes two entries the same, in list
/// order): a storefront would show it twice, and it spends the list's limit.
fn distinct<'a>(errors: &mut Errors, field: &str, keys: impl IntoIterator<Item = &'a str>) {
    let mut seen = std::collections::HashSet::new();
    for (i, key) in keys.into_iter().enumerate() {
        if !seen.insert(key.to_lowercase()) {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "duplicate",
                "listed already",
            ));
        }
    }
}

fn range(errors: &mut Errors, field: &str, value: i64, lo: i64, hi: i64) {
    if !(lo..=hi).contains(&value) {
        errors.push(FieldError::new(
            field,
            "out_of_range",
            format!("must be between {lo} and {hi}"),
        ));
    }
}

/// BCP 47 language tags, in the common shape `en`, `de-DE`, `zh-Hant-TW`.
fn locale(errors: &mut Errors, field: &str, value: &str) {
    let mut parts = value.split('-');
    let language_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !(language_ok && rest_ok) {
        errors.push(FieldError::new(
            field,
            "invalid",
            "must be a BCP 47 language tag, e.g. de-DE",
        ));
    }
}

fn optional_email(errors: &mut Errors, field: &str, value: &Option<String>) {
    if let Some(email) = value {
        errors.check(validate::email(field, email));
    }
}

/// Whether `value` is `https://host[:port]`, or `http://localhost[:port]` for development.
fn is_origin(value: &str) -> bool {
    let (scheme, rest) = value.split_once("://").unwrap_or(("", ""));
    let (host, port) = rest.split_once(':').unwrap_or((rest, ""));
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let port_ok = port.is_empty() || port.parse::<u16>().is_ok_and(|p| p > 0);
    let scheme_ok =
        scheme == "https" || (scheme == "http" && (host == "localhost" || host == "127.0.0.1"));
    host_ok && port_ok && scheme_ok
}

fn origin(errors: &mut Errors, field: &str, value: &str) {
    if !is_origin(value) {
        errors.push(FieldError::new(
            field,
            "invalid",
            "must be an origin such as https://shop.example.com",
        ));
    }
}

/// An origin and an optional path, without query or fragment: the base that links in emails are
/// built on, so it must not carry anything a link could not follow with `/page?token=`.
fn base_url(errors: &mut Errors, field: &str, value: &str) {
    let authority_at = value.find("://").map_or(value.len(), |i| i + 3);
    let path_at = value[authority_at..]
        .find('/')
        .map_or(value.len(), |i| authority_at + i);
    let (origin, path) = value.split_at(path_at);
    let path_ok = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b));
    if value.len() > 200 || !is_origin(origin) || !path_ok {
        errors.push(FieldError::new(
            field,
            "invalid",
            "must be an https URL such as https://shop.example.com (http only for localhost), \
             without query or fragment, at most 200 characters",
        ));
    }
}
