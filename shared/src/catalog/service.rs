//! Product rules: creating, changing and deleting products, their options and variants.
//!
//! Every change reads the product, applies itself to a copy and writes it back conditioned on
//! the version read, in one transaction with the handle and SKU guards it moves, the listing
//! entries and the domain events. A change that loses a race to another re-reads and applies
//! again (unless the caller pinned a version with If-Match: then 412).

use super::listing::Summary;
use super::model::{DescriptionFormat, Money, Product, ProductOption, ProductStatus, Seo, Variant};
use super::store;
use super::taxonomy::{self, Taxonomy};
use crate::app::App;
use crate::auth::TenantId;
use crate::catalog::errors::CatalogCode;
use crate::clock::rfc3339;
use crate::events::event;
use crate::http::HttpCode;
use crate::http::{ApiError, FieldError};
use crate::settings::groups::{General, Group};
use crate::store::{Condition, StoreError, TxOp};
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use utoipa::ToSchema;

pub const MAX_OPTIONS: usize = 3;
pub const MAX_OPTION_VALUES: usize = 100;
pub const MAX_VARIANTS: usize = 100;
pub const MAX_TAGS: usize = 50;
pub const MAX_CATEGORIES_PER_PRODUCT: usize = 20;
pub const MAX_DESCRIPTION: usize = 100_000;

/// The events a change emits: (type, data).
pub type Events = Vec<(super::events::CatalogEvent, Value)>;
/// An operation that commits with a change, and what its failing condition means.
pub type Extra = (TxOp, fn() -> ApiError);
/// Where a guard put sits in a transaction, what its failure means, and its SKU if it is one.
type GuardMeaning = (usize, ApiError, Option<String>);

/// What an applied change produced: the product after it, its events and the answer.
pub struct Applied<T> {
    pub product: Product,
    pub events: Events,
    pub answer: T,
}

fn not_found() -> ApiError {
    ApiError::not_found("product")
}

fn handle_taken() -> ApiError {
    ApiError::new(CatalogCode::HandleTaken, "another product has this handle")
}

fn sku_taken(sku: &str) -> ApiError {
    ApiError::new(
        CatalogCode::SkuTaken,
        format!("another variant has the SKU `{sku}`"),
    )
}

/// The guard operations that move a product's handle and SKUs from `before` to `after`, and
/// for each guard put, what its failure means.
fn guard_ops(
    tenant: &TenantId,
    before: Option<&Product>,
    after: Option<&Product>,
) -> (Vec<TxOp>, Vec<GuardMeaning>) {
    let mut ops = Vec::new();
    let mut meanings = Vec::new();
    let old_handle = before.map(|p| p.handle.as_str());
    let new_handle = after.map(|p| p.handle.as_str());
    if old_handle != new_handle {
        if let Some(product) = after {
            meanings.push((ops.len(), handle_taken(), None));
            ops.push(store::guard_put(
                store::handle_key(tenant, &product.handle),
                "product_handle",
                &[("product_id", &product.id)],
            ));
        }
        if let Some(old) = old_handle {
            ops.push(store::delete(store::handle_key(tenant, old)));
        }
    }
    let skus = |p: Option<&Product>| -> BTreeMap<String, (String, String)> {
        p.into_iter()
            .flat_map(|p| {
                p.variants.iter().filter_map(|v| {
                    v.sku
                        .as_ref()
                        .map(|s| (s.to_uppercase(), (s.clone(), v.id.clone())))
                })
            })
            .collect()
    };
    let (old, new) = (skus(before), skus(after));
    for (upper, (sku, variant)) in &new {
        if !old.contains_key(upper) {
            let product = after.map(|p| p.id.as_str()).unwrap_or_default();
            meanings.push((ops.len(), sku_taken(sku), Some(sku.clone())));
            ops.push(store::guard_put(
                store::sku_key(tenant, sku),
                "sku",
                &[
                    ("product_id", product),
                    ("variant_id", variant),
                    ("sku", sku),
                ],
            ));
        }
    }
    for (upper, (sku, _)) in &old {
        if !new.contains_key(upper) {
            ops.push(store::delete(store::sku_key(tenant, sku)));
        }
    }
    (ops, meanings)
}

/// A SKU that two of the product's variants share, compared without case.
fn repeated_sku(product: &Product) -> Option<String> {
    let mut seen = HashSet::new();
    product
        .variants
        .iter()
        .filter_map(|v| v.sku.as_ref())
        .find(|sku| !seen.insert(sku.to_uppercase()))
        .cloned()
}

