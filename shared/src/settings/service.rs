//! Reading and changing settings groups.

use super::errors::SettingsError;
use super::groups::{Group, SettingsGroup};
use super::secrets;
use super::store::{self, Change, FieldChange, StoredGroup};
use crate::app::App;
use crate::auth::TenantId;
use crate::clock::rfc3339;
use crate::events::{outbox_put, DomainEvent};
use crate::store::StoreError;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// A group as the API shows it: every field (defaults filled in), secrets masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    pub group: String,
    /// 0 until the group is first saved.
    pub version: u64,
    #[schema(value_type = super::groups::GroupValues)]
    pub values: Value,
    pub updated_at: Option<String>,
    /// The ETag of this version, for If-Match.
    pub etag: String,
}

/// RFC 7396 JSON merge patch: objects merge, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (name, value) in patch {
        if value.is_null() {
            target.remove(name);
        } else {
            merge_patch(target.entry(name.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Lays stored values over defaults: objects merge, anything else (explicit nulls included)
/// replaces.
fn overlay(target: &mut Value, source: &Value) {
    match (target, source) {
        (Value::Object(target), Value::Object(source)) => {
            for (name, value) in source {
                match target.get_mut(name) {
                    Some(existing) => overlay(existing, value),
                    None => {
                        target.insert(name.clone(), value.clone());
                    }
                }
            }
        }
        (target, source) => *target = source.clone(),
    }
}

/// The stored values over the group's defaults (fields added since the group was saved appear
/// with their defaults).
fn view(group: Group, stored: Option<&StoredGroup>) -> GroupView {
    let mut values = group.defaults();
    if let Some(stored) = stored {
        overlay(&mut values, &Value::Object(stored.values.clone()));
    }
    GroupView {
        group: group.name().into(),
        version: stored.map_or(0, |s| s.version),
        values,
        updated_at: stored.map(|s| s.updated_at.clone()),
        etag: crate::http::etag(stored.map_or(0, |s| s.version)),
    }
}

pub async fn read_all(app: &App, tenant: &TenantId) -> Result<Vec<GroupView>, SettingsError> {
    let saved = store::all(app.table.as_ref(), tenant).await?;
    Ok(Group::ALL
        .into_iter()
        .map(|g| view(g, saved.iter().find(|s| s.group == g.name())))
        .collect())
}

pub async fn read(app: &App, tenant: &TenantId, group: Group) -> Result<GroupView, SettingsError> {
    let saved = store::get(app.table.as_ref(), tenant, group.name()).await?;
    Ok(view(group, saved.as_ref()))
}

fn now_ms(app: &App) -> i64 {
    (app.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A group's values as its typed struct, for the modules that act on settings; read through the
/// per-container cache (see [`super::cache`] for how stale it may be).
pub async fn typed<T: SettingsGroup>(app: &App, tenant: &TenantId) -> Result<T, SettingsError> {
    let values = cached_values(app, tenant, &[T::GROUP]).await?.remove(0);
    parse(T::GROUP, values)
}

fn parse<T: serde::de::DeserializeOwned>(group: Group, values: Value) -> Result<T, SettingsError> {
    serde_json::from_value(values).map_err(|e| {
        tracing::error!(error = %e, group = group.name(), "stored settings do not parse");
        SettingsError::Unreadable {
            group: group.name(),
        }
    })
}

fn pointer_mut<'a>(value: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    value.pointer_mut(&format!("/{}", path.replace('.', "/")))
}

/// Takes the secret fields out of a patch: encrypts new values into `secrets` and writes their
/// masked form into `values`. A secret left out of the patch keeps its value.
fn apply_secrets(
    app: &App,
    tenant: &TenantId,
    group: Group,
    patch: &mut Value,
    values: &mut Value,
    secrets_map: &mut Map<String, Value>,
) -> Result<(), SettingsError> {
    for path in group.secrets() {
        let (parent, field) = path.rsplit_once('.').unwrap_or(("", path));
        let container = if parent.is_empty() {
            Some(&mut *patch)
        } else {
            pointer_mut(patch, parent)
        };
        let Some(Value::Object(container)) = container else {
            continue;
        };
        let Some(given) = container.remove(field) else {
            continue;
        };
        let masked = match given {
            Value::Null => {
                secrets_map.remove(*path);
                json!({"configured": false, "last4": null})
            }
            Value::String(secret)
                if !secret.is_empty()
                    && secret.len() <= 500
                    && !secret.chars().any(char::is_control) =>
            {
                secrets_map.insert(
                    (*path).to_owned(),
                    secrets::encrypt(app, tenant, group.name(), path, &secret)?.into(),
                );
                json!({"configured": true, "last4": secrets::last4(&secret)})
            }
            _ => {
                return Err(SettingsError::field(
                    path,
                    "a secret is a string of 1 to 500 characters, or null to remove it",
                ))
            }
        };
        set_path(values, path, masked);
    }
    Ok(())
}

/// Sets the value at a dotted path, creating objects on the way.
fn set_path(target: &mut Value, path: &str, value: Value) {
    let mut here = target;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !here.is_object() {
            *here = Value::Object(Map::new());
        }
        let map = here.as_object_mut().expect("made an object above");
        if parts.peek().is_none() {
            map.insert(part.to_owned(), value);
            return;
        }
        here = map.entry(part.to_owned()).or_insert(Value::Null);
    }
}

/// Objects that history shows whole: empty ones, and masked secrets.
fn is_leaf(map: &Map<String, Value>) -> bool {
    map.is_empty() || (map.contains_key("configured") && map.contains_key("last4"))
}

/// Every leaf of a JSON value by dotted path (arrays are leaves).
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if !is_leaf(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, v, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten("", before, &mut a);
    flatten("", after, &mut b);
    let mut fields: Vec<&String> = a.iter().chain(b.iter()).map(|(p, _)| p).collect();
    fields.sort();
    fields.dedup();
    let find = |list: &[(String, Value)], field: &str| {
        list.iter()
            .find(|(p, _)| p == field)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    };
    fields
        .into_iter()
        .filter_map(|field| {
            let (old, new) = (find(&a, field), find(&b, field));
            (old != new).then(|| FieldChange {
                field: field.clone(),
                before: old,
                after: new,
            })
        })
        .collect()
}

/// Applies a JSON merge patch to a group. With `if_match`, only over that version (412 if stale);
/// without it, a concurrent change is re-read and the patch applied again, so no update is lost.
pub async fn patch(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    group: Group,
    patch: Value,
    if_match: Option<u64>,
) -> Result<GroupView, SettingsError> {
    if !patch.is_object() {
        return Err(SettingsError::field(
            "",
            "the body is a JSON object of fields to change",
        ));
    }
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let stored = store::get(app.table.as_ref(), tenant, group.name()).await?;
        let current = view(group, stored.as_ref());
        if if_match.is_some_and(|v| v != current.version) {
            return Err(SettingsError::Stale);
        }
        let mut secrets_map = stored
            .as_ref()
            .map(|s| s.secrets.clone())
            .unwrap_or_default();
        let mut values = current.values.clone();
        let mut patch = patch.clone();
        apply_secrets(
            app,
            tenant,
            group,
            &mut patch,
            &mut values,
            &mut secrets_map,
        )?;
        merge_patch(&mut values, &patch);
        // A secret whose field was reset (e.g. `{"stripe": null}`) is dropped, not kept hidden.
        secrets_map.retain(|path, _| {
            values.pointer(&format!("/{}/configured", path.replace('.', "/")))
                == Some(&Value::Bool(true))
        });
        group.check(&values).map_err(SettingsError::Invalid)?;
        let mut changes = diff(&current.values, &values);
        let before_secrets = stored
            .as_ref()
            .map(|s| s.secrets.clone())
            .unwrap_or_default();
        for path in group.secrets() {
            // A replaced secret may mask the same way as the old one: still a change.
            let (old, new) = (before_secrets.get(*path), secrets_map.get(*path));
            if old != new && !changes.iter().any(|c| c.field == *path) {
                let masked = values
                    .pointer(&format!("/{}", path.replace('.', "/")))
                    .cloned()
                    .unwrap_or(Value::Null);
                changes.push(FieldChange {
                    field: (*path).to_owned(),
                    before: masked.clone(),
                    after: masked,
                });
            }
        }
        if changes.is_empty() {
            return Ok(current);
        }
        let now = rfc3339(app.clock.now());
        let version = current.version + 1;
        let saved = StoredGroup {
            group: group.name().into(),
            values: values.as_object().cloned().unwrap_or_default(),
            secrets: secrets_map,
            version,
            updated_at: now.clone(),
            updated_by: actor.into(),
        };
        let change = Change {
            id: app.ids.new_id("chg"),
            group: group.name().into(),
            version,
            changed_at: now,
            changed_by: actor.into(),
            changes,
        };
        let event = DomainEvent::new(
            app,
            tenant,
            crate::settings::events::SettingsEvent::Updated,
            Some(actor.into()),
            json!({"group": group.name(), "version": version, "changes": change.changes}),
        );
        let mut ops = store::save_ops(tenant, &saved, current.version, &change);
        ops.push(outbox_put(&event, app.clock.epoch_seconds()));
        match app.table.transact(ops).await {
            Ok(()) => {
                app.cache::<super::cache::Cache>()
                    .invalidate(tenant.as_str(), group.name());
                return Ok(view(group, Some(&saved)));
            }
            Err(e) if e.failed_at(0) || matches!(e, StoreError::Conflict) => {
                if if_match.is_some() {
                    return Err(SettingsError::Stale);
                }
                // Someone saved the group meanwhile: apply the patch to what they saved.
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(SettingsError::KeepsChanging)
}

/// The values of several groups with at most one store call: from the cache when every one is
/// there, else one group read (one group asked) or one query of all groups (several).
async fn cached_values(
    app: &App,
    tenant: &TenantId,
    groups: &[Group],
) -> Result<Vec<Value>, SettingsError> {
    let now = now_ms(app);
    let cached: Vec<Option<Value>> = groups
        .iter()
        .map(|g| {
            app.cache::<super::cache::Cache>()
                .get(tenant.as_str(), g.name(), now)
        })
        .collect();
    if cached.iter().all(Option::is_some) {
        return Ok(cached.into_iter().flatten().collect());
    }
    let fresh = if let [group] = groups {
        vec![read(app, tenant, *group).await?]
    } else {
        read_all(app, tenant).await?
    };
    for view in &fresh {
        if let Some(group) = Group::parse(&view.group) {
            app.cache::<super::cache::Cache>().put(
                tenant.as_str(),
                group.name(),
                now,
                view.values.clone(),
            );
        }
    }
    Ok(groups
        .iter()
        .map(|g| {
            fresh
                .iter()
                .find(|v| v.group == g.name())
                .map(|v| v.values.clone())
                .unwrap_or_else(|| g.defaults())
        })
        .collect())
}

/// The security settings that sign-in and passwords follow. Read fresh (one store call), not
/// from the cache: a stricter policy or a shorter token lifetime applies to the very next request,
/// whichever function serves it.
pub async fn security(
    app: &App,
    tenant: &TenantId,
) -> Result<super::groups::Security, SettingsError> {
    fresh(app, tenant).await
}

/// A group's values read from the table (one store call), bypassing the cache.
pub async fn fresh<T: SettingsGroup>(app: &App, tenant: &TenantId) -> Result<T, SettingsError> {
    parse(T::GROUP, read(app, tenant, T::GROUP).await?.values)
}

/// The general settings a new company starts from: the name, currency and time zone it gave at
/// sign-up (every other group keeps its defaults until first saved). Written with the company.
pub fn seed_ops(
    app: &App,
    tenant: &TenantId,
    company: &crate::companies::model::Company,
    actor: &str,
) -> Vec<crate::store::TxOp> {
    let general = super::groups::General {
        store_name: company.name.clone(),
        default_currency: company.currency.clone(),
        supported_currencies: vec![company.currency.clone()],
        timezone: company.timezone.clone(),
        ..Default::default()
    };
    let values = serde_json::to_value(&general).expect("settings serialise");
    let now = rfc3339(app.clock.now());
    let change = Change {
        id: app.ids.new_id("chg"),
        group: Group::General.name().to_owned(),
        version: 1,
        changed_at: now.clone(),
        changed_by: actor.to_owned(),
        changes: diff(&Group::General.defaults(), &values),
    };
    let saved = StoredGroup {
        group: Group::General.name().to_owned(),
        values: match values {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        secrets: Map::new(),
        version: 1,
        updated_at: now,
        updated_by: actor.to_owned(),
    };
    store::save_ops(tenant, &saved, 0, &change)
}

/// What a storefront may know of the company's settings (served by the storefront API).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StorefrontInfo {
    pub name: String,
    pub default_currency: String,
    pub currencies: Vec<String>,
    pub default_locale: String,
    pub locales: Vec<String>,
    pub weight_unit: String,
    pub dimension_unit: String,
    pub guest_checkout: bool,
    pub prices_include_tax: bool,
}

pub async fn storefront_info(
    app: &App,
    tenant: &TenantId,
) -> Result<StorefrontInfo, SettingsError> {
    let values = cached_values(app, tenant, &[Group::General, Group::Checkout, Group::Tax]).await?;
    let [general, checkout, tax]: [Value; 3] =
        values.try_into().map_err(|_| SettingsError::Unreadable {
            group: "storefront",
        })?;
    let general: super::groups::General = parse(Group::General, general)?;
    let checkout: super::groups::Checkout = parse(Group::Checkout, checkout)?;
    let tax: super::groups::Tax = parse(Group::Tax, tax)?;
    Ok(StorefrontInfo {
        name: general.store_name,
        default_currency: general.default_currency,
        currencies: general.supported_currencies,
        default_locale: general.default_locale,
        locales: general.supported_locales,
        weight_unit: general.weight_unit,
        dimension_unit: general.dimension_unit,
        guest_checkout: checkout.guest_checkout,
        prices_include_tax: tax.prices_include_tax,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [1, 2]});
        merge_patch(&mut target, &json!({"a": [3]}));
        assert_eq!(target, json!({"a": [3]}));
    }

    #[test]
    fn diff_names_changed_leaves() {
        let changes = diff(
            &json!({"a": 1, "b": {"c": 2, "d": 3}}),
            &json!({"a": 1, "b": {"c": 5, "d": 3}}),
        );
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "b.c");
        assert_eq!(changes[0].after, json!(5));
    }
}
