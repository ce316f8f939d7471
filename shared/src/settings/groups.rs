//! The settings groups: typed fields with defaults and validation. Unknown fields are refused, so a
//! typo never silently does nothing.

pub use crate::auth::policy::Security;
use crate::http::FieldError;
use crate::validate::{self, Errors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::General,
        Group::Security,
        Group::Payments,
        Group::Notifications,
        Group::Shipping,
        Group::Tax,
        Group::Checkout,
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

fn address(errors: &mut Errors, prefix: &str, a: &Address) {
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

const WEIGHT_UNITS: [&str; 4] = ["g", "kg", "oz", "lb"];
const DIMENSION_UNITS: [&str; 4] = ["mm", "cm", "m", "in"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct General {
    pub store_name: String,
    pub legal_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<Address>,
    pub default_currency: String,
    pub supported_currencies: Vec<String>,
    pub default_locale: String,
    pub supported_locales: Vec<String>,
    pub timezone: String,
    pub weight_unit: String,
    pub dimension_unit: String,
    pub order_number_prefix: String,
    /// The storefront's address, e.g. `https://shop.example.com`: customer emails then link to
    /// its pages (`/account/verify?token=...`) instead of carrying a bare token.
    pub storefront_url: Option<String>,
}

impl Default for General {
    fn default() -> Self {
        General {
            store_name: "My store".into(),
            legal_name: None,
            contact_email: None,
            contact_phone: None,
            address: None,
            default_currency: "USD".into(),
            supported_currencies: vec!["USD".into()],
            default_locale: "en".into(),
            supported_locales: vec!["en".into()],
            timezone: "UTC".into(),
            weight_unit: "kg".into(),
            dimension_unit: "cm".into(),
            order_number_prefix: "#".into(),
            storefront_url: None,
        }
    }
}

impl Validate for General {
    fn validate(&self, errors: &mut Errors) {
        errors.check(validate::text("store_name", &self.store_name, 100));
        if let Some(name) = &self.legal_name {
            errors.check(validate::text("legal_name", name, 200));
        }
        optional_email(errors, "contact_email", &self.contact_email);
        if let Some(phone) = &self.contact_phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let allowed = phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if !allowed || !(6..=15).contains(&digits) {
                errors.push(FieldError::new(
                    "contact_phone",
                    "invalid",
                    "must be a phone number, e.g. +49 30 1234567",
                ));
            }
        }
        if let Some(a) = &self.address {
            address(errors, "address", a);
        }
        errors.check(validate::currency(
            "default_currency",
            &self.default_currency,
        ));
        at_most(
            errors,
            "supported_currencies",
            self.supported_currencies.len(),
            50,
        );
        at_most(
            errors,
            "supported_locales",
            self.supported_locales.len(),
            50,
        );
        for (i, c) in self.supported_currencies.iter().enumerate() {
            errors.check(validate::currency(&format!("supported_currencies[{i}]"), c));
        }
        if !self.supported_currencies.contains(&self.default_currency) {
            errors.push(FieldError::new(
                "supported_currencies",
                "missing_default",
                "must include the default currency",
            ));
        }
        locale(errors, "default_locale", &self.default_locale);
        for (i, l) in self.supported_locales.iter().enumerate() {
            locale(errors, &format!("supported_locales[{i}]"), l);
        }
        if !self.supported_locales.contains(&self.default_locale) {
            errors.push(FieldError::new(
                "supported_locales",
                "missing_default",
                "must include the default locale",
            ));
        }
        errors.check(validate::timezone("timezone", &self.timezone));
        one_of(errors, "weight_unit", &self.weight_unit, &WEIGHT_UNITS);
        one_of(
            errors,
            "dimension_unit",
            &self.dimension_unit,
            &DIMENSION_UNITS,
        );
        if self.order_number_prefix.chars().count() > 10
            || self
                .order_number_prefix
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            errors.push(FieldError::new(
                "order_number_prefix",
                "invalid",
                "use at most 10 visible characters",
            ));
        }
        if let Some(url) = &self.storefront_url {
            base_url(errors, "storefront_url", url);
        }
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

impl Validate for Security {
    fn validate(&self, errors: &mut Errors) {
        range(
            errors,
            "password_min_length",
            self.password_min_length,
            8,
            128,
        );
        range(
            errors,
            "access_token_ttl_seconds",
            self.access_token_ttl_seconds,
            60,
            900,
        );
        range(
            errors,
            "refresh_idle_ttl_seconds",
            self.refresh_idle_ttl_seconds,
            3600,
            90 * 24 * 3600,
        );
        range(
            errors,
            "refresh_absolute_ttl_seconds",
            self.refresh_absolute_ttl_seconds,
            3600,
            365 * 24 * 3600,
        );
        if self.refresh_absolute_ttl_seconds < self.refresh_idle_ttl_seconds {
            errors.push(FieldError::new(
                "refresh_absolute_ttl_seconds",
                "too_small",
                "must be at least the idle lifetime",
            ));
        }
        if self.allowed_origins.len() > 20 {
            errors.push(FieldError::new(
                "allowed_origins",
                "too_many",
                "list at most 20 origins",
            ));
        }
        for (i, o) in self.allowed_origins.iter().enumerate() {
            origin(errors, &format!("allowed_origins[{i}]"), o);
        }
    }
}

/// A secret as the API shows it: whether it is set, and its last four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MaskedSecret {
    pub configured: bool,
    pub last4: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Stripe {
    pub publishable_key: Option<String>,
    /// Write a string to set, `null` to clear; reads show only whether it is set.
    pub secret_key: MaskedSecret,
    pub webhook_secret: MaskedSecret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Payments {
    pub enabled_providers: Vec<String>,
    pub capture_mode: String,
    pub stripe: Stripe,
}

impl Default for Payments {
    fn default() -> Self {
        Payments {
            enabled_providers: vec!["manual".into()],
            capture_mode: "automatic".into(),
            stripe: Stripe::default(),
        }
    }
}

impl Validate for Payments {
    fn validate(&self, errors: &mut Errors) {
        at_most(errors, "enabled_providers", self.enabled_providers.len(), 2);
        for (i, p) in self.enabled_providers.iter().enumerate() {
            one_of(
                errors,
                &format!("enabled_providers[{i}]"),
                p,
                &["manual", "stripe"],
            );
        }
        one_of(
            errors,
            "capture_mode",
            &self.capture_mode,
            &["automatic", "manual"],
        );
        if let Some(key) = &self.stripe.publishable_key {
            if !key.starts_with("pk_") || key.len() > 200 {
                errors.push(FieldError::new(
                    "stripe.publishable_key",
                    "invalid",
                    "must be a Stripe publishable key (pk_...)",
                ));
            }
        }
        if self.enabled_providers.iter().any(|p| p == "stripe")
            && !self.stripe.secret_key.configured
        {
            errors.push(FieldError::new(
                "stripe.secret_key",
                "required",
                "set the Stripe secret key to enable Stripe",
            ));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Notifications {
    pub sender_name: Option<String>,
    pub sender_email: Option<String>,
    pub reply_to: Option<String>,
    /// Which transactional emails are sent to customers.
    pub customer_emails: Vec<String>,
    /// Staff addresses told about new orders.
    pub order_alert_recipients: Vec<String>,
}

pub const CUSTOMER_EMAILS: [&str; 5] = [
    "order_confirmation",
    "shipping_confirmation",
    "order_cancelled",
    "refund_issued",
    "customer_welcome",
];

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            sender_name: None,
            sender_email: None,
            reply_to: None,
            customer_emails: CUSTOMER_EMAILS.iter().map(|s| (*s).to_owned()).collect(),
            order_alert_recipients: Vec::new(),
        }
    }
}

impl Validate for Notifications {
    fn validate(&self, errors: &mut Errors) {
        if let Some(name) = &self.sender_name {
            errors.check(validate::text("sender_name", name, 100));
        }
        optional_email(errors, "sender_email", &self.sender_email);
        optional_email(errors, "reply_to", &self.reply_to);
        at_most(
            errors,
            "customer_emails",
            self.customer_emails.len(),
            CUSTOMER_EMAILS.len(),
        );
        for (i, e) in self.customer_emails.iter().enumerate() {
            one_of(
                errors,
                &format!("customer_emails[{i}]"),
                e,
                &CUSTOMER_EMAILS,
            );
        }
        if self.order_alert_recipients.len() > 10 {
            errors.push(FieldError::new(
                "order_alert_recipients",
                "too_many",
                "list at most 10 addresses",
            ));
        }
        for (i, e) in self.order_alert_recipients.iter().enumerate() {
            errors.check(validate::email(&format!("order_alert_recipients[{i}]"), e));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub length: i64,
    pub width: i64,
    pub height: i64,
    pub weight: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Shipping {
    pub origin: Option<Address>,
    /// In `dimension_unit` and `weight_unit`.
    pub default_package: Package,
    pub weight_unit: String,
    pub dimension_unit: String,
}

impl Default for Shipping {
    fn default() -> Self {
        Shipping {
            origin: None,
            default_package: Package {
                length: 30,
                width: 20,
                height: 10,
                weight: 1,
            },
            weight_unit: "kg".into(),
            dimension_unit: "cm".into(),
        }
    }
}

impl Validate for Shipping {
    fn validate(&self, errors: &mut Errors) {
        if let Some(a) = &self.origin {
            address(errors, "origin", a);
        }
        let p = &self.default_package;
        for (name, value) in [
            ("length", p.length),
            ("width", p.width),
            ("height", p.height),
            ("weight", p.weight),
        ] {
            range(
                errors,
                &format!("default_package.{name}"),
                value,
                1,
                1_000_000,
            );
        }
        one_of(errors, "weight_unit", &self.weight_unit, &WEIGHT_UNITS);
        one_of(
            errors,
            "dimension_unit",
            &self.dimension_unit,
            &DIMENSION_UNITS,
        );
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRegistration {
    pub country: String,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Tax {
    pub prices_include_tax: bool,
    pub tax_on_shipping: bool,
    pub default_tax_class: String,
    pub registrations: Vec<TaxRegistration>,
}

impl Default for Tax {
    fn default() -> Self {
        Tax {
            prices_include_tax: false,
            tax_on_shipping: false,
            default_tax_class: "standard".into(),
            registrations: Vec::new(),
        }
    }
}

impl Validate for Tax {
    fn validate(&self, errors: &mut Errors) {
        errors.check(
            validate::handle("default_tax_class", &self.default_tax_class)
                .or_else(|_| validate::text("default_tax_class", &self.default_tax_class, 40)),
        );
        at_most(errors, "registrations", self.registrations.len(), 50);
        for (i, r) in self.registrations.iter().enumerate() {
            errors.check(validate::country(
                &format!("registrations[{i}].country"),
                &r.country,
            ));
            errors.check(validate::text(
                &format!("registrations[{i}].number"),
                &r.number,
                40,
            ));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Checkout {
    pub guest_checkout: bool,
    pub cart_lifetime_seconds: i64,
    pub reservation_window_seconds: i64,
    pub required_customer_fields: Vec<String>,
    pub send_order_confirmation: bool,
}

impl Default for Checkout {
    fn default() -> Self {
        Checkout {
            guest_checkout: true,
            cart_lifetime_seconds: 7 * 24 * 3600,
            reservation_window_seconds: 15 * 60,
            required_customer_fields: vec!["email".into()],
            send_order_confirmation: true,
        }
    }
}

impl Validate for Checkout {
    fn validate(&self, errors: &mut Errors) {
        range(
            errors,
            "cart_lifetime_seconds",
            self.cart_lifetime_seconds,
            3600,
            90 * 24 * 3600,
        );
        range(
            errors,
            "reservation_window_seconds",
            self.reservation_window_seconds,
            60,
            24 * 3600,
        );
        at_most(
            errors,
            "required_customer_fields",
            self.required_customer_fields.len(),
            5,
        );
        for (i, f) in self.required_customer_fields.iter().enumerate() {
            one_of(
                errors,
                &format!("required_customer_fields[{i}]"),
                f,
                &[
                    "email",
                    "phone",
                    "company",
                    "shipping_address",
                    "billing_address",
                ],
            );
        }
    }
}