/// Removes a SKU guard whose product or variant no longer holds the SKU (left by an interrupted
/// delete); `true` when one was removed, so the change may try again.
async fn clear_stale_sku(app: &App, tenant: &TenantId, sku: &str) -> Result<bool, ApiError> {
    let key = store::sku_key(tenant, sku);
    let Some(guard) = app.table.get(&key).await? else {
        return Ok(true);
    };
    let field = |name: &str| guard.get(name).and_then(Value::as_str).unwrap_or_default();
    let holder = store::product(app.table.as_ref(), tenant, field("product_id")).await?;
    let held = holder.is_some_and(|p| {
        p.variants.iter().any(|v| {
            v.id == field("variant_id")
                && v.sku.as_ref().is_some_and(|s| s.eq_ignore_ascii_case(sku))
        })
    });
    if held {
        return Ok(false);
    }
    // Only the stale guard read above may go: a concurrent change may have released it and
    // another product claimed the SKU since, and that claim must stand.
    let still_stale = Condition::All(vec![
        Condition::Equals {
            attr: "product_id".into(),
            value: field("product_id").into(),
        },
        Condition::Equals {
            attr: "variant_id".into(),
            value: field("variant_id").into(),
        },
    ]);
    match app.table.delete(&key, Some(still_stale)).await {
        // Gone or taken over meanwhile: the caller's next attempt looks again.
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// Writes a product change: `before` is what was read (`None` for a new product).
async fn save(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    before: Option<&Product>,
    after: &Product,
    events: &Events,
    extra: &[Extra],
) -> Result<(), SaveError> {
    // SKUs are unique without regard to case, within a product too: its guards are keyed by the
    // upper-cased SKU, so two of its variants could otherwise share one guard.
    if let Some(sku) = repeated_sku(after) {
        return Err(SaveError::Api(sku_taken(&sku)));
    }
    let mut ops = vec![store::product_put(
        tenant,
        after,
        before.map_or(0, |p| p.version),
    )];
    let mut extra_meanings = Vec::new();
    for (op, meaning) in extra {
        extra_meanings.push((ops.len(), *meaning));
        ops.push(op.clone());
    }
    let (guards, meanings) = guard_ops(tenant, before, Some(after));
    let offset = ops.len();
    ops.extend(guards);
    ops.extend(store::entry_ops(
        tenant,
        before.map(Summary::of).as_ref(),
        Some(&Summary::of(after)),
    ));
    for (kind, data) in events {
        ops.push(event(app, tenant, *kind, Some(actor), data.clone()));
    }
    if ops.len() > crate::store::MAX_TRANSACTION_OPS {
        return Err(SaveError::Api(ApiError::new(
            CatalogCode::ChangeTooLarge,
            "this change touches too many SKUs at once; change fewer variants per request",
        )));
    }
    match app.table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(e) if e.failed_at(0) => Err(SaveError::Stale),
        Err(StoreError::Conflict) => Err(SaveError::Stale),
        Err(e) => {
            for (index, meaning) in extra_meanings {
                if e.failed_at(index) {
                    return Err(SaveError::Api(meaning()));
                }
            }
            for (index, error, sku) in meanings {
                if e.failed_at(index + offset) {
                    return Err(match sku {
                        Some(sku) => SaveError::Sku(sku, error),
                        None => SaveError::Api(error),
                    });
                }
            }
            Err(SaveError::Api(e.into()))
        }
    }
}

enum SaveError {
    /// Another change won: read again.
    Stale,
    /// A SKU guard is held; it may be stale.
    Sku(String, ApiError),
    Api(ApiError),
}

/// Applies a change to a product from a fresh read, retrying when it loses a race; answers the
/// change's own answer and the product as saved. A change that changes nothing writes nothing.
pub async fn change<T>(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
    apply: impl Fn(&Product, &Context) -> Result<Applied<T>, ApiError>,
) -> Result<(T, Product), ApiError> {
    change_with(app, tenant, actor, id, if_match, &[], apply).await
}

/// [`change`], with operations that must commit with it (and what their failure means).
pub async fn change_with<T>(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
    extra: &[Extra],
    apply: impl Fn(&Product, &Context) -> Result<Applied<T>, ApiError>,
) -> Result<(T, Product), ApiError> {
    let context = Context::load(app, tenant).await?;
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let before = store::product(app.table.as_ref(), tenant, id)
            .await?
            .ok_or_else(not_found)?;
        if if_match.is_some_and(|v| v != before.version) {
            return Err(ApiError::precondition_failed());
        }
        let Applied {
            mut product,
            events,
            answer,
        } = apply(&before, &context)?;
        if product == before && events.is_empty() {
            return Ok((answer, before));
        }
        product.version = before.version + 1;
        product.updated_at = context.now.clone();
        match save(app, tenant, actor, Some(&before), &product, &events, extra).await {
            Ok(()) => return Ok((answer, product)),
            Err(SaveError::Stale) if if_match.is_none() => continue,
            Err(SaveError::Stale) => return Err(ApiError::precondition_failed()),
            Err(SaveError::Sku(sku, error)) => {
                if !clear_stale_sku(app, tenant, &sku).await? {
                    return Err(error);
                }
            }
            Err(SaveError::Api(error)) => return Err(error),
        }
    }
    Err(ApiError::new(
        HttpCode::Conflict,
        "the product is being changed by other requests; retry",
    ))
}

