//! The company's taxonomy: the category tree and the attribute definitions, read together in one
//! query and kept per container for [`TTL_MS`] (30 s). Changes made through a container are seen
//! by it at once and by every other container within that bound.

use super::model::{AttributeDefinition, AttributeType, Category, Seo};
use super::store;
use crate::app::App;
use crate::auth::TenantId;
use crate::catalog::errors::TaxonomyError;
use crate::clock::rfc3339;
use crate::events::event;
use crate::http::FieldError;
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
pub async fn cached(app: &App, tenant: &TenantId) -> Result<Arc<Taxonomy>, TaxonomyError> {
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
pub async fn read(app: &App, tenant: &TenantId) -> Result<Taxonomy, TaxonomyError> {
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
    guard_error: impl Fn() -> TaxonomyError,
) -> Result<(), TaxonomyError> {
    ops.insert(0, store::taxonomy_bump(tenant, taxonomy.version));
    let result = app.table.transact(ops).await;
    app.cache::<Cache>().entries.invalidate(&tenant.to_string());
    match result {
        Ok(()) => Ok(()),
        Err(e) if guard_index.is_some_and(|i| e.failed_at(i + 1)) => Err(guard_error()),
        Err(e) if e.failed_at(0) => Err(changed_meanwhile()),
        Err(StoreError::TransactionCancelled { .. }) => Err(TaxonomyError::Stale),
        Err(StoreError::Conflict) => Err(changed_meanwhile()),
        Err(e) => Err(e.into()),
    }
}

fn changed_meanwhile() -> TaxonomyError {
    TaxonomyError::ChangedMeanwhile
}

pub(crate) fn check_seo(errors: &mut Errors, seo: &Seo) {
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

mod categories;
pub use categories::*;
mod attributes;
pub use attributes::*;
