//! Discounts and codes: creating, changing and deleting them, finding the discount of a code a
//! shopper enters, and the copy of a company's discounts pricing reads (per container, 30 s,
//! forgotten by the container that changes them).

use super::engine::{self, Refusal};
use super::errors::DiscountError;
use super::events::DiscountEvent;
use super::model::{
    BuyRule, Code, CombinesWith, Conditions, Discount, DiscountMethod, DiscountStatus,
    DiscountValue, DiscountView, GetRule, Limits, Targets,
};
use super::store;
use crate::app::App;
use crate::clock::rfc3339;
use crate::events::event;
use crate::http::FieldError;
use crate::identity::TenantId;
use crate::store::TxOp;
use crate::validate::{self, Errors};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Discounts one company keeps (every one is read to price a cart).
pub const MAX_DISCOUNTS: usize = 1_000;
/// Codes one discount keeps.
pub const MAX_CODES: i64 = 100_000;
/// Codes one request generates.
pub const MAX_GENERATED: usize = 10_000;
const MAX_AMOUNT: i64 = 1_000_000_000_000;
const MAX_TARGETS: usize = 250;
const MAX_PEOPLE: usize = 100;
/// Generated codes use these characters: no 0/O or 1/I to misread.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Codes written per transaction when generating (with the count, the discount's check and, in
/// the last one, the event: 100 operations at most).
const CODES_PER_WRITE: usize = 97;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDiscount {
    /// Shown on carts (1 to 200 characters).
    pub title: String,
    pub method: DiscountMethod,
    pub value: DiscountValue,
    /// One of the company's currencies; needed by fixed amounts, a free shipping cap and a
    /// minimum subtotal.
    pub currency: Option<String>,
    #[serde(default)]
    pub conditions: Conditions,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub combines_with: CombinesWith,
    /// Default true.
    pub active: Option<bool>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    /// A first code (method `code`), created with the discount.
    pub code: Option<String>,
}

/// A change: each field given replaces the stored one (`null` clears the optional ones).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountChange {
    pub title: Option<String>,
    pub value: Option<DiscountValue>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub currency: Option<Option<String>>,
    pub conditions: Option<Conditions>,
    pub limits: Option<Limits>,
    pub combines_with: Option<CombinesWith>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub starts_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub ends_at: Option<Option<String>>,
}

/// One code, or many generated.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCodes {
    /// One code: 3 to 64 letters, digits, `-` or `_` (matched in any case).
    pub code: Option<String>,
    pub generate: Option<Generate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    /// 1 to 10,000.
    pub count: usize,
    /// Put before each code (letters, digits, `-`, `_`; at most 20).
    #[serde(default)]
    pub prefix: String,
    /// Random characters after the prefix: 6 to 32 (default 10).
    pub length: Option<usize>,
}

/// The codes a request created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCodes {
    pub discount_id: String,
    pub count: usize,
    pub codes: Vec<String>,
}

fn forget(app: &App, tenant: &TenantId) {
    crate::app::lists::forget_company_list::<Discount>(app, tenant);
}

/// A code as matched: trimmed and upper case; `None` when it is not a code's shape.
pub fn normalise_code(text: &str) -> Option<String> {
    let code = text.trim().to_ascii_uppercase();
    let ok = (3..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(code)
}

fn check_percentage(errors: &mut Errors, field: &str, p: f64) {
    let scaled = p * 10_000.0;
    if !p.is_finite() || p <= 0.0 || p > 100.0 {
        errors.push(FieldError::new(
            field,
            "out_of_range",
            "a percentage above 0 and at most 100",
        ));
    } else if (scaled - scaled.round()).abs() > 1e-6 {
        errors.push(FieldError::new(
            field,
            "too_precise",
            "at most four decimals",
        ));
    }
}

fn check_amount(errors: &mut Errors, field: &str, amount: i64) {
    if !(1..=MAX_AMOUNT).contains(&amount) {
        errors.push(FieldError::new(
            field,
            "out_of_range",
            format!("from 1 to {MAX_AMOUNT} minor units"),
        ));
    }
}

fn check_ids(errors: &mut Errors, field: &str, ids: &[String], prefix: &str) {
    for (i, id) in ids.iter().enumerate() {
        if !crate::ids::is_id(id, prefix) {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "invalid",
                format!("not a {prefix}_ id"),
            ));
        }
    }
}