/// What validation needs besides the product: the company's currency and taxonomy.
pub struct Context {
    pub currency: String,
    pub taxonomy: std::sync::Arc<Taxonomy>,
    pub now: String,
}

impl Context {
    pub async fn load(app: &App, tenant: &TenantId) -> Result<Self, ApiError> {
        let general: General = crate::settings::service::typed(app, tenant, Group::General).await?;
        Ok(Context {
            currency: general.default_currency,
            taxonomy: taxonomy::read(app, tenant).await.map(std::sync::Arc::new)?,
            now: rfc3339(app.clock.now()),
        })
    }
}

// Product fields ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub title: String,
    /// Generated from the title when absent.
    pub handle: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub description_format: DescriptionFormat,
    /// `draft` unless given.
    pub status: Option<ProductStatus>,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub seo: Seo,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, Value>,
    #[serde(default)]
    pub category_ids: Vec<String>,
    /// Options with their values, e.g. `[{"name": "Size", "values": ["S", "M"]}]`.
    #[serde(default)]
    pub options: Vec<NewOption>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChange {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub description_format: Option<DescriptionFormat>,
    pub status: Option<ProductStatus>,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub tags: Option<Vec<String>>,
    pub seo: Option<Seo>,
    /// Replaces every attribute value.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<BTreeMap<String, Value>>,
    pub category_ids: Option<Vec<String>>,
}

fn optional_text(errors: &mut Errors, field: &str, value: &Option<String>, max: usize) {
    if let Some(v) = value {
        errors.check(validate::text(field, v, max));
    }
}

