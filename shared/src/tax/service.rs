//! Tax rates: creating, changing and deleting them, and the copy of a company's rates pricing
//! reads (per container, 30 s, forgotten by the container that changes them).

use super::errors::TaxError;
use super::events::TaxEvent;
use super::model::TaxRate;
use super::store;
use crate::app::App;
use crate::clock::rfc3339;
use crate::events::event;
use crate::http::FieldError;
use crate::identity::TenantId;
use crate::places::{check_region, PostcodePattern};
use crate::settings::groups::Tax;
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

/// Rates one company keeps.
pub const MAX_RATES: usize = 1_000;
const MAX_PRIORITY: u32 = 10;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaxRate {
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// ISO 3166-2 of the country (`US-NY`).
    pub region: Option<String>,
    /// A postcode (`10001`), a prefix (`100*`) or a range (`10001-10292`).
    pub postcode: Option<String>,
    /// Default `standard`.
    pub tax_class: Option<String>,
    /// 0 to 100, at most four decimals (9.975).
    pub percentage: f64,
    /// Default false.
    pub compound: Option<bool>,
    /// 1 to 10, default 1.
    pub priority: Option<u32>,
}

/// A partial change; `region: null` or `postcode: null` removes it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateChange {
    pub name: Option<String>,
    pub country: Option<String>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub postcode: Option<Option<String>>,
    pub tax_class: Option<String>,
    pub percentage: Option<f64>,
    pub compound: Option<bool>,
    pub priority: Option<u32>,
}

/// A percentage with at most four decimals as millionths (19 → 190,000; 9.975 → 99,750).
fn millionths(errors: &mut Errors, percentage: f64) -> i64 {
    let scaled = percentage * 10_000.0;
    let rounded = scaled.round();
    if !percentage.is_finite() || !(0.0..=100.0).contains(&percentage) {
        errors.push(FieldError::new(
            "percentage",
            "out_of_range",
            "a percentage from 0 to 100",
        ));
        return 0;
    }
    if (scaled - rounded).abs() > 1e-6 {
        errors.push(FieldError::new(
            "percentage",
            "too_precise",
            "at most four decimals",
        ));
    }
    rounded as i64
}

/// Checks a rate's fields (its postcode parsed) against the company's classes.
fn checked(errors: &mut Errors, rate: &mut TaxRate, postcode: Option<&str>, settings: &Tax) {
    errors.check(validate::text("name", &rate.name, 100));
    rate.name = rate.name.trim().to_owned();
    let country_ok = validate::country("country", &rate.country);
    let known_country = country_ok.is_ok();
    errors.check(country_ok);
    if let Some(region) = &rate.region {
        let of = known_country.then_some(rate.country.as_str());
        errors.check(check_region("region", of, region));
    }
    rate.postcode = match postcode {
        Some(text) => match PostcodePattern::parse("postcode", text) {
            Ok(pattern) => Some(pattern),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    if !settings.knows_class(&rate.tax_class) {
        errors.push(FieldError::new(
            "tax_class",
            "unknown_tax_class",
            "standard, reduced, zero, exempt, or one of the tax settings' custom_classes",
        ));
    }
    if !(1..=MAX_PRIORITY).contains(&rate.priority) {
        errors.push(FieldError::new(
            "priority",
            "out_of_range",
            format!("from 1 to {MAX_PRIORITY}"),
        ));
    }
}

fn forget(app: &App, tenant: &TenantId) {
    crate::app::lists::forget_company_list::<TaxRate>(app, tenant);
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewTaxRate,
) -> Result<TaxRate, TaxError> {
    let settings = crate::settings::service::typed::<Tax>(app, tenant).await?;
    let mut errors = Errors::new();
    let now = rfc3339(app.clock.now());
    let mut rate = TaxRate {
        id: app.ids.new_id("txr"),
        name: input.name,
        country: input.country,
        region: input.region,
        postcode: None,
        tax_class: input
            .tax_class
            .unwrap_or_else(|| settings.default_tax_class.clone()),
        rate: millionths(&mut errors, input.percentage),
        compound: input.compound.unwrap_or(false),
        priority: input.priority.unwrap_or(1),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    checked(&mut errors, &mut rate, input.postcode.as_deref(), &settings);
    errors.into_result()?;
    let written = app
        .table
        .transact(vec![
            store::rates(tenant).count_op(1, MAX_RATES),
            store::rates(tenant).put(&rate.id, &rate, None),
            event(
                app,
                tenant,
                TaxEvent::TaxRateCreated,
                Some(actor),
                json!({ "tax_rate": rate }),
            ),
        ])
        .await;
    forget(app, tenant);
    match written {
        Ok(()) => Ok(rate),
        Err(e) if e.failed_at(0) => Err(TaxError::TooMany { max: MAX_RATES }),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(app: &App, tenant: &TenantId, id: &str) -> Result<TaxRate, TaxError> {
    if !crate::ids::is_id(id, "txr") {
        return Err(TaxError::NotFound);
    }
    store::rates(tenant)
        .get(app.table.as_ref(), id)
        .await?
        .ok_or(TaxError::NotFound)
}

pub async fn change(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: TaxRateChange,
    if_match: Option<u64>,
) -> Result<TaxRate, TaxError> {
    let settings = crate::settings::service::typed::<Tax>(app, tenant).await?;
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(TaxError::Stale);
    }
    let mut errors = Errors::new();
    let mut rate = current.clone();
    if let Some(name) = input.name {
        rate.name = name;
    }
    if let Some(country) = input.country {
        rate.country = country;
    }
    if let Some(region) = input.region {
        rate.region = region;
    }
    let postcode = match input.postcode {
        Some(postcode) => postcode,
        None => current.postcode.as_ref().map(ToString::to_string),
    };
    if let Some(class) = input.tax_class {
        rate.tax_class = class;
    }
    if let Some(percentage) = input.percentage {
        rate.rate = millionths(&mut errors, percentage);
    }
    if let Some(compound) = input.compound {
        rate.compound = compound;
    }
    if let Some(priority) = input.priority {
        rate.priority = priority;
    }
    checked(&mut errors, &mut rate, postcode.as_deref(), &settings);
    errors.into_result()?;
    if rate == current {
        return Ok(current);
    }
    rate.version += 1;
    rate.updated_at = rfc3339(app.clock.now());
    let written = app
        .table
        .transact(vec![
            store::rates(tenant).put(&rate.id, &rate, Some(current.version)),
            event(
                app,
                tenant,
                TaxEvent::TaxRateUpdated,
                Some(actor),
                json!({ "tax_rate": rate }),
            ),
        ])
        .await;
    forget(app, tenant);
    match written {
        Ok(()) => Ok(rate),
        Err(e) if e.failed_at(0) => Err(TaxError::Stale),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<(), TaxError> {
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(TaxError::Stale);
    }
    let written = app
        .table
        .transact(vec![
            store::rates(tenant).delete(id, current.version),
            store::rates(tenant).count_op(-1, MAX_RATES),
            event(
                app,
                tenant,
                TaxEvent::TaxRateDeleted,
                Some(actor),
                json!({ "tax_rate_id": id }),
            ),
        ])
        .await;
    forget(app, tenant);
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.failed_at(0) => Err(TaxError::Stale),
        Err(e) => Err(e.into()),
    }
}

/// The company's rates as read at most 30 s ago (one query on a miss).
pub async fn cached(app: &App, tenant: &TenantId) -> Result<Arc<Vec<TaxRate>>, TaxError> {
    let table = app.table.as_ref();
    crate::app::lists::company_list(app, tenant, store::rates(tenant).all(table))
        .await
        .map_err(TaxError::from)
}
