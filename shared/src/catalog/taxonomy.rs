//! The company's taxonomy: the category tree and the attribute definitions, read together in one
//! query and kept per container for [`TTL_MS`] (30 s). Changes made through a container are seen
//! by it at once and by every other container within that bound.

use super::model::{AttributeDefinition, AttributeType, Category, Seo};
use super::store;
use crate::app::App;
use crate::auth::TenantId;
use crate::catalog::errors::CatalogCode;
use crate::clock::rfc3339;
use crate::events::event;
use crate::http::HttpCode;
use crate::http::{ApiError, FieldError};
use crate::store::{StoreError, TxOp};
use crate::ttl_cache::TtlCache;
use crate::validate::{self, Errors};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use utoipa::ToSchema;

pub const TTL_MS: i64 = 30_000;
pub const MAX_CATEGORIES: usize = 500;
pub const MAX_ATTRIBUTES: usize = 200;
/// Categories one cascading delete removes at most (two operations each in one transaction).
const MAX_CASCADE: usize = 45;

/// The categories and attribute definitions of one company.
#[derive(Debug, Clone, Default)]
pub struct Taxonomy {
    pub categories: Vec<Category>,
    pub attributes: Vec<AttributeDefinition>,
    pub version: u64,
}

/// A category with its children, as the storefront shows the tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryNode {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub seo: Seo,
    #[schema(no_recursion)]
    pub children: Vec<CategoryNode>,
}

impl Taxonomy {
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn category_by_handle(&self, handle: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.handle == handle)
    }

    pub fn attribute(&self, key: &str) -> Option<&AttributeDefinition> {
        self.attributes.iter().find(|a| a.key == key)
    }

    fn children(&self, id: Option<&str>) -> Vec<&Category> {
        let mut children: Vec<&Category> = self
            .categories
            .iter()
            .filter(|c| c.parent_id.as_deref() == id)
            .collect();
        children.sort_by(|a, b| a.position.cmp(&b.position).then(a.title.cmp(&b.title)));
        children
    }

    /// The category and everything below it.
    pub fn subtree(&self, id: &str) -> HashSet<String> {
        let mut out = HashSet::from([id.to_owned()]);
        let mut frontier = vec![id.to_owned()];
        while let Some(next) = frontier.pop() {
            for child in self.children(Some(&next)) {
                if out.insert(child.id.clone()) {
                    frontier.push(child.id.clone());
                }
            }
        }
        out
    }

    /// The path from the root down to the category (itself last).
    pub fn path(&self, id: &str) -> Vec<&Category> {
        let mut path = Vec::new();
        let mut current = self.category(id);
        while let Some(c) = current {
            if path.iter().any(|p: &&Category| p.id == c.id) {
                break;
            }
            path.push(c);
            current = c.parent_id.as_deref().and_then(|p| self.category(p));
        }
        path.reverse();
        path
    }

    fn node(&self, c: &Category) -> CategoryNode {
        CategoryNode {
            id: c.id.clone(),
            handle: c.handle.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            seo: c.seo.clone(),
            children: self
                .children(Some(&c.id))
                .into_iter()
                .map(|k| self.node(k))
                .collect(),
        }
    }

    /// The whole tree, roots first, each level by position.
    pub fn tree(&self) -> Vec<CategoryNode> {
        self.children(None)
            .into_iter()
            .map(|c| self.node(c))
            .collect()
    }

    pub fn subtree_node(&self, id: &str) -> Option<CategoryNode> {
        self.category(id).map(|c| self.node(c))
    }
}

pub struct Cache {
    entries: TtlCache<String, Arc<Taxonomy>>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            entries: TtlCache::new(TTL_MS, 10_000),
        }
    }
}

/// The taxonomy as recently read (one query on a miss).
pub async fn cached(app: &App, tenant: &TenantId) -> Result<Arc<Taxonomy>, ApiError> {
    let now = app.clock.epoch_millis();
    if let Some(found) = app.cache::<Cache>().entries.get(&tenant.to_string(), now) {
        return Ok(found);
    }
    let fresh = Arc::new(read(app, tenant).await?);
    app.cache::<Cache>()
        .entries
        .put(tenant.to_string(), now, fresh.clone());
    Ok(fresh)
}

/// The taxonomy as stored now (for changes, which must start from the latest).
pub async fn read(app: &App, tenant: &TenantId) -> Result<Taxonomy, ApiError> {
    let (categories, attributes, version) = store::taxonomy(app.table.as_ref(), tenant).await?;
    Ok(Taxonomy {
        categories,
        attributes,
        version,
    })
}