/// Checks a product; category ids and attribute values it had `before` are not checked again (a
/// category or attribute deleted since then must not block unrelated edits).
fn check_product(errors: &mut Errors, context: &Context, p: &Product, before: Option<&Product>) {
    errors.check(validate::text("title", &p.title, 255));
    taxonomy::check_handle(errors, "handle", &p.handle);
    if p.description.len() > MAX_DESCRIPTION {
        errors.push(FieldError::new(
            "description",
            "too_long",
            format!("use at most {MAX_DESCRIPTION} bytes"),
        ));
    }
    optional_text(errors, "vendor", &p.vendor, 100);
    optional_text(errors, "product_type", &p.product_type, 100);
    if p.tags.len() > MAX_TAGS {
        errors.push(FieldError::new(
            "tags",
            "too_many",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    for (i, tag) in p.tags.iter().enumerate() {
        errors.check(validate::text(&format!("tags[{i}]"), tag, 60));
    }
    if p.seo
        .title
        .as_ref()
        .is_some_and(|t| t.chars().count() > 120)
    {
        errors.push(FieldError::new(
            "seo.title",
            "too_long",
            "use at most 120 characters",
        ));
    }
    if p.seo
        .description
        .as_ref()
        .is_some_and(|t| t.chars().count() > 320)
    {
        errors.push(FieldError::new(
            "seo.description",
            "too_long",
            "use at most 320 characters",
        ));
    }
    let changed_values: BTreeMap<String, Value> = p
        .attributes
        .iter()
        .filter(|(k, v)| before.and_then(|b| b.attributes.get(*k)) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    taxonomy::check_values(errors, &context.taxonomy, &changed_values);
    if p.category_ids.len() > MAX_CATEGORIES_PER_PRODUCT {
        errors.push(FieldError::new(
            "category_ids",
            "too_many",
            format!("at most {MAX_CATEGORIES_PER_PRODUCT} categories"),
        ));
    }
    for (i, c) in p.category_ids.iter().enumerate() {
        let kept = before.is_some_and(|b| b.category_ids.contains(c));
        if !kept && context.taxonomy.category(c).is_none() {
            errors.push(FieldError::new(
                format!("category_ids[{i}]"),
                "unknown_category",
                "no such category",
            ));
        }
    }
    check_options(errors, &p.options);
}

fn tidy(mut p: Product) -> Product {
    p.title = p.title.trim().to_owned();
    p.vendor = p
        .vendor
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    p.product_type = p
        .product_type
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let mut seen = HashSet::new();
    p.tags = p
        .tags
        .into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| seen.insert(t.clone()))
        .collect();
    let mut seen = HashSet::new();
    p.category_ids.retain(|c| seen.insert(c.clone()));
    p
}

fn product_event(p: &Product) -> Value {
    json!({"product_id": p.id, "handle": p.handle, "status": p.status, "version": p.version + 1})
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewProduct,
) -> Result<Product, ApiError> {
    let context = Context::load(app, tenant).await?;
    let now = context.now.clone();
    let handle = input
        .handle
        .clone()
        .unwrap_or_else(|| super::text::slugify(&input.title));
    let options = input
        .options
        .iter()
        .map(|o| ProductOption {
            id: app.ids.new_id("opt"),
            name: o.name.trim().to_owned(),
            values: o.values.iter().map(|v| v.trim().to_owned()).collect(),
        })
        .collect();
    let product = tidy(Product {
        id: app.ids.new_id("prod"),
        handle,
        title: input.title,
        description: input.description,
        description_format: input.description_format,
        status: input.status.unwrap_or(ProductStatus::Draft),
        vendor: input.vendor,
        product_type: input.product_type,
        tags: input.tags,
        seo: input.seo,
        attributes: input.attributes,
        category_ids: input.category_ids,
        options,
        variants: Vec::new(),
        images: Vec::new(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    });
    let mut errors = Errors::new();
    check_product(&mut errors, &context, &product, None);
    if input.handle.is_none() && product.handle.is_empty() {
        errors.push(FieldError::new(
            "handle",
            "required",
            "the title gives no handle; name one",
        ));
    }
    errors.finish()?;
    let events: Events = vec![(
        crate::catalog::events::CatalogEvent::ProductCreated,
        json!({"product": product}),
    )];
    match save(app, tenant, actor, None, &product, &events, &[]).await {
        Ok(()) => Ok(product),
        Err(SaveError::Api(e)) => Err(e),
        Err(SaveError::Stale) | Err(SaveError::Sku(..)) => Err(ApiError::new(
            HttpCode::Conflict,
            "the product could not be created; retry",
        )),
    }
}

pub async fn update(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: ProductChange,
    if_match: Option<u64>,
) -> Result<Product, ApiError> {
    change(app, tenant, actor, id, if_match, |before, context| {
        let mut p = before.clone();
        if let Some(v) = &input.title {
            p.title = v.clone();
        }
        if let Some(v) = &input.handle {
            p.handle = v.clone();
        }
        if let Some(v) = &input.description {
            p.description = v.clone();
        }
        if let Some(v) = input.description_format {
            p.description_format = v;
        }
        if let Some(v) = input.status {
            p.status = v;
        }
        if let Some(v) = &input.vendor {
            p.vendor = Some(v.clone());
        }
        if let Some(v) = &input.product_type {
            p.product_type = Some(v.clone());
        }
        if let Some(v) = &input.tags {
            p.tags = v.clone();
        }
        if let Some(v) = &input.seo {
            p.seo = v.clone();
        }
        if let Some(v) = &input.attributes {
            p.attributes = v.clone();
        }
        if let Some(v) = &input.category_ids {
            p.category_ids = v.clone();
        }
        let p = tidy(p);
        let mut errors = Errors::new();
        check_product(&mut errors, context, &p, Some(before));
        errors.finish()?;
        let events = vec![(
            crate::catalog::events::CatalogEvent::ProductUpdated,
            product_event(before),
        )];
        Ok(Applied {
            product: p,
            events,
            answer: (),
        })
    })
    .await
    .map(|(_, saved)| saved)
}

/// Deletes a product with its guards and listing entries; its images are removed from the file
/// store after the commit.
pub async fn delete(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<(), ApiError> {
    let product = store::product(app.table.as_ref(), tenant, id)
        .await?
        .ok_or_else(not_found)?;
    if if_match.is_some_and(|v| v != product.version) {
        return Err(ApiError::precondition_failed());
    }
    let mut ops = vec![store::product_delete(tenant, &product)];
    ops.extend(store::entry_ops(tenant, Some(&Summary::of(&product)), None));
    ops.push(event(
        app,
        tenant,
        crate::catalog::events::CatalogEvent::ProductDeleted,
        Some(actor),
        json!({"product_id": product.id, "handle": product.handle}),
    ));
    let (mut guards, _) = guard_ops(tenant, Some(&product), None);
    let room = crate::store::MAX_TRANSACTION_OPS - ops.len();
    let rest = if guards.len() > room {
        guards.split_off(room)
    } else {
        Vec::new()
    };
    ops.extend(guards);
    match app.table.transact(ops).await {
        Ok(()) => {}
        Err(e) if e.failed_at(0) => return Err(ApiError::precondition_failed()),
        Err(e) => return Err(e.into()),
    }
    // SKU guards beyond one transaction; any left by a crash here are taken over when their SKU
    // is used again (see `clear_stale_sku`).
    for chunk in rest.chunks(crate::store::MAX_TRANSACTION_OPS) {
        app.table.transact(chunk.to_vec()).await?;
    }
    for image in &product.images {
        if let Err(e) = app.blobs.delete(&image.object_key).await {
            tracing::warn!(error = %e, key = image.object_key, "could not delete a product image");
        }
    }
    Ok(())
}

// Options ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOption {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionChange {
    pub name: Option<String>,
    /// The values in order; a value some variant uses cannot be removed.
    pub values: Option<Vec<String>>,
}

fn check_options(errors: &mut Errors, options: &[ProductOption]) {
    if options.len() > MAX_OPTIONS {
        errors.push(FieldError::new(
            "options",
            "too_many",
            format!("a product has at most {MAX_OPTIONS} options"),
        ));
    }
    let mut names = HashSet::new();
    for (i, o) in options.iter().enumerate() {
        errors.check(validate::text(&format!("options[{i}].name"), &o.name, 60));
        if !names.insert(o.name.to_lowercase()) {
            errors.push(FieldError::new(
                format!("options[{i}].name"),
                "duplicate",
                "option names must differ",
            ));
        }
        if o.values.is_empty() || o.values.len() > MAX_OPTION_VALUES {
            errors.push(FieldError::new(
                format!("options[{i}].values"),
                "invalid",
                format!("an option has 1 to {MAX_OPTION_VALUES} values"),
            ));
        }
        let mut seen = HashSet::new();
        for (j, v) in o.values.iter().enumerate() {
            errors.check(validate::text(&format!("options[{i}].values[{j}]"), v, 100));
            if !seen.insert(v) {
                errors.push(FieldError::new(
                    format!("options[{i}].values[{j}]"),
                    "duplicate",
                    "values must differ",
                ));
            }
        }
    }
}

/// Checks every variant against the options: one value of each option, each combination once.
fn check_variants(errors: &mut Errors, p: &Product) -> Result<(), ApiError> {
    if p.variants.len() > MAX_VARIANTS {
        return Err(ApiError::new(
            CatalogCode::TooManyVariants,
            format!("a product has at most {MAX_VARIANTS} variants"),
        ));
    }
    let mut combinations = HashSet::new();
    for v in &p.variants {
        let names: BTreeSet<&String> = v.options.keys().collect();
        let wanted: BTreeSet<&String> = p.options.iter().map(|o| &o.name).collect();
        if names != wanted {
            errors.push(FieldError::new(
                "options",
                "mismatch",
                format!("name a value for each option: {wanted:?}"),
            ));
        }
        for o in &p.options {
            if let Some(value) = v.options.get(&o.name) {
                if !o.values.contains(value) {
                    errors.push(FieldError::new(
                        format!("options.{}", o.name),
                        "unknown_value",
                        format!("`{value}` is not a value of {}", o.name),
                    ));
                }
            }
        }
        if !combinations.insert(&v.options) {
            return Err(ApiError::new(
                CatalogCode::DuplicateCombination,
                "another variant already has these option values",
            ));
        }
    }
    Ok(())
}

pub async fn add_option(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: NewOption,
    if_match: Option<u64>,
) -> Result<Product, ApiError> {
    let option_id = app.ids.new_id("opt");
    change(app, tenant, actor, id, if_match, |before, _| {
        let mut p = before.clone();
        if p.options.len() >= MAX_OPTIONS {
            return Err(ApiError::new(
                CatalogCode::TooManyOptions,
                format!("a product has at most {MAX_OPTIONS} options"),
            ));
        }
        let option = ProductOption {
            id: option_id.clone(),
            name: input.name.trim().to_owned(),
            values: input.values.iter().map(|v| v.trim().to_owned()).collect(),
        };
        // Existing variants take the option's first value, so they stay distinct.
        for v in &mut p.variants {
            if let Some(first) = option.values.first() {
                v.options.insert(option.name.clone(), first.clone());
            }
        }
        p.options.push(option);
        let mut errors = Errors::new();
        check_options(&mut errors, &p.options);
        // Field errors first: a duplicate is only worth telling about once the fields are right.
        let duplicate = check_variants(&mut errors, &p);
        errors.finish()?;
        duplicate?;
        Ok(Applied {
            events: vec![(
                crate::catalog::events::CatalogEvent::ProductUpdated,
                product_event(before),
            )],
            answer: (),
            product: p,
        })
    })
    .await
    .map(|(_, saved)| saved)
}

pub async fn change_option(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    option_id: &str,
    input: OptionChange,
    if_match: Option<u64>,
) -> Result<Product, ApiError> {
    change(app, tenant, actor, id, if_match, |before, _| {
        let mut p = before.clone();
        let index = p
            .options
            .iter()
            .position(|o| o.id == option_id)
            .ok_or_else(|| ApiError::not_found("option"))?;
        let old_name = p.options[index].name.clone();
        if let Some(name) = &input.name {
            let name = name.trim().to_owned();
            for v in &mut p.variants {
                if let Some(value) = v.options.remove(&old_name) {
                    v.options.insert(name.clone(), value);
                }
            }
            p.options[index].name = name;
        }
        if let Some(values) = &input.values {
            let values: Vec<String> = values.iter().map(|v| v.trim().to_owned()).collect();
            let name = &p.options[index].name;
            if let Some(used) = p
                .variants
                .iter()
                .filter_map(|v| v.options.get(name))
                .find(|used| !values.contains(used))
            {
                return Err(ApiError::new(
                    CatalogCode::ValueInUse,
                    format!("a variant uses `{used}`; change or delete it first"),
                ));
            }
            p.options[index].values = values;
        }
        let mut errors = Errors::new();
        check_options(&mut errors, &p.options);
        // Field errors first: a duplicate is only worth telling about once the fields are right.
        let duplicate = check_variants(&mut errors, &p);
        errors.finish()?;
        duplicate?;
        Ok(Applied {
            events: vec![(
                crate::catalog::events::CatalogEvent::ProductUpdated,
                product_event(before),
            )],
            answer: (),
            product: p,
        })
    })
    .await
    .map(|(_, saved)| saved)
}

pub async fn delete_option(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    option_id: &str,
    if_match: Option<u64>,
) -> Result<Product, ApiError> {
    change(app, tenant, actor, id, if_match, |before, _| {
        let mut p = before.clone();
        let index = p
            .options
            .iter()
            .position(|o| o.id == option_id)
            .ok_or_else(|| ApiError::not_found("option"))?;
        let removed = p.options.remove(index);
        for v in &mut p.variants {
            v.options.remove(&removed.name);
        }
        let mut errors = Errors::new();
        check_variants(&mut errors, &p).map_err(|_| {
            ApiError::new(
                CatalogCode::VariantsWouldCollide,
                "without this option some variants would be the same; delete them first",
            )
        })?;
        errors.finish()?;
        Ok(Applied {
            events: vec![(
                crate::catalog::events::CatalogEvent::ProductUpdated,
                product_event(before),
            )],
            answer: (),
            product: p,
        })
    })
    .await
    .map(|(_, saved)| saved)
}

// Variants --------------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVariant {
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub price: Option<Money>,
    pub compare_at_price: Option<Money>,
    pub cost: Option<Money>,
    pub weight: Option<f64>,
    /// Option name → value, e.g. `{"Size": "S", "Colour": "Red"}`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    pub image_id: Option<String>,
    pub position: Option<u32>,
}

/// A partial change; `null` removes an optional field.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantChange {
    #[serde(default, deserialize_with = "taxonomy::double_option")]
    #[schema(value_type = Option<String>)]
    pub sku: Option<Option<String>>,
    #[serde(default, deserialize_with = "taxonomy::double_option")]
    #[schema(value_type = Option<String>)]
    pub barcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "taxonomy::double_option")]
    #[schema(value_type = Option<Money>)]
    pub price: Option<Option<Money>>,
    #[serde(default, deserialize_with = "taxonomy::double_option")]
    #[schema(value_type = Option<Money>)]
    pub compare_at_price: Option<Option<Money>>,
    #[serde(default, deserialize_with = "taxonomy::double_option")]
    #[schema(value_type = Option<Money>)]
    pub cost: Option<Option<Money>>,
    #[serde(default, deserialize_with = "taxonomy::double_option")]
    #[schema(value_type = Option<f64>)]
    pub weight: Option<Option<f64>>,
    pub options: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "taxonomy::double_option")]
    #[schema(value_type = Option<String>)]
    pub image_id: Option<Option<String>>,
    pub position: Option<u32>,
}

