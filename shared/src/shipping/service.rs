//! Shipping zones: creating, changing and deleting them (with their methods), and the copy of a
//! company's zones carts read (per container, 30 s, forgotten by the container that changes them).

use super::errors::ShippingError;
use super::events::ShippingEvent;
use super::model::{DeliveryDays, Method, Rate, Zone, ANY_COUNTRY};
use super::store;
use crate::app::App;
use crate::clock::rfc3339;
use crate::events::event;
use crate::http::FieldError;
use crate::identity::TenantId;
use crate::places::{check_region, PostcodePattern};
use crate::settings::groups::General;
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

/// Zones one company keeps.
pub const MAX_ZONES: usize = 100;
const MAX_METHODS: usize = 20;
const MAX_TIERS: usize = 20;
const MAX_AMOUNT: i64 = 100_000_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewZone {
    pub name: String,
    /// ISO 3166-1 alpha-2 codes, or `["*"]` for every country.
    pub countries: Vec<String>,
    /// ISO 3166-2 codes of those countries (`US-NY`).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Postcode patterns: `10115`, `101*`, `10000-14999`.
    #[serde(default)]
    pub postcodes: Vec<String>,
    #[serde(default)]
    pub methods: Vec<MethodInput>,
}

/// A partial change; `methods` replaces the list (a method keeps its id when it names it).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneChange {
    pub name: Option<String>,
    pub countries: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    pub postcodes: Option<Vec<String>>,
    pub methods: Option<Vec<MethodInput>>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodInput {
    /// An existing method's id (`shm_…`) to keep it (and carts that chose it); absent for a new one.
    pub id: Option<String>,
    pub name: String,
    /// One of the company's currencies.
    pub currency: String,
    pub rate: Rate,
    pub free_over: Option<i64>,
    pub min_subtotal: Option<i64>,
    pub max_subtotal: Option<i64>,
    pub delivery_days: Option<DeliveryDays>,
    /// Default true.
    pub active: Option<bool>,
}

fn amount(errors: &mut Errors, field: &str, value: i64) {
    if !(0..=MAX_AMOUNT).contains(&value) {
        errors.push(FieldError::new(
            field,
            "out_of_range",
            format!("minor units from 0 to {MAX_AMOUNT}"),
        ));
    }
}

fn check_rate(errors: &mut Errors, field: &str, rate: &Rate) {
    let tiers = |errors: &mut Errors, count: usize| {
        if !(1..=MAX_TIERS).contains(&count) {
            errors.push(FieldError::new(
                format!("{field}.tiers"),
                "out_of_range",
                format!("1 to {MAX_TIERS} tiers"),
            ));
        }
    };
    match rate {
        Rate::Flat { amount: a } => amount(errors, &format!("{field}.amount"), *a),
        Rate::Weight { tiers: list } => {
            tiers(errors, list.len());
            for (i, tier) in list.iter().enumerate() {
                if !(tier.up_to.is_finite() && tier.up_to > 0.0) {
                    errors.push(FieldError::new(
                        format!("{field}.tiers[{i}].up_to"),
                        "out_of_range",
                        "a weight above 0",
                    ));
                }
                amount(errors, &format!("{field}.tiers[{i}].amount"), tier.amount);
            }
        }
        Rate::Price { tiers: list } => {
            tiers(errors, list.len());
            for (i, tier) in list.iter().enumerate() {
                amount(errors, &format!("{field}.tiers[{i}].from"), tier.from);
                amount(errors, &format!("{field}.tiers[{i}].amount"), tier.amount);
                if list[..i].iter().any(|t| t.from == tier.from) {
                    errors.push(FieldError::new(
                        format!("{field}.tiers[{i}].from"),
                        "duplicate",
                        "each tier starts at another subtotal",
                    ));
                }
            }
        }
        Rate::PerItem { base, amount: a } => {
            amount(errors, &format!("{field}.base"), *base);
            amount(errors, &format!("{field}.amount"), *a);
        }
        Rate::Carrier { service, fallback } => {
            errors.check(validate::text(&format!("{field}.service"), service, 40));
            amount(errors, &format!("{field}.fallback"), *fallback);
        }
    }
}