/// Writes a change to the taxonomy with the version bump that serialises it, then forgets this
/// container's copy. A concurrent change makes it answer 409 (retry).
async fn commit(
    app: &App,
    tenant: &TenantId,
    taxonomy: &Taxonomy,
    mut ops: Vec<TxOp>,
    guard_index: Option<usize>,
    guard_error: impl Fn() -> ApiError,
) -> Result<(), ApiError> {
    ops.insert(0, store::taxonomy_bump(tenant, taxonomy.version));
    let result = app.table.transact(ops).await;
    app.cache::<Cache>().entries.invalidate(&tenant.to_string());
    match result {
        Ok(()) => Ok(()),
        Err(e) if guard_index.is_some_and(|i| e.failed_at(i + 1)) => Err(guard_error()),
        Err(e) if e.failed_at(0) => Err(changed_meanwhile()),
        Err(StoreError::TransactionCancelled { .. }) => Err(ApiError::precondition_failed()),
        Err(StoreError::Conflict) => Err(changed_meanwhile()),
        Err(e) => Err(e.into()),
    }
}

fn changed_meanwhile() -> ApiError {
    ApiError::new(
        HttpCode::Conflict,
        "the categories or attributes changed meanwhile; retry",
    )
}

fn check_seo(errors: &mut Errors, seo: &Seo) {
    if seo.title.as_ref().is_some_and(|t| t.chars().count() > 120) {
        errors.push(FieldError::new(
            "seo.title",
            "too_long",
            "use at most 120 characters",
        ));
    }
    if seo
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
}

pub fn check_handle(errors: &mut Errors, field: &str, handle: &str) {
    let ok = !handle.is_empty()
        && handle.len() <= 100
        && !handle.starts_with('-')
        && !handle.ends_with('-')
        && handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        errors.push(FieldError::new(
            field,
            "invalid",
            "lower-case letters, digits and hyphens, at most 100",
        ));
    }
}