fn check_targets(errors: &mut Errors, field: &str, t: &Targets) {
    if t.len() > MAX_TARGETS {
        errors.push(FieldError::new(
            field,
            "too_many",
            format!("at most {MAX_TARGETS} targets"),
        ));
    }
    check_ids(errors, &format!("{field}.products"), &t.products, "prod");
    check_ids(errors, &format!("{field}.variants"), &t.variants, "var");
    check_ids(
        errors,
        &format!("{field}.collections"),
        &t.collections,
        "col",
    );
    check_ids(errors, &format!("{field}.categories"), &t.categories, "cat");
}

fn check_quantity(errors: &mut Errors, field: &str, n: i64) {
    if !(1..=1_000).contains(&n) {
        errors.push(FieldError::new(field, "out_of_range", "from 1 to 1000"));
    }
}

fn check_limit(errors: &mut Errors, field: &str, n: Option<i64>) {
    if n.is_some_and(|n| !(1..=1_000_000_000).contains(&n)) {
        errors.push(FieldError::new(
            field,
            "out_of_range",
            "from 1 to 1,000,000,000",
        ));
    }
}

/// A date as stored (RFC 3339, UTC), or an error.
fn instant(errors: &mut Errors, field: &str, text: Option<&str>) -> Option<(String, i64)> {
    let text = text?;
    match OffsetDateTime::parse(text.trim(), &Rfc3339) {
        Ok(t) => Some((
            rfc3339(t.to_offset(time::UtcOffset::UTC)),
            t.unix_timestamp(),
        )),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "invalid",
                "an RFC 3339 date and time (2026-12-24T00:00:00Z)",
            ));
            None
        }
    }
}

/// Checks a discount as it would be stored (normalising its dates and currency).
fn checked(errors: &mut Errors, d: &mut Discount, currencies: &[String]) {
    errors.check(validate::text("title", &d.title, 200));
    d.title = d.title.trim().to_owned();
    let mut needs_currency = d.conditions.minimum_subtotal.is_some();
    match &d.value {
        DiscountValue::Percentage {
            percentage,
            targets,
        } => {
            check_percentage(errors, "value.percentage", *percentage);
            check_targets(errors, "value.targets", targets);
        }
        DiscountValue::FixedPerItem { amount, targets }
        | DiscountValue::FixedOrder { amount, targets } => {
            check_amount(errors, "value.amount", *amount);
            check_targets(errors, "value.targets", targets);
            needs_currency = true;
        }
        DiscountValue::FreeShipping {
            max_amount,
            method_ids,
        } => {
            if let Some(max) = max_amount {
                check_amount(errors, "value.max_amount", *max);
                needs_currency = true;
            }
            check_ids(errors, "value.method_ids", method_ids, "shm");
            if method_ids.len() > MAX_TARGETS {
                errors.push(FieldError::new(
                    "value.method_ids",
                    "too_many",
                    "at most 250",
                ));
            }
        }
        DiscountValue::BuyXGetY {
            buy: BuyRule { quantity, targets },
            get:
                GetRule {
                    quantity: get_quantity,
                    targets: get_targets,
                    percentage,
                },
            max_applications,
        } => {
            check_quantity(errors, "value.buy.quantity", *quantity);
            check_targets(errors, "value.buy.targets", targets);
            check_quantity(errors, "value.get.quantity", *get_quantity);
            check_targets(errors, "value.get.targets", get_targets);
            check_percentage(errors, "value.get.percentage", *percentage);
            check_limit(errors, "value.max_applications", *max_applications);
        }
    }
    match &d.currency {
        Some(currency) => {
            let upper = currency.trim().to_ascii_uppercase();
            if !currencies.contains(&upper) {
                errors.push(FieldError::new(
                    "currency",
                    "unsupported_currency",
                    "one of the company's currencies (general settings)",
                ));
            }
            d.currency = Some(upper);
        }
        None if needs_currency => errors.push(FieldError::new(
            "currency",
            "required",
            "fixed amounts and minimum subtotals need a currency",
        )),
        None => {}
    }
    let c = &d.conditions;
    if let Some(min) = c.minimum_subtotal {
        if !(0..=MAX_AMOUNT).contains(&min) {
            errors.push(FieldError::new(
                "conditions.minimum_subtotal",
                "out_of_range",
                format!("from 0 to {MAX_AMOUNT}"),
            ));
        }
    }
    check_limit(errors, "conditions.minimum_quantity", c.minimum_quantity);
    for (field, list, prefix) in [
        ("conditions.customer_groups", &c.customer_groups, "cgrp"),
        ("conditions.customers", &c.customers, "cus"),
    ] {
        if list.len() > MAX_PEOPLE {
            errors.push(FieldError::new(
                field,
                "too_many",
                format!("at most {MAX_PEOPLE}"),
            ));
        }
        check_ids(errors, field, list, prefix);
    }
    check_limit(errors, "limits.total", d.limits.total);
    check_limit(errors, "limits.per_customer", d.limits.per_customer);
    check_limit(errors, "limits.per_code", d.limits.per_code);
    if d.limits.per_code.is_some() && d.method == DiscountMethod::Automatic {
        errors.push(FieldError::new(
            "limits.per_code",
            "not_allowed",
            "an automatic discount has no codes",
        ));
    }
    let starts = instant(errors, "starts_at", d.starts_at.as_deref());
    let ends = instant(errors, "ends_at", d.ends_at.as_deref());
    if let (Some((_, s)), Some((_, e))) = (&starts, &ends) {
        if e <= s {
            errors.push(FieldError::new(
                "ends_at",
                "before_start",
                "after starts_at",
            ));
        }
    }
    if let Some((text, _)) = starts {
        d.starts_at = Some(text);
    }
    if let Some((text, _)) = ends {
        d.ends_at = Some(text);
    }
}