fn check_money(errors: &mut Errors, field: &str, money: &Option<Money>, currency: &str) {
    if let Some(m) = money {
        if m.currency != currency {
            errors.push(FieldError::new(
                format!("{field}.currency"),
                "wrong_currency",
                format!("prices are in the company's currency, {currency}"),
            ));
        }
        if !(0..=1_000_000_000_000).contains(&m.amount) {
            errors.push(FieldError::new(
                format!("{field}.amount"),
                "out_of_range",
                "an amount in minor units, from 0 to 10^12",
            ));
        }
    }
}

fn check_variant(errors: &mut Errors, context: &Context, p: &Product, v: &Variant) {
    if let Some(sku) = &v.sku {
        let ok = !sku.is_empty()
            && sku.len() <= 64
            && sku
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
        if !ok {
            errors.push(FieldError::new(
                "sku",
                "invalid",
                "letters, digits, '-', '_', '.' and '/', at most 64",
            ));
        }
    }
    if let Some(barcode) = &v.barcode {
        if barcode.is_empty()
            || barcode.len() > 64
            || !barcode.bytes().all(|b| b.is_ascii_graphic())
        {
            errors.push(FieldError::new(
                "barcode",
                "invalid",
                "at most 64 visible characters",
            ));
        }
    }
    check_money(errors, "price", &v.price, &context.currency);
    check_money(
        errors,
        "compare_at_price",
        &v.compare_at_price,
        &context.currency,
    );
    check_money(errors, "cost", &v.cost, &context.currency);
    if v.weight
        .is_some_and(|w| !(0.0..=1_000_000.0).contains(&w) || w.is_nan())
    {
        errors.push(FieldError::new(
            "weight",
            "out_of_range",
            "from 0 to 1,000,000",
        ));
    }
    if let Some(image) = &v.image_id {
        if p.image(image).is_none() {
            errors.push(FieldError::new(
                "image_id",
                "unknown_image",
                "not an image of this product",
            ));
        }
    }
}

