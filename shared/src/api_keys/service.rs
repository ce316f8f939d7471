//! API key rules: creation, scope changes, rotation, revocation, and authenticating a request.

use super::cache::Resolved;
use super::errors::ApiKeyError;
use super::model::{scope_exists, ApiKey, KeyStatus, RevealedApiKey, StoredApiKey};
use super::store;
use crate::app::App;
use crate::auth::TenantId;
use crate::clock::rfc3339;
use crate::events::{outbox_put, DomainEvent};
use crate::http::{ApiRequest, FieldError};
use crate::store::{StoreError, TxOp};
use crate::validate::{self, Errors};
use rand::distributions::{Alphanumeric, DistString};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub const KEY_PREFIX: &str = "pk_";
/// Random characters after the prefix: 32 alphanumerics carry about 190 bits.
const SECRET_CHARS: usize = 32;
/// How often a key's last use is written, at most.
pub const LAST_USE_EVERY_SECS: i64 = 60;
/// Keys a company may hold, active or revoked.
pub const MAX_KEYS: usize = 100;

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    format!(
        "{KEY_PREFIX}{}",
        Alphanumeric.sample_string(&mut rand::rngs::OsRng, SECRET_CHARS)
    )
}

/// Whether text could be a key at all (checked before any lookup).
fn well_formed(secret: &str) -> bool {
    secret.strip_prefix(KEY_PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_CHARS && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

fn event(
    app: &App,
    tenant: &TenantId,
    kind: super::events::ApiKeyEvent,
    actor: &str,
    key: &ApiKey,
) -> TxOp {
    let event = DomainEvent::new(
        app,
        tenant,
        kind,
        Some(actor.to_owned()),
        json!({"api_key": key}),
    );
    outbox_put(&event, app.clock.epoch_seconds())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
    /// Scopes from `store.read`, `products.read`, `categories.read`, `customers.auth`,
    /// `customers.write`, `carts.write`, `checkout.write`.
    pub scopes: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyChange {
    pub name: Option<String>,
    pub scopes: Option<Vec<String>>,
}

fn check_scopes(errors: &mut Errors, scopes: &[String]) {
    if scopes.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            "required",
            "name at least one scope",
        ));
    }
    for (i, scope) in scopes.iter().enumerate() {
        if !scope_exists(scope) {
            errors.push(FieldError::new(
                format!("scopes[{i}]"),
                "unknown_scope",
                format!(
                    "`{}` is not a storefront scope",
                    scope.chars().take(60).collect::<String>()
                ),
            ));
        }
    }
}

/// The field errors found, as this module's error.
fn invalid_if_any(errors: Errors) -> Result<(), ApiKeyError> {
    errors
        .into_vec()
        .map_or(Ok(()), |e| Err(ApiKeyError::Invalid(e)))
}

fn normalized(scopes: Vec<String>) -> Vec<String> {
    let mut scopes = scopes;
    scopes.sort();
    scopes.dedup();
    scopes
}

fn masked(secret: &str) -> (String, String) {
    let prefix = secret.chars().take(KEY_PREFIX.len() + 4).collect();
    let last_four = secret[secret.len() - 4..].to_owned();
    (prefix, last_four)
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewApiKey,
) -> Result<RevealedApiKey, ApiKeyError> {
    let mut errors = Errors::new();
    errors.check(validate::text("name", &input.name, 100));
    check_scopes(&mut errors, &input.scopes);
    invalid_if_any(errors)?;
    let (existing, _) = store::page(app.table.as_ref(), tenant, MAX_KEYS as u32, None).await?;
    if existing.len() >= MAX_KEYS {
        return Err(ApiKeyError::TooManyKeys { max: MAX_KEYS });
    }
    let secret = new_secret();
    let (prefix, last_four) = masked(&secret);
    let now = rfc3339(app.clock.now());
    let stored = StoredApiKey {
        key: ApiKey {
            id: app.ids.new_id("key"),
            name: input.name.trim().to_owned(),
            scopes: normalized(input.scopes),
            prefix,
            last_four,
            status: KeyStatus::Active,
            created_by: actor.to_owned(),
            created_at: now.clone(),
            updated_at: now,
            rotated_at: None,
            revoked_at: None,
            last_used_at: None,
            version: 1,
        },
        hash: hash(&secret),
        last_used_epoch: 0,
    };
    let mut ops = store::create_ops(tenant, &stored);
    ops.push(event(
        app,
        tenant,
        crate::api_keys::events::ApiKeyEvent::Created,
        actor,
        &stored.key,
    ));
    app.table.transact(ops).await?;
    Ok(RevealedApiKey {
        key: stored.key,
        secret,
    })
}

pub async fn load(app: &App, tenant: &TenantId, id: &str) -> Result<StoredApiKey, ApiKeyError> {
    store::get(app.table.as_ref(), tenant, id)
        .await?
        .ok_or(ApiKeyError::NotFound)
}

fn check_version(stored: &StoredApiKey, if_match: Option<u64>) -> Result<(), ApiKeyError> {
    match if_match {
        Some(v) if v != stored.key.version => Err(ApiKeyError::Stale),
        _ => Ok(()),
    }
}

/// Writes a changed key (and its lookup change) from the version that was read.
async fn save(
    app: &App,
    tenant: &TenantId,
    before: &StoredApiKey,
    after: &StoredApiKey,
    lookup: Vec<TxOp>,
    kind: super::events::ApiKeyEvent,
    actor: &str,
) -> Result<(), ApiKeyError> {
    let mut ops = vec![store::replace_op(tenant, after, before.key.version)];
    ops.extend(lookup);
    ops.push(event(app, tenant, kind, actor, &after.key));
    match app.table.transact(ops).await {
        Ok(()) => {
            app.cache::<super::cache::Cache>().invalidate(&before.hash);
            Ok(())
        }
        Err(e) if e.failed_at(0) => Err(ApiKeyError::Stale),
        Err(StoreError::Conflict) => Err(ApiKeyError::Busy),
        Err(e) => Err(e.into()),
    }
}