/// The methods a zone takes from `input`, ids kept for those that name one of `existing`.
fn methods(
    app: &App,
    errors: &mut Errors,
    input: Vec<MethodInput>,
    existing: &[Method],
    currencies: &[String],
) -> Vec<Method> {
    if input.len() > MAX_METHODS {
        errors.push(FieldError::new(
            "methods",
            "too_many",
            format!("at most {MAX_METHODS} methods"),
        ));
    }
    let mut out: Vec<Method> = Vec::new();
    for (i, m) in input.into_iter().enumerate() {
        let field = |name: &str| format!("methods[{i}].{name}");
        errors.check(validate::text(&field("name"), &m.name, 100));
        if !currencies.contains(&m.currency) {
            errors.push(FieldError::new(
                field("currency"),
                "unsupported",
                format!("one of the company's currencies: {}", currencies.join(", ")),
            ));
        }
        check_rate(errors, &field("rate"), &m.rate);
        for (name, value) in [
            ("free_over", m.free_over),
            ("min_subtotal", m.min_subtotal),
            ("max_subtotal", m.max_subtotal),
        ] {
            if let Some(value) = value {
                amount(errors, &field(name), value);
            }
        }
        if let (Some(min), Some(max)) = (m.min_subtotal, m.max_subtotal) {
            if min > max {
                errors.push(FieldError::new(
                    field("max_subtotal"),
                    "out_of_range",
                    "at least min_subtotal",
                ));
            }
        }
        if let Some(days) = m.delivery_days {
            if days.min > days.max || days.max > 365 {
                errors.push(FieldError::new(
                    field("delivery_days"),
                    "out_of_range",
                    "min at most max, max at most 365",
                ));
            }
        }
        let id = match m.id {
            Some(id) if existing.iter().any(|e| e.id == id) => {
                if out.iter().any(|o| o.id == id) {
                    errors.push(FieldError::new(field("id"), "duplicate", "named twice"));
                }
                id
            }
            Some(_) => {
                errors.push(FieldError::new(
                    field("id"),
                    "unknown_method",
                    "not a method of this zone (leave it out for a new method)",
                ));
                String::new()
            }
            None => app.ids.new_id("shm"),
        };
        out.push(Method {
            id,
            name: m.name.trim().to_owned(),
            currency: m.currency,
            rate: m.rate,
            free_over: m.free_over,
            min_subtotal: m.min_subtotal,
            max_subtotal: m.max_subtotal,
            delivery_days: m.delivery_days,
            active: m.active.unwrap_or(true),
        });
    }
    out
}

/// Checks a zone's name and places; answers its postcode patterns.
fn places(errors: &mut Errors, zone: &mut Zone, postcodes: &[String]) -> Vec<PostcodePattern> {
    errors.check(validate::text("name", &zone.name, 100));
    zone.name = zone.name.trim().to_owned();
    let any = zone.countries.iter().any(|c| c == ANY_COUNTRY);
    if zone.countries.is_empty() || zone.countries.len() > 250 || (any && zone.countries.len() > 1)
    {
        errors.push(FieldError::new(
            "countries",
            "invalid",
            "1 to 250 ISO 3166-1 alpha-2 codes, or [\"*\"] alone for every country",
        ));
    }
    for (i, country) in zone.countries.iter().enumerate() {
        if country != ANY_COUNTRY {
            errors.check(validate::country(&format!("countries[{i}]"), country));
        }
    }
    if zone.regions.len() > 100 {
        errors.push(FieldError::new(
            "regions",
            "too_many",
            "at most 100 regions",
        ));
    }
    for (i, region) in zone.regions.iter().enumerate() {
        let field = format!("regions[{i}]");
        match check_region(&field, None, region) {
            Ok(())
                if any
                    || zone
                        .countries
                        .iter()
                        .any(|c| region.starts_with(&format!("{c}-"))) => {}
            Ok(()) => errors.push(FieldError::new(
                field,
                "invalid_region",
                "a region of one of the zone's countries",
            )),
            Err(e) => errors.push(e),
        }
    }
    if postcodes.len() > 100 {
        errors.push(FieldError::new(
            "postcodes",
            "too_many",
            "at most 100 postcode patterns",
        ));
    }
    postcodes
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            PostcodePattern::parse(&format!("postcodes[{i}]"), p)
                .map_err(|e| errors.push(e))
                .ok()
        })
        .collect()
}