fn tidy_variant(mut v: Variant) -> Variant {
    v.sku = v.sku.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    v.barcode = v
        .barcode
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    v
}

/// Puts a variant at a position and numbers the others around it.
fn place(variants: &mut Vec<Variant>, id: &str, position: Option<u32>) {
    variants.sort_by_key(|v| (v.position, v.created_at.clone()));
    if let Some(position) = position {
        if let Some(from) = variants.iter().position(|v| v.id == id) {
            let moved = variants.remove(from);
            let to = (position as usize).min(variants.len());
            variants.insert(to, moved);
        }
    }
    for (i, v) in variants.iter_mut().enumerate() {
        v.position = i as u32;
    }
}

fn variant_event(p: &Product, v: &Variant) -> Value {
    json!({"product_id": p.id, "variant": v})
}

pub async fn create_variant(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: NewVariant,
    if_match: Option<u64>,
) -> Result<Variant, ApiError> {
    let variant_id = app.ids.new_id("var");
    change(app, tenant, actor, id, if_match, |before, context| {
        let mut p = before.clone();
        let variant = tidy_variant(Variant {
            id: variant_id.clone(),
            sku: input.sku.clone(),
            barcode: input.barcode.clone(),
            price: input.price.clone(),
            compare_at_price: input.compare_at_price.clone(),
            cost: input.cost.clone(),
            weight: input.weight,
            options: input.options.clone(),
            image_id: input.image_id.clone(),
            position: u32::MAX,
            created_at: context.now.clone(),
            updated_at: context.now.clone(),
            version: 1,
        });
        let mut errors = Errors::new();
        check_variant(&mut errors, context, &p, &variant);
        p.variants.push(variant.clone());
        place(&mut p.variants, &variant_id, input.position);
        // Field errors first: a duplicate is only worth telling about once the fields are right.
        let duplicate = check_variants(&mut errors, &p);
        errors.finish()?;
        duplicate?;
        let answer = p
            .variants
            .iter()
            .find(|v| v.id == variant_id)
            .cloned()
            .expect("added");
        Ok(Applied {
            events: vec![(
                crate::catalog::events::CatalogEvent::VariantCreated,
                variant_event(&p, &answer),
            )],
            answer,
            product: p,
        })
    })
    .await
    .map(|(answer, _)| answer)
}

