//! Categories.

use super::*;

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

pub use crate::validate::double_option;

pub(super) fn check_category(errors: &mut Errors, taxonomy: &Taxonomy, c: &Category) {
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

pub(super) fn handle_taken() -> TaxonomyError {
    TaxonomyError::HandleTaken
}

pub(super) fn category_event(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    kind: crate::catalog::events::CatalogEvent,
    c: &Category,
) -> TxOp {
    event(app, tenant, kind, Some(actor), json!({"category": c}))
}

pub async fn create_category(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewCategory,
) -> Result<Category, TaxonomyError> {
    let taxonomy = read(app, tenant).await?;
    let now = rfc3339(app.clock.now());
    let handle = input
        .handle
        .clone()
        .unwrap_or_else(|| crate::catalog::text::slugify(&input.title));
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
    errors.into_result().map_err(TaxonomyError::Invalid)?;
    if taxonomy.categories.len() >= MAX_CATEGORIES {
        return Err(TaxonomyError::TooManyCategories {
            max: MAX_CATEGORIES,
        });
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
) -> Result<Category, TaxonomyError> {
    let taxonomy = read(app, tenant).await?;
    let before = taxonomy
        .category(id)
        .cloned()
        .ok_or(TaxonomyError::NotFound("category"))?;
    if if_match.is_some_and(|v| v != before.version) {
        return Err(TaxonomyError::Stale);
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
    errors.into_result().map_err(TaxonomyError::Invalid)?;
    if after == before {
        // A change that changes nothing writes nothing.
        return Ok(before);
    }
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
    ops.push(event(
        app,
        tenant,
        crate::catalog::events::CatalogEvent::CategoryUpdated,
        Some(actor),
        json!({"category": after, "moved": after.parent_id != before.parent_id}),
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
) -> Result<(), TaxonomyError> {
    let taxonomy = read(app, tenant).await?;
    let category = taxonomy
        .category(id)
        .cloned()
        .ok_or(TaxonomyError::NotFound("category"))?;
    if if_match.is_some_and(|v| v != category.version) {
        return Err(TaxonomyError::Stale);
    }
    let subtree = taxonomy.subtree(id);
    if subtree.len() > 1 && !cascade {
        return Err(TaxonomyError::HasChildren);
    }
    if subtree.len() > MAX_CASCADE {
        return Err(TaxonomyError::SubtreeTooLarge { max: MAX_CASCADE });
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