async fn currencies(app: &App, tenant: &TenantId) -> Result<Vec<String>, DiscountError> {
    let general =
        crate::settings::service::typed::<crate::settings::groups::General>(app, tenant).await?;
    let mut all = general.supported_currencies.clone();
    all.push(general.default_currency.clone());
    Ok(all)
}

/// Where a discount stands at `now` (epoch seconds).
pub fn status(discount: &Discount, now: i64) -> DiscountStatus {
    match engine::timing(discount, now) {
        Err(Refusal::NotFound) => DiscountStatus::Disabled,
        Err(Refusal::NotStarted) => DiscountStatus::Scheduled,
        Err(_) => DiscountStatus::Expired,
        Ok(()) => DiscountStatus::Live,
    }
}

/// Discounts as staff see them, with their uses (one batched read).
pub async fn views(
    app: &App,
    tenant: &TenantId,
    discounts: Vec<Discount>,
) -> Result<Vec<DiscountView>, DiscountError> {
    let keys: Vec<_> = discounts
        .iter()
        .map(|d| store::total_uses_key(tenant, &d.id))
        .collect();
    let counts = store::counts(app.table.as_ref(), &keys).await?;
    let now = app.clock.epoch_seconds();
    Ok(discounts
        .into_iter()
        .zip(counts)
        .map(|(discount, usage_count)| DiscountView {
            class: discount.class(),
            status: status(&discount, now),
            usage_count,
            discount,
        })
        .collect())
}

