//! Product fields.

use super::*;

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

pub(super) fn optional_text(errors: &mut Errors, field: &str, value: &Option<String>, max: usize) {
    if let Some(v) = value {
        errors.check(validate::text(field, v, max));
    }
}

/// Checks a product; category ids and attribute values it had `before` are not checked again (a
/// category or attribute deleted since then must not block unrelated edits).
pub(super) fn check_product(
    errors: &mut Errors,
    context: &Context,
    p: &Product,
    before: Option<&Product>,
) {
    errors.check(validate::text("title", &p.title, 255));
    taxonomy::check_handle(errors, "handle", &p.handle);
    if p.description.len() > MAX_DESCRIPTION {
        errors.push(FieldError::new(
            "description",
            "too_long",
            format!("use at most {MAX_DESCRIPTION} bytes"),
        ));
    } else if p.description_html.len() > MAX_DESCRIPTION_HTML {
        errors.push(FieldError::new(
            "description",
            "too_long",
            format!("renders to more than {MAX_DESCRIPTION_HTML} bytes of HTML; shorten it"),
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

pub(super) fn tidy(mut p: Product) -> Product {
    p.title = p.title.trim().to_owned();
    p.description_html =
        crate::catalog::text::render_description(&p.description, p.description_format);
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

pub(super) fn product_event(p: &Product) -> Value {
    json!({"product_id": p.id, "handle": p.handle, "status": p.status, "version": p.version + 1})
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewProduct,
) -> Result<Product, ProductError> {
    let context = Context::load(app, tenant).await?;
    let now = context.now.clone();
    let handle = input
        .handle
        .clone()
        .unwrap_or_else(|| crate::catalog::text::slugify(&input.title));
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
        id: ProductId::generate(app.ids.as_ref()),
        handle,
        title: input.title,
        description: input.description,
        description_format: input.description_format,
        description_html: String::new(),
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
    errors.into_result()?;
    let events: Events = vec![(
        crate::catalog::events::CatalogEvent::ProductCreated,
        json!({"product": product}),
    )];
    match save(app, tenant, &context, actor, None, &product, &events, &[]).await {
        Ok(()) => Ok(product),
        Err(SaveError::Refused(e)) => Err(e),
        Err(SaveError::Stale) | Err(SaveError::Raced) | Err(SaveError::Sku(..)) => {
            Err(ProductError::CreateRaced)
        }
    }
}

pub async fn update(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &ProductId,
    input: ProductChange,
    if_match: Option<u64>,
) -> Result<Product, ProductError> {
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
        errors.into_result()?;
        // A change that changes nothing writes nothing (no version, no event).
        let events = if p == *before {
            Vec::new()
        } else {
            vec![(
                crate::catalog::events::CatalogEvent::ProductUpdated,
                product_event(before),
            )]
        };
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
    id: &ProductId,
    if_match: Option<u64>,
) -> Result<(), ProductError> {
    let (read, _) = store::product_stock(app.table.as_ref(), tenant, id)
        .await?
        .ok_or_else(not_found)?;
    let product = read.product;
    if if_match.is_some_and(|v| v != product.version) {
        return Err(ProductError::Stale);
    }
    let summary = Summary::of(&product);
    let mut ops = vec![store::product_delete(tenant, &product)];
    ops.extend(store::entry_ops(tenant, Some(&summary), None));
    // Out of every category and collection listing; the placements go with the product, so no
    // collection holds it any more.
    ops.extend(super::shelf_ops(
        tenant,
        &read.placements.written,
        Some(&summary),
        &[],
        &summary,
    ));
    ops.push(store::placements_delete(
        tenant,
        &product.id,
        read.placements.version,
    ));
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
        Err(e) if e.failed_at(0) => return Err(ProductError::Stale),
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
