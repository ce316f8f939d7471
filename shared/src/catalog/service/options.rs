//! Options.

use super::*;

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

pub(super) fn check_options(errors: &mut Errors, options: &[ProductOption]) {
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
pub(super) fn check_variants(errors: &mut Errors, p: &Product) -> Result<(), ProductError> {
    if p.variants.len() > MAX_VARIANTS {
        return Err(ProductError::TooManyVariants { max: MAX_VARIANTS });
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
            return Err(ProductError::DuplicateCombination);
        }
    }
    Ok(())
}

pub async fn add_option(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &ProductId,
    input: NewOption,
    if_match: Option<u64>,
) -> Result<Product, ProductError> {
    let option_id = app.ids.new_id("opt");
    change(app, tenant, actor, id, if_match, |before, _| {
        let mut p = before.clone();
        if p.options.len() >= MAX_OPTIONS {
            return Err(ProductError::TooManyOptions { max: MAX_OPTIONS });
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
        errors.into_result()?;
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
    id: &ProductId,
    option_id: &str,
    input: OptionChange,
    if_match: Option<u64>,
) -> Result<Product, ProductError> {
    change(app, tenant, actor, id, if_match, |before, _| {
        let mut p = before.clone();
        let index = p
            .options
            .iter()
            .position(|o| o.id == option_id)
            .ok_or(ProductError::NotFound("option"))?;
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
                return Err(ProductError::ValueInUse(used.to_string()));
            }
            p.options[index].values = values;
        }
        let mut errors = Errors::new();
        check_options(&mut errors, &p.options);
        // Field errors first: a duplicate is only worth telling about once the fields are right.
        let duplicate = check_variants(&mut errors, &p);
        errors.into_result()?;
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
    id: &ProductId,
    option_id: &str,
    if_match: Option<u64>,
) -> Result<Product, ProductError> {
    change(app, tenant, actor, id, if_match, |before, _| {
        let mut p = before.clone();
        let index = p
            .options
            .iter()
            .position(|o| o.id == option_id)
            .ok_or(ProductError::NotFound("option"))?;
        let removed = p.options.remove(index);
        for v in &mut p.variants {
            v.options.remove(&removed.name);
        }
        let mut errors = Errors::new();
        check_variants(&mut errors, &p).map_err(|_| ProductError::VariantsWouldCollide)?;
        errors.into_result()?;
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