pub async fn change_variant(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    variant_id: &str,
    input: VariantChange,
    if_match: Option<u64>,
) -> Result<Variant, ApiError> {
    change(app, tenant, actor, id, None, |before, context| {
        let mut p = before.clone();
        let current = p
            .variants
            .iter()
            .find(|v| v.id == variant_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("variant"))?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ApiError::precondition_failed());
        }
        let mut v = current.clone();
        if let Some(x) = &input.sku {
            v.sku = x.clone();
        }
        if let Some(x) = &input.barcode {
            v.barcode = x.clone();
        }
        if let Some(x) = &input.price {
            v.price = x.clone();
        }
        if let Some(x) = &input.compare_at_price {
            v.compare_at_price = x.clone();
        }
        if let Some(x) = &input.cost {
            v.cost = x.clone();
        }
        if let Some(x) = input.weight {
            v.weight = x;
        }
        if let Some(x) = &input.options {
            v.options = x.clone();
        }
        if let Some(x) = &input.image_id {
            v.image_id = x.clone();
        }
        let mut v = tidy_variant(v);
        v.version += 1;
        v.updated_at = context.now.clone();
        let mut errors = Errors::new();
        check_variant(&mut errors, context, &p, &v);
        let slot = p
            .variants
            .iter_mut()
            .find(|x| x.id == variant_id)
            .expect("found");
        *slot = v;
        place(&mut p.variants, variant_id, input.position);
        // Field errors first: a duplicate is only worth telling about once the fields are right.
        let duplicate = check_variants(&mut errors, &p);
        errors.finish()?;
        duplicate?;
        let answer = p
            .variants
            .iter()
            .find(|x| x.id == variant_id)
            .cloned()
            .expect("kept");
        Ok(Applied {
            events: vec![(
                crate::catalog::events::CatalogEvent::VariantUpdated,
                variant_event(&p, &answer),
            )],
            answer,
            product: p,
        })
    })
    .await
    .map(|(answer, _)| answer)
}