// Categories -------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub title: String,
    /// Generated from the title when absent.
    pub handle: Option<String>,
    #[serde(default)]
    pub description: String,
    pub parent_id: Option<String>,
    #[serde(default)]
    pub position: u32,
    #[serde(default)]
    pub seo: Seo,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryChange {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    /// `null` moves the category to the top level.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
    pub position: Option<u32>,
    pub seo: Option<Seo>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

fn check_category(errors: &mut Errors, taxonomy: &Taxonomy, c: &Category) {
    errors.check(validate::text("title", &c.title, 200));
    check_handle(errors, "handle", &c.handle);
    if c.description.chars().count() > 10_000 {
        errors.push(FieldError::new(
            "description",
            "too_long",
            "use at most 10,000 characters",
        ));
    }
    check_seo(errors, &c.seo);
    if let Some(parent) = &c.parent_id {
        if taxonomy.category(parent).is_none() {
            errors.push(FieldError::new(
                "parent_id",
                "unknown_category",
                "no such category",
            ));
        } else if taxonomy.path(parent).iter().any(|p| p.id == c.id) {
            errors.push(FieldError::new(
                "parent_id",
                "cycle",
                "a category cannot move below itself",
            ));
        }
    }
}

fn handle_taken() -> ApiError {
    ApiError::new(CatalogCode::HandleTaken, "another category has this handle")
}

fn category_event(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    kind: super::events::CatalogEvent,
    c: &Category,
) -> TxOp {
    event(app, tenant, kind, Some(actor), json!({"category": c}))
}

pub async fn create_category(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewCategory,
) -> Result<Category, ApiError> {
    let taxonomy = read(app, tenant).await?;
    let now = rfc3339(app.clock.now());
    let handle = input
        .handle
        .clone()
        .unwrap_or_else(|| super::text::slugify(&input.title));
    let category = Category {
        id: app.ids.new_id("cat"),
        handle,
        title: input.title.trim().to_owned(),
        description: input.description,
        parent_id: input.parent_id,
        position: input.position,
        seo: input.seo,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let mut errors = Errors::new();
    check_category(&mut errors, &taxonomy, &category);
    errors.finish()?;
    if taxonomy.categories.len() >= MAX_CATEGORIES {
        return Err(ApiError::new(
            CatalogCode::TooManyCategories,
            format!("a company keeps at most {MAX_CATEGORIES} categories"),
        ));
    }
    let ops = vec![
        store::category_put(tenant, &category, 0),
        store::guard_put(
            store::category_handle_key(tenant, &category.handle),
            "category_handle",
            &[("category_id", &category.id)],
        ),
        category_event(
            app,
            tenant,
            actor,
            crate::catalog::events::CatalogEvent::CategoryCreated,
            &category,
        ),
    ];
    commit(app, tenant, &taxonomy, ops, Some(1), handle_taken).await?;
    Ok(category)
}

pub async fn change_category(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: CategoryChange,
    if_match: Option<u64>,
) -> Result<Category, ApiError> {
    let taxonomy = read(app, tenant).await?;
    let before = taxonomy
        .category(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("category"))?;
    if if_match.is_some_and(|v| v != before.version) {
        return Err(ApiError::precondition_failed());
    }
    let mut after = before.clone();
    if let Some(v) = input.title {
        after.title = v.trim().to_owned();
    }
    if let Some(v) = input.handle {
        after.handle = v;
    }
    if let Some(v) = input.description {
        after.description = v;
    }
    if let Some(v) = input.parent_id {
        after.parent_id = v;
    }
    if let Some(v) = input.position {
        after.position = v;
    }
    if let Some(v) = input.seo {
        after.seo = v;
    }
    let mut errors = Errors::new();
    check_category(&mut errors, &taxonomy, &after);
    errors.finish()?;
    after.version += 1;
    after.updated_at = rfc3339(app.clock.now());
    let mut ops = vec![store::category_put(tenant, &after, before.version)];
    let mut guard = None;
    if after.handle != before.handle {
        guard = Some(ops.len());
        ops.push(store::guard_put(
            store::category_handle_key(tenant, &after.handle),
            "category_handle",
            &[("category_id", &after.id)],
        ));
        ops.push(store::delete(store::category_handle_key(
            tenant,
            &before.handle,
        )));
    }
    ops.push(category_event(
        app,
        tenant,
        actor,
        crate::catalog::events::CatalogEvent::CategoryUpdated,
        &after,
    ));
    commit(app, tenant, &taxonomy, ops, guard, handle_taken).await?;
    Ok(after)
}

/// Deletes a category; one with children only with `cascade`, which deletes its whole subtree.
pub async fn delete_category(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    cascade: bool,
    if_match: Option<u64>,
) -> Result<(), ApiError> {
    let taxonomy = read(app, tenant).await?;
    let category = taxonomy
        .category(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("category"))?;
    if if_match.is_some_and(|v| v != category.version) {
        return Err(ApiError::precondition_failed());
    }
    let subtree = taxonomy.subtree(id);
    if subtree.len() > 1 && !cascade {
        return Err(ApiError::new(
            CatalogCode::CategoryHasChildren,
            "this category has children; move them, or delete with ?cascade=true",
        ));
    }
    if subtree.len() > MAX_CASCADE {
        return Err(ApiError::new(
            CatalogCode::SubtreeTooLarge,
            format!("delete at most {MAX_CASCADE} categories at once; delete deeper ones first"),
        ));
    }
    let mut ops = Vec::new();
    let mut deleted = Vec::new();
    for c in taxonomy
        .categories
        .iter()
        .filter(|c| subtree.contains(&c.id))
    {
        ops.push(TxOp::Delete {
            key: store::category_key(tenant, &c.id),
            condition: Some(crate::store::Condition::VersionIs(c.version)),
        });
        ops.push(store::delete(store::category_handle_key(tenant, &c.handle)));
        deleted.push(&c.id);
    }
    ops.push(event(
        app,
        tenant,
        crate::catalog::events::CatalogEvent::CategoryDeleted,
        Some(actor),
        json!({"category": category, "deleted_ids": deleted}),
    ));
    commit(app, tenant, &taxonomy, ops, None, handle_taken).await
}

// Attribute definitions --------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttribute {
    /// Lower-case letters, digits and underscores, e.g. `material`.
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// The allowed values of a `select` attribute.
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    pub filterable: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeChange {
    pub label: Option<String>,
    pub values: Option<Vec<String>>,
    pub visible: Option<bool>,
    pub filterable: Option<bool>,
}

fn check_attribute(errors: &mut Errors, a: &AttributeDefinition) {
    let key_ok = !a.key.is_empty()
        && a.key.len() <= 50
        && a.key.starts_with(|c: char| c.is_ascii_lowercase())
        && a.key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !key_ok {
        errors.push(FieldError::new(
            "key",
            "invalid",
            "lower-case letters, digits and underscores, starting with a letter, at most 50",
        ));
    }
    errors.check(validate::text("label", &a.label, 100));
    match a.kind {
        AttributeType::Select => {
            if a.values.is_empty() || a.values.len() > 100 {
                errors.push(FieldError::new(
                    "values",
                    "invalid",
                    "a select attribute lists 1 to 100 values",
                ));
            }
            for (i, v) in a.values.iter().enumerate() {
                errors.check(validate::text(&format!("values[{i}]"), v, 100));
            }
            let unique: HashSet<&String> = a.values.iter().collect();
            if unique.len() != a.values.len() {
                errors.push(FieldError::new("values", "duplicate", "values must differ"));
            }
        }
        _ if !a.values.is_empty() => errors.push(FieldError::new(
            "values",
            "not_applicable",
            "only select attributes list values",
        )),
        _ => {}
    }
}

fn key_taken() -> ApiError {
    ApiError::new(CatalogCode::KeyTaken, "another attribute has this key")
}

fn attribute_event(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    kind: super::events::CatalogEvent,
    a: &AttributeDefinition,
) -> TxOp {
    event(app, tenant, kind, Some(actor), json!({"attribute": a}))
}

pub async fn create_attribute(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewAttribute,
) -> Result<AttributeDefinition, ApiError> {
    let now = rfc3339(app.clock.now());
    let definition = AttributeDefinition {
        id: app.ids.new_id("attr"),
        key: input.key,
        label: input.label.trim().to_owned(),
        kind: input.kind,
        values: input.values,
        visible: input.visible,
        filterable: input.filterable,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let mut errors = Errors::new();
    check_attribute(&mut errors, &definition);
    errors.finish()?;
    let taxonomy = read(app, tenant).await?;
    if taxonomy.attributes.len() >= MAX_ATTRIBUTES {
        return Err(ApiError::new(
            CatalogCode::TooManyAttributes,
            format!("a company defines at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    let ops = vec![
        store::attribute_put(tenant, &definition, 0),
        store::guard_put(
            store::attribute_key_guard(tenant, &definition.key),
            "attribute_key",
            &[("attribute_id", &definition.id)],
        ),
        attribute_event(
            app,
            tenant,
            actor,
            crate::catalog::events::CatalogEvent::AttributeCreated,
            &definition,
        ),
    ];
    commit(app, tenant, &taxonomy, ops, Some(1), key_taken).await?;
    Ok(definition)
}

pub async fn change_attribute(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: AttributeChange,
    if_match: Option<u64>,
) -> Result<AttributeDefinition, ApiError> {
    let taxonomy = read(app, tenant).await?;
    let before = taxonomy
        .attributes
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("attribute"))?;
    if if_match.is_some_and(|v| v != before.version) {
        return Err(ApiError::precondition_failed());
    }
    let mut after = before.clone();
    if let Some(v) = input.label {
        after.label = v.trim().to_owned();
    }
    if let Some(v) = input.values {
        after.values = v;
    }
    if let Some(v) = input.visible {
        after.visible = v;
    }
    if let Some(v) = input.filterable {
        after.filterable = v;
    }
    let mut errors = Errors::new();
    check_attribute(&mut errors, &after);
    errors.finish()?;
    after.version += 1;
    after.updated_at = rfc3339(app.clock.now());
    let ops = vec![
        store::attribute_put(tenant, &after, before.version),
        attribute_event(
            app,
            tenant,
            actor,
            crate::catalog::events::CatalogEvent::AttributeUpdated,
            &after,
        ),
    ];
    commit(app, tenant, &taxonomy, ops, None, key_taken).await?;
    Ok(after)
}

/// Deletes a definition; products keep their values, which no longer show anywhere.
pub async fn delete_attribute(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<(), ApiError> {
    let taxonomy = read(app, tenant).await?;
    let definition = taxonomy
        .attributes
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("attribute"))?;
    if if_match.is_some_and(|v| v != definition.version) {
        return Err(ApiError::precondition_failed());
    }
    let ops = vec![
        TxOp::Delete {
            key: store::attribute_key(tenant, id),
            condition: Some(crate::store::Condition::VersionIs(definition.version)),
        },
        store::delete(store::attribute_key_guard(tenant, &definition.key)),
        attribute_event(
            app,
            tenant,
            actor,
            crate::catalog::events::CatalogEvent::AttributeDeleted,
            &definition,
        ),
    ];
    commit(app, tenant, &taxonomy, ops, None, key_taken).await
}

/// Checks a product's attribute values against the definitions.
pub fn check_values(
    errors: &mut Errors,
    taxonomy: &Taxonomy,
    values: &std::collections::BTreeMap<String, Value>,
) {
    for (key, value) in values {
        let field = format!("attributes.{key}");
        let Some(definition) = taxonomy.attribute(key) else {
            errors.push(FieldError::new(
                field,
                "unknown_attribute",
                "define the attribute first",
            ));
            continue;
        };
        let ok = match definition.kind {
            AttributeType::Text => value.as_str().is_some_and(|s| s.chars().count() <= 500),
            AttributeType::Number => value.is_number(),
            AttributeType::Boolean => value.is_boolean(),
            AttributeType::Select => value
                .as_str()
                .is_some_and(|s| definition.values.iter().any(|v| v == s)),
        };
        if !ok {
            errors.push(FieldError::new(
                field,
                "invalid",
                match definition.kind {
                    AttributeType::Text => "text of at most 500 characters".to_owned(),
                    AttributeType::Number => "a number".to_owned(),
                    AttributeType::Boolean => "true or false".to_owned(),
                    AttributeType::Select => format!("one of {:?}", definition.values),
                },
            ));
        }
    }
}
