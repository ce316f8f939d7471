//! Attribute definitions.

use super::*;

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

pub(super) fn yes() -> bool {
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

pub(super) fn check_attribute(errors: &mut Errors, a: &AttributeDefinition) {
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

pub(super) fn key_taken() -> TaxonomyError {
    TaxonomyError::KeyTaken
}

pub(super) fn attribute_event(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    kind: crate::catalog::events::CatalogEvent,
    a: &AttributeDefinition,
) -> TxOp {
    event(app, tenant, kind, Some(actor), json!({"attribute": a}))
}

pub async fn create_attribute(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewAttribute,
) -> Result<AttributeDefinition, TaxonomyError> {
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
    errors.into_result().map_err(TaxonomyError::Invalid)?;
    let taxonomy = read(app, tenant).await?;
    if taxonomy.attributes.len() >= MAX_ATTRIBUTES {
        return Err(TaxonomyError::TooManyAttributes {
            max: MAX_ATTRIBUTES,
        });
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
) -> Result<AttributeDefinition, TaxonomyError> {
    let taxonomy = read(app, tenant).await?;
    let before = taxonomy
        .attributes
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or(TaxonomyError::NotFound("attribute"))?;
    if if_match.is_some_and(|v| v != before.version) {
        return Err(TaxonomyError::Stale);
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
    errors.into_result().map_err(TaxonomyError::Invalid)?;
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
) -> Result<(), TaxonomyError> {
    let taxonomy = read(app, tenant).await?;
    let definition = taxonomy
        .attributes
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or(TaxonomyError::NotFound("attribute"))?;
    if if_match.is_some_and(|v| v != definition.version) {
        return Err(TaxonomyError::Stale);
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
