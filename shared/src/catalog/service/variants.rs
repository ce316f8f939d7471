//! Variants.

use super::*;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVariant {
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub price: Option<Money>,
    pub compare_at_price: Option<Money>,
    pub cost: Option<Money>,
    pub weight: Option<f64>,
    /// A tax class; absent: the tax settings' default.
    pub tax_class: Option<String>,
    /// Option name → value, e.g. `{"Size": "S", "Colour": "Red"}`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    pub image_id: Option<String>,
    pub position: Option<u32>,
    /// Default true.
    pub track_inventory: Option<bool>,
    /// Default false.
    pub allow_backorder: Option<bool>,
    /// Default 0.
    pub safety_stock: Option<i64>,
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
    #[serde(default, deserialize_with = "taxonomy::double_option")]
    #[schema(value_type = Option<String>)]
    pub tax_class: Option<Option<String>>,
    pub options: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "taxonomy::double_option")]
    #[schema(value_type = Option<String>)]
    pub image_id: Option<Option<String>>,
    pub position: Option<u32>,
    pub track_inventory: Option<bool>,
    pub allow_backorder: Option<bool>,
    pub safety_stock: Option<i64>,
}

pub(super) fn check_money(errors: &mut Errors, field: &str, money: &Option<Money>, currency: &str) {
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

pub(super) fn check_variant(errors: &mut Errors, context: &Context, p: &Product, v: &Variant) {
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
    if let Some(class) = &v.tax_class {
        if !context.tax.knows_class(class) {
            errors.push(FieldError::new(
                "tax_class",
                "unknown_tax_class",
                "standard, reduced, zero, exempt, or one of the tax settings' custom_classes",
            ));
        }
    }
    if !(0..=crate::ids::MAX_STOCK_UNITS).contains(&v.safety_stock) {
        errors.push(FieldError::new(
            "safety_stock",
            "out_of_range",
            format!("from 0 to {}", crate::ids::MAX_STOCK_UNITS),
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

pub(super) fn tidy_variant(mut v: Variant) -> Variant {
    v.sku = v.sku.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    v.barcode = v
        .barcode
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    v
}

/// Puts a variant at a position and numbers the others around it.
pub(super) fn place(variants: &mut Vec<Variant>, id: &VariantId, position: Option<u32>) {
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

pub(super) fn variant_event(p: &Product, v: &Variant) -> Value {
    json!({"product_id": p.id, "variant": v})
}

pub async fn create_variant(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &ProductId,
    input: NewVariant,
    if_match: Option<u64>,
) -> Result<Variant, ProductError> {
    let variant_id = VariantId::generate(app.ids.as_ref());
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
            tax_class: input.tax_class.clone(),
            options: input.options.clone(),
            image_id: input.image_id.clone(),
            position: u32::MAX,
            track_inventory: input.track_inventory.unwrap_or(true),
            allow_backorder: input.allow_backorder.unwrap_or(false),
            safety_stock: input.safety_stock.unwrap_or(0),
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
        errors.into_result()?;
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
    id: &ProductId,
    variant_id: &VariantId,
    input: VariantChange,
    if_match: Option<u64>,
) -> Result<Variant, ProductError> {
    change(app, tenant, actor, id, None, |before, context| {
        let mut p = before.clone();
        let current = p
            .variants
            .iter()
            .find(|v| v.id == variant_id)
            .cloned()
            .ok_or(ProductError::NotFound("variant"))?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ProductError::Stale);
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
        if let Some(x) = &input.tax_class {
            v.tax_class = x.clone();
        }
        if let Some(x) = &input.options {
            v.options = x.clone();
        }
        if let Some(x) = &input.image_id {
            v.image_id = x.clone();
        }
        if let Some(x) = input.track_inventory {
            v.track_inventory = x;
        }
        if let Some(x) = input.allow_backorder {
            v.allow_backorder = x;
        }
        if let Some(x) = input.safety_stock {
            v.safety_stock = x;
        }
        let v = tidy_variant(v);
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
        errors.into_result()?;
        duplicate?;
        if p == *before {
            // Nothing changed: nothing is written, and the version stays.
            return Ok(Applied {
                events: Vec::new(),
                answer: current,
                product: p,
            });
        }
        let slot = p
            .variants
            .iter_mut()
            .find(|x| x.id == variant_id)
            .expect("kept");
        slot.version += 1;
        slot.updated_at = context.now.clone();
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
    id: &ProductId,
    variant_id: &VariantId,
    if_match: Option<u64>,
) -> Result<(), ProductError> {
    change(app, tenant, actor, id, None, |before, _| {
        let mut p = before.clone();
        let current = p
            .variants
            .iter()
            .find(|v| v.id == variant_id)
            .cloned()
            .ok_or(ProductError::NotFound("variant"))?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ProductError::Stale);
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
    id: &ProductId,
    if_match: Option<u64>,
) -> Result<Vec<Variant>, ProductError> {
    let ids: Vec<VariantId> = (0..MAX_VARIANTS)
        .map(|_| VariantId::generate(app.ids.as_ref()))
        .collect();
    change(app, tenant, actor, id, if_match, |before, context| {
        let mut p = before.clone();
        if p.options.is_empty() {
            return Err(ProductError::NoOptions);
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
                return Err(ProductError::TooManyCombinations { max: MAX_VARIANTS });
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
            return Err(ProductError::TooManyVariants { max: MAX_VARIANTS });
        }
        let mut created = Vec::new();
        for (options, id) in missing.into_iter().zip(&ids) {
            let variant = Variant::bare(id.clone(), options, p.variants.len() as u32, &context.now);
            created.push(variant.clone());
            p.variants.push(variant);
        }
        let mut errors = Errors::new();
        // Field errors first: a duplicate is only worth telling about once the fields are right.
        let duplicate = check_variants(&mut errors, &p);
        errors.into_result()?;
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