fn forget(app: &App, tenant: &TenantId) {
    crate::app::lists::forget_company_list::<Zone>(app, tenant);
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewZone,
) -> Result<Zone, ShippingError> {
    let general = crate::settings::service::typed::<General>(app, tenant).await?;
    let now = rfc3339(app.clock.now());
    let mut zone = Zone {
        id: app.ids.new_id("shz"),
        name: input.name,
        countries: input.countries,
        regions: input.regions,
        postcodes: Vec::new(),
        methods: Vec::new(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let mut errors = Errors::new();
    zone.postcodes = places(&mut errors, &mut zone, &input.postcodes);
    zone.methods = methods(
        app,
        &mut errors,
        input.methods,
        &[],
        &general.supported_currencies,
    );
    errors.into_result()?;
    let shelf = store::zones(tenant);
    let written = app
        .table
        .transact(vec![
            shelf.count_op(1, MAX_ZONES),
            shelf.put(&zone.id, &zone, None),
            event(
                app,
                tenant,
                ShippingEvent::ShippingZoneCreated,
                Some(actor),
                json!({ "zone": zone }),
            ),
        ])
        .await;
    forget(app, tenant);
    match written {
        Ok(()) => Ok(zone),
        Err(e) if e.failed_at(0) => Err(ShippingError::TooMany { max: MAX_ZONES }),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(app: &App, tenant: &TenantId, id: &str) -> Result<Zone, ShippingError> {
    if !crate::ids::is_id(id, "shz") {
        return Err(ShippingError::NotFound);
    }
    store::zones(tenant)
        .get(app.table.as_ref(), id)
        .await?
        .ok_or(ShippingError::NotFound)
}

pub async fn change(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: ZoneChange,
    if_match: Option<u64>,
) -> Result<Zone, ShippingError> {
    let general = crate::settings::service::typed::<General>(app, tenant).await?;
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(ShippingError::Stale);
    }
    let mut zone = current.clone();
    if let Some(name) = input.name {
        zone.name = name;
    }
    if let Some(countries) = input.countries {
        zone.countries = countries;
    }
    if let Some(regions) = input.regions {
        zone.regions = regions;
    }
    let postcodes: Vec<String> = match input.postcodes {
        Some(postcodes) => postcodes,
        None => current.postcodes.iter().map(ToString::to_string).collect(),
    };
    let mut errors = Errors::new();
    zone.postcodes = places(&mut errors, &mut zone, &postcodes);
    if let Some(methods_input) = input.methods {
        zone.methods = methods(
            app,
            &mut errors,
            methods_input,
            &current.methods,
            &general.supported_currencies,
        );
    }
    errors.into_result()?;
    if zone == current {
        return Ok(current);
    }
    zone.version += 1;
    zone.updated_at = rfc3339(app.clock.now());
    let written = app
        .table
        .transact(vec![
            store::zones(tenant).put(&zone.id, &zone, Some(current.version)),
            event(
                app,
                tenant,
                ShippingEvent::ShippingZoneUpdated,
                Some(actor),
                json!({ "zone": zone }),
            ),
        ])
        .await;
    forget(app, tenant);
    match written {
        Ok(()) => Ok(zone),
        Err(e) if e.failed_at(0) => Err(ShippingError::Stale),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<(), ShippingError> {
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(ShippingError::Stale);
    }
    let shelf = store::zones(tenant);
    let written = app
        .table
        .transact(vec![
            shelf.delete(id, current.version),
            shelf.count_op(-1, MAX_ZONES),
            event(
                app,
                tenant,
                ShippingEvent::ShippingZoneDeleted,
                Some(actor),
                json!({ "zone_id": id }),
            ),
        ])
        .await;
    forget(app, tenant);
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.failed_at(0) => Err(ShippingError::Stale),
        Err(e) => Err(e.into()),
    }
}

/// The company's zones as read at most 30 s ago (one query on a miss).
pub async fn cached(app: &App, tenant: &TenantId) -> Result<Arc<Vec<Zone>>, ShippingError> {
    let table = app.table.as_ref();
    crate::app::lists::company_list(app, tenant, store::zones(tenant).all(table))
        .await
        .map_err(ShippingError::from)
}