pub async fn view(
    app: &App,
    tenant: &TenantId,
    discount: Discount,
) -> Result<DiscountView, DiscountError> {
    Ok(views(app, tenant, vec![discount])
        .await?
        .pop()
        .expect("one view per discount"))
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewDiscount,
) -> Result<Discount, DiscountError> {
    let currencies = currencies(app, tenant).await?;
    let mut errors = Errors::new();
    let now = rfc3339(app.clock.now());
    let mut discount = Discount {
        id: app.ids.new_id("disc"),
        title: input.title,
        method: input.method,
        value: input.value,
        currency: input.currency,
        conditions: input.conditions,
        limits: input.limits,
        combines_with: input.combines_with,
        active: input.active.unwrap_or(true),
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        created_at: now.clone(),
        updated_at: now.clone(),
        version: 1,
    };
    checked(&mut errors, &mut discount, &currencies);
    let code = match &input.code {
        Some(text) => match (normalise_code(text), discount.method) {
            (Some(code), DiscountMethod::Code) => Some(code),
            (None, _) => {
                errors.push(FieldError::new(
                    "code",
                    "invalid",
                    "3 to 64 letters, digits, - or _",
                ));
                None
            }
            (Some(_), DiscountMethod::Automatic) => {
                errors.push(FieldError::new(
                    "code",
                    "not_allowed",
                    "an automatic discount has no codes",
                ));
                None
            }
        },
        None => None,
    };
    errors.into_result()?;
    let shelf = store::discounts(tenant);
    let mut ops = vec![
        shelf.count_op(1, MAX_DISCOUNTS),
        shelf.put(&discount.id, &discount, None),
        event(
            app,
            tenant,
            DiscountEvent::DiscountCreated,
            Some(actor),
            json!({ "discount": discount }),
        ),
    ];
    if let Some(code) = &code {
        ops.push(store::code_put(
            tenant,
            &Code {
                code: code.clone(),
                discount_id: discount.id.clone(),
                uses: 0,
                created_at: now,
            },
        ));
        ops.push(store::code_count_op(tenant, &discount.id, 1, MAX_CODES));
    }
    let written = app.table.transact(ops).await;
    forget(app, tenant);
    match written {
        Ok(()) => Ok(discount),
        Err(e) if e.failed_at(0) => Err(DiscountError::TooMany { max: MAX_DISCOUNTS }),
        Err(e) if e.failed_at(3) => Err(DiscountError::CodeTaken(code.unwrap_or_default())),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(app: &App, tenant: &TenantId, id: &str) -> Result<Discount, DiscountError> {
    if !crate::ids::is_id(id, "disc") {
        return Err(DiscountError::NotFound("discount"));
    }
    store::discounts(tenant)
        .get(app.table.as_ref(), id)
        .await?
        .ok_or(DiscountError::NotFound("discount"))
}

pub async fn change(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: DiscountChange,
    if_match: Option<u64>,
) -> Result<Discount, DiscountError> {
    let currencies = currencies(app, tenant).await?;
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(DiscountError::Stale);
    }
    let mut d = current.clone();
    if let Some(title) = input.title {
        d.title = title;
    }
    if let Some(value) = input.value {
        d.value = value;
    }
    if let Some(currency) = input.currency {
        d.currency = currency;
    }
    if let Some(conditions) = input.conditions {
        d.conditions = conditions;
    }
    if let Some(limits) = input.limits {
        d.limits = limits;
    }
    if let Some(combines) = input.combines_with {
        d.combines_with = combines;
    }
    if let Some(active) = input.active {
        d.active = active;
    }
    if let Some(starts) = input.starts_at {
        d.starts_at = starts;
    }
    if let Some(ends) = input.ends_at {
        d.ends_at = ends;
    }
    let mut errors = Errors::new();
    checked(&mut errors, &mut d, &currencies);
    errors.into_result()?;
    if d == current {
        return Ok(current);
    }
    d.version += 1;
    d.updated_at = rfc3339(app.clock.now());
    let written = app
        .table
        .transact(vec![
            store::discounts(tenant).put(&d.id, &d, Some(current.version)),
            event(
                app,
                tenant,
                DiscountEvent::DiscountUpdated,
                Some(actor),
                json!({ "discount": d }),
            ),
        ])
        .await;
    forget(app, tenant);
    match written {
        Ok(()) => Ok(d),
        Err(e) if e.failed_at(0) => Err(DiscountError::Stale),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a discount (at the version read, so a change racing with it wins), then its codes
/// and its counters. A cleanup cut short leaves codes that answer `discount_not_found` (their
/// discount is gone) and counters nothing reads; the delete itself never resets a limit.
pub async fn delete(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<(), DiscountError> {
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(DiscountError::Stale);
    }
    let table = app.table.as_ref();
    let written = table
        .transact(vec![
            store::discounts(tenant).delete(id, current.version),
            store::discounts(tenant).count_op(-1, MAX_DISCOUNTS),
            event(
                app,
                tenant,
                DiscountEvent::DiscountDeleted,
                Some(actor),
                json!({ "discount_id": id }),
            ),
        ])
        .await;
    forget(app, tenant);
    match written {
        Ok(()) => {}
        Err(e) if e.failed_at(0) => return Err(DiscountError::Stale),
        Err(e) => return Err(e.into()),
    }
    if let Err(e) = clean_up(app, tenant, id).await {
        tracing::warn!(error = %e, discount = id, "could not remove every code of a deleted discount");
    }
    Ok(())
}

/// Removes a deleted discount's codes and counters.
async fn clean_up(app: &App, tenant: &TenantId, id: &str) -> Result<(), crate::store::StoreError> {
    let table = app.table.as_ref();
    // The index may still list codes just deleted for a moment: a bounded number of pages.
    for _ in 0..(MAX_CODES / 100 + 10) {
        let (codes, _) = store::code_page(table, tenant, id, 100, None).await?;
        if codes.is_empty() {
            break;
        }
        let ops: Vec<TxOp> = codes
            .iter()
            .map(|c| TxOp::Delete {
                key: store::code_key(tenant, &c.code),
                condition: None,
            })
            .collect();
        table.transact(ops).await?;
    }
    for chunk in store::counters(table, tenant, id).await?.chunks(100) {
        table
            .transact(
                chunk
                    .iter()
                    .map(|key| TxOp::Delete {
                        key: key.clone(),
                        condition: None,
                    })
                    .collect(),
            )
            .await?;
    }
    Ok(())
}

fn random_code(prefix: &str, length: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut code = prefix.to_owned();
    for _ in 0..length {
        code.push(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char);
    }
    code
}

/// Adds one code, or generates up to 10,000 distinct ones, to a code discount. Generated codes
/// are written 97 to a transaction; a code the company already has is drawn again; a failure
/// part way deletes the codes already written, so the request adds all or none.
pub async fn add_codes(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: NewCodes,
) -> Result<CreatedCodes, DiscountError> {
    let mut errors = Errors::new();
    let wanted: Result<Vec<String>, Generate> = match (input.code, input.generate) {
        (Some(code), None) => match normalise_code(&code) {
            Some(code) => Ok(vec![code]),
            None => {
                errors.push(FieldError::new(
                    "code",
                    "invalid",
                    "3 to 64 letters, digits, - or _",
                ));
                Ok(Vec::new())
            }
        },
        (None, Some(generate)) => {
            if !(1..=MAX_GENERATED).contains(&generate.count) {
                errors.push(FieldError::new(
                    "generate.count",
                    "out_of_range",
                    format!("from 1 to {MAX_GENERATED}"),
                ));
            }
            let prefix_ok = generate.prefix.is_empty()
                || normalise_code(&format!("{}XXX", generate.prefix)).is_some();
            if generate.prefix.len() > 20 || !prefix_ok {
                errors.push(FieldError::new(
                    "generate.prefix",
                    "invalid",
                    "at most 20 letters, digits, - or _",
                ));
            }
            if !(6..=32).contains(&generate.length.unwrap_or(10)) {
                errors.push(FieldError::new(
                    "generate.length",
                    "out_of_range",
                    "from 6 to 32",
                ));
            }
            Err(generate)
        }
        _ => {
            errors.push(FieldError::new(
                "code",
                "one_of",
                "give either code or generate",
            ));
            Ok(Vec::new())
        }
    };
    errors.into_result()?;
    let discount = get(app, tenant, id).await?;
    if discount.method != DiscountMethod::Code {
        return Err(DiscountError::NotACodeDiscount);
    }
    let now = rfc3339(app.clock.now());
    let code_of = |code: &str| Code {
        code: code.to_owned(),
        discount_id: discount.id.clone(),
        uses: 0,
        created_at: now.clone(),
    };
    let created = match wanted {
        Ok(codes) => {
            let code = codes.into_iter().next().expect("checked");
            let written = app
                .table
                .transact(vec![
                    store::code_count_op(tenant, id, 1, MAX_CODES),
                    store::code_put(tenant, &code_of(&code)),
                    codes_event(app, tenant, actor, id, 1, std::slice::from_ref(&code)),
                ])
                .await;
            match written {
                Ok(()) => {
                    return Ok(CreatedCodes {
                        discount_id: id.to_owned(),
                        count: 1,
                        codes: vec![code],
                    })
                }
                Err(e) if e.failed_at(0) => {
                    return Err(DiscountError::TooManyCodes { max: MAX_CODES })
                }
                Err(e) if e.failed_at(1) => return Err(DiscountError::CodeTaken(code)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(generate) => {
            let prefix = generate.prefix.trim().to_ascii_uppercase();
            let length = generate.length.unwrap_or(10);
            let mut written: Vec<String> = Vec::with_capacity(generate.count);
            let result = generate_into(
                app,
                tenant,
                actor,
                id,
                &prefix,
                length,
                generate.count,
                &code_of,
                &mut written,
            )
            .await;
            if let Err(e) = result {
                remove_codes(app, tenant, id, &written).await;
                return Err(e);
            }
            written
        }
    };
    Ok(CreatedCodes {
        discount_id: id.to_owned(),
        count: created.len(),
        codes: created,
    })
}

/// `discount_codes.created`: how many codes, listing the first hundred.
fn codes_event(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    count: usize,
    codes: &[String],
) -> TxOp {
    event(
        app,
        tenant,
        DiscountEvent::DiscountCodesCreated,
        Some(actor),
        json!({
            "discount_id": id,
            "count": count,
            "codes": codes.iter().take(100).collect::<Vec<_>>(),
        }),
    )
}

#[allow(clippy::too_many_arguments)]
async fn generate_into(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    prefix: &str,
    length: usize,
    count: usize,
    code_of: &(dyn Fn(&str) -> Code + Send + Sync),
    written: &mut Vec<String>,
) -> Result<(), DiscountError> {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut redrawn = 0;
    while written.len() < count {
        let size = CODES_PER_WRITE.min(count - written.len());
        let mut batch = Vec::with_capacity(size);
        while batch.len() < size {
            let code = random_code(prefix, length);
            if seen.insert(code.clone()) {
                batch.push(code);
            }
        }
        let last = written.len() + size == count;
        // The discount must still exist (a delete racing with generation leaves no codes).
        let mut ops = vec![
            store::code_count_op(tenant, id, size as i64, MAX_CODES),
            TxOp::Check {
                key: store::discounts(tenant).key(id),
                condition: crate::store::Condition::Exists,
            },
        ];
        ops.extend(batch.iter().map(|c| store::code_put(tenant, &code_of(c))));
        if last {
            let first: Vec<String> = written.iter().chain(&batch).take(100).cloned().collect();
            ops.push(codes_event(app, tenant, actor, id, count, &first));
        }
        match app.table.transact(ops).await {
            Ok(()) => written.extend(batch),
            Err(e) if e.failed_at(0) => return Err(DiscountError::TooManyCodes { max: MAX_CODES }),
            Err(e) if e.failed_at(1) => return Err(DiscountError::NotFound("discount")),
            // A code the company has already: this batch is drawn again (a few times at most;
            // with 32^6 or more codes of each length, a second clash is already unlikely).
            Err(crate::store::StoreError::TransactionCancelled { .. }) if redrawn < 5 => {
                redrawn += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Deletes codes a failed request wrote (best effort: what remains still belongs to the
/// discount and is listed with it).
async fn remove_codes(app: &App, tenant: &TenantId, id: &str, codes: &[String]) {
    for chunk in codes.chunks(CODES_PER_WRITE) {
        let mut ops = vec![store::code_count_op(tenant, id, -(chunk.len() as i64), 0)];
        ops.extend(chunk.iter().map(|c| store::code_delete(tenant, c)));
        if let Err(e) = app.table.transact(ops).await {
            tracing::warn!(error = %e, "could not remove the codes of a failed request");
        }
    }
}

pub async fn delete_code(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    code: &str,
) -> Result<(), DiscountError> {
    let discount = get(app, tenant, id).await?;
    let normal = normalise_code(code).ok_or(DiscountError::NotFound("code"))?;
    let stored = store::code(app.table.as_ref(), tenant, &normal)
        .await?
        .filter(|c| c.discount_id == discount.id)
        .ok_or(DiscountError::NotFound("code"))?;
    let written = app
        .table
        .transact(vec![
            store::code_delete(tenant, &stored.code),
            store::code_count_op(tenant, id, -1, 0),
            event(
                app,
                tenant,
                DiscountEvent::DiscountCodeDeleted,
                Some(actor),
                json!({ "discount_id": id, "code": stored.code }),
            ),
        ])
        .await;
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.failed_at(0) => Err(DiscountError::NotFound("code")),
        Err(e) => Err(e.into()),
    }
}

/// The discount of a code a shopper entered (read now, not from the container's copy), or
/// `discount_not_found`; another company's code is not found either.
pub async fn lookup(
    app: &App,
    tenant: &TenantId,
    text: &str,
) -> Result<(Code, Discount), DiscountError> {
    let not_found = || DiscountError::refused(Refusal::NotFound);
    let code = normalise_code(text).ok_or_else(not_found)?;
    let stored = store::code(app.table.as_ref(), tenant, &code)
        .await?
        .ok_or_else(not_found)?;
    let discount = store::discounts(tenant)
        .get::<Discount>(app.table.as_ref(), &stored.discount_id)
        .await?
        .filter(|d| d.method == DiscountMethod::Code)
        .ok_or_else(not_found)?;
    Ok((stored, discount))
}

/// The company's discounts as read at most 30 s ago (one query on a miss).
pub async fn cached(app: &App, tenant: &TenantId) -> Result<Arc<Vec<Discount>>, DiscountError> {
    let table = app.table.as_ref();
    crate::app::lists::company_list(app, tenant, store::discounts(tenant).all(table))
        .await
        .map_err(DiscountError::from)
}