pub async fn change(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: ApiKeyChange,
    if_match: Option<u64>,
) -> Result<ApiKey, ApiKeyError> {
    let before = load(app, tenant, id).await?;
    check_version(&before, if_match)?;
    let mut errors = Errors::new();
    if let Some(name) = &input.name {
        errors.check(validate::text("name", name, 100));
    }
    if let Some(scopes) = &input.scopes {
        check_scopes(&mut errors, scopes);
    }
    invalid_if_any(errors)?;
    if before.key.status == KeyStatus::Revoked {
        return Err(ApiKeyError::Revoked);
    }
    let mut after = before.clone();
    if let Some(name) = input.name {
        after.key.name = name.trim().to_owned();
    }
    let mut lookup = Vec::new();
    if let Some(scopes) = input.scopes {
        after.key.scopes = normalized(scopes);
        lookup.push(store::lookup_replace_op(tenant, &after));
    }
    after.key.version += 1;
    after.key.updated_at = rfc3339(app.clock.now());
    save(
        app,
        tenant,
        &before,
        &after,
        lookup,
        crate::api_keys::events::ApiKeyEvent::Updated,
        actor,
    )
    .await?;
    Ok(after.key)
}

/// Replaces the key's secret: the old secret stops working (within the cache bound).
pub async fn rotate(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<RevealedApiKey, ApiKeyError> {
    let before = load(app, tenant, id).await?;
    check_version(&before, if_match)?;
    if before.key.status == KeyStatus::Revoked {
        return Err(ApiKeyError::Revoked);
    }
    let secret = new_secret();
    let (prefix, last_four) = masked(&secret);
    let now = rfc3339(app.clock.now());
    let mut after = before.clone();
    after.hash = hash(&secret);
    after.key.prefix = prefix;
    after.key.last_four = last_four;
    after.key.rotated_at = Some(now.clone());
    after.key.updated_at = now;
    after.key.version += 1;
    let lookup = vec![
        store::lookup_delete_op(&before.hash),
        store::lookup_put_op(tenant, &after),
    ];
    save(
        app,
        tenant,
        &before,
        &after,
        lookup,
        crate::api_keys::events::ApiKeyEvent::Rotated,
        actor,
    )
    .await?;
    Ok(RevealedApiKey {
        key: after.key,
        secret,
    })
}

/// Revokes a key for good. The record stays (status `revoked`) for the audit trail.
pub async fn revoke(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<(), ApiKeyError> {
    let before = load(app, tenant, id).await?;
    check_version(&before, if_match)?;
    if before.key.status == KeyStatus::Revoked {
        return Ok(());
    }
    let now = rfc3339(app.clock.now());
    let mut after = before.clone();
    after.key.status = KeyStatus::Revoked;
    after.key.revoked_at = Some(now.clone());
    after.key.updated_at = now;
    after.key.version += 1;
    let lookup = vec![store::lookup_delete_op(&before.hash)];
    save(
        app,
        tenant,
        &before,
        &after,
        lookup,
        crate::api_keys::events::ApiKeyEvent::Revoked,
        actor,
    )
    .await
}

/// The key a storefront request names in `X-Api-Key`: 401 when missing, unknown, revoked or
/// rotated; 403 when it lacks the route's scope. Usually answered from the cache.
pub async fn authenticate(
    app: &App,
    req: &ApiRequest,
    scope: &str,
) -> Result<(TenantId, String), ApiKeyError> {
    let secret = req
        .header("x-api-key")
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(ApiKeyError::KeyRequired)?;
    if !well_formed(secret) {
        return Err(ApiKeyError::InvalidKey);
    }
    let digest = hash(secret);
    let now_ms = app.clock.epoch_millis();
    let resolved = match app.cache::<super::cache::Cache>().get(&digest, now_ms) {
        Some(answer) => answer,
        None => {
            let answer = store::resolve(app.table.as_ref(), &digest).await?;
            app.cache::<super::cache::Cache>()
                .put(&digest, now_ms, answer.clone());
            answer
        }
    };
    let Resolved {
        tenant,
        key_id,
        scopes,
    } = resolved.ok_or(ApiKeyError::InvalidKey)?;
    if !scopes.iter().any(|s| s == scope) {
        return Err(ApiKeyError::MissingScope(scope.to_owned()));
    }
    let tenant = TenantId::trusted(tenant);
    if app
        .cache::<super::cache::Cache>()
        .use_is_due(&key_id, now_ms)
    {
        // Bookkeeping must never fail the request it describes.
        if let Err(e) = store::record_use(
            app.table.as_ref(),
            &tenant,
            &key_id,
            now_ms / 1000,
            &rfc3339(app.clock.now()),
            LAST_USE_EVERY_SECS,
        )
        .await
        {
            tracing::warn!(error = %e, key_id, "could not record the API key's use");
        }
    }
    Ok((tenant, key_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_recognisable() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert!(!well_formed("pk_short"));
        assert!(!well_formed(&a.replace("pk_", "sk_")));
        let (prefix, last_four) = masked(&a);
        assert!(a.starts_with(&prefix) && a.ends_with(&last_four));
        assert_eq!(prefix.len(), 7);
    }
}