pub async fn delete_variant(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    variant_id: &str,
    if_match: Option<u64>,
) -> Result<(), ApiError> {
    change(app, tenant, actor, id, None, |before, _| {
        let mut p = before.clone();
        let current = p
            .variants
            .iter()
            .find(|v| v.id == variant_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("variant"))?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ApiError::precondition_failed());
        }
        p.variants.retain(|v| v.id != variant_id);
        place(&mut p.variants, variant_id, None);
        Ok(Applied {
            events: vec![(
                crate::catalog::events::CatalogEvent::VariantDeleted,
                variant_event(&p, &current),
            )],
            answer: (),
            product: p,
        })
    })
    .await
    .map(|_| ())
}

/// Creates the variants of every combination of option values that no variant has yet, in one
/// transaction; answers the created variants (none when every combination exists).
pub async fn generate_variants(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<Vec<Variant>, ApiError> {
    let ids: Vec<String> = (0..MAX_VARIANTS).map(|_| app.ids.new_id("var")).collect();
    change(app, tenant, actor, id, if_match, |before, context| {
        let mut p = before.clone();
        if p.options.is_empty() {
            return Err(ApiError::new(
                CatalogCode::NoOptions,
                "add options with values before generating variants",
            ));
        }
        let mut combinations: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
        for option in &p.options {
            let mut next = Vec::new();
            for partial in &combinations {
                for value in &option.values {
                    let mut c = partial.clone();
                    c.insert(option.name.clone(), value.clone());
                    next.push(c);
                }
            }
            combinations = next;
            if combinations.len() > MAX_VARIANTS {
                return Err(ApiError::new(
                    CatalogCode::TooManyVariants,
                    format!(
                        "the options make more than {MAX_VARIANTS} combinations, the most a product has"
                    ),
                ));
            }
        }
        let existing: HashSet<&BTreeMap<String, String>> =
            p.variants.iter().map(|v| &v.options).collect();
        let missing: Vec<BTreeMap<String, String>> = combinations
            .iter()
            .filter(|c| !existing.contains(c))
            .cloned()
            .collect();
        if p.variants.len() + missing.len() > MAX_VARIANTS {
            return Err(ApiError::new(
                CatalogCode::TooManyVariants,
                format!("a product has at most {MAX_VARIANTS} variants"),
            ));
        }
        let mut created = Vec::new();
        for (options, id) in missing.into_iter().zip(&ids) {
            let variant = Variant {
                id: id.clone(),
                sku: None,
                barcode: None,
                price: None,
                compare_at_price: None,
                cost: None,
                weight: None,
                options,
                image_id: None,
                position: (p.variants.len()) as u32,
                created_at: context.now.clone(),
                updated_at: context.now.clone(),
                version: 1,
            };
            created.push(variant.clone());
            p.variants.push(variant);
        }
        let mut errors = Errors::new();
        // Field errors first: a duplicate is only worth telling about once the fields are right.
        let duplicate = check_variants(&mut errors, &p);
        errors.finish()?;
        duplicate?;
        let events = if created.is_empty() {
            Vec::new()
        } else {
            vec![(
                crate::catalog::events::CatalogEvent::VariantCreated,
                json!({"product_id": p.id, "variants": created}),
            )]
        };
        Ok(Applied {
            product: p,
            events,
            answer: created,
        })
    })
    .await
    .map(|(created, _)| created)
}
