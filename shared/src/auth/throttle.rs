//! Brute-force throttling: after too many failures within a window, further attempts answer 429
//! with `Retry-After`, for an interval that doubles with each lockout (up to an hour).
//!
//! | item | pk | sk |
//! |---|---|---|
//! | per account | `T#<tenant>#THROTTLE#<purpose>#<sha256(subject)>` | `THROTTLE` |
//! | per source (global lookup, no tenant data) | `THROTTLE#<purpose>#<sha256(ip)>` | `THROTTLE` |
//! | rate per tenant and window | `T#<tenant>#RATE#<purpose>#<window number>` | `RATE` |

use super::TenantId;
use crate::app::App;
use crate::http::ApiError;
use crate::store::{attr, Comparison, Condition, Key, TxOp, Update};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Failures allowed within [`WINDOW_SECS`] before a lockout.
pub const ACCOUNT_LIMIT: i64 = 5;
/// Sources (an office behind one address) get more room than one account.
pub const SOURCE_LIMIT: i64 = 20;
pub const WINDOW_SECS: i64 = 15 * 60;
const FIRST_LOCKOUT_SECS: i64 = 60;
const MAX_LOCKOUT_SECS: i64 = 3600;

/// What a throttle counts: one account, or one source address.
pub struct Subject {
    key: Key,
    limit: i64,
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Subject {
    /// An account, named by what the caller typed (so unknown accounts are throttled alike).
    pub fn account(tenant_or_handle: &str, purpose: &str, subject: &str) -> Subject {
        Subject {
            key: Key::new(
                format!(
                    "T#{tenant_or_handle}#THROTTLE#{purpose}#{}",
                    digest(subject)
                ),
                "THROTTLE",
            ),
            limit: ACCOUNT_LIMIT,
        }
    }

    pub fn tenant_account(tenant: &TenantId, purpose: &str, subject: &str) -> Subject {
        Self::account(tenant.as_str(), purpose, subject)
    }

    pub fn source(purpose: &str, ip: &str) -> Subject {
        Subject {
            key: Key::new(format!("THROTTLE#{purpose}#{}", digest(ip)), "THROTTLE"),
            limit: SOURCE_LIMIT,
        }
    }
}

/// Refuses with 429 while the subject is locked out; otherwise answers how many failures the
/// current window holds.
pub async fn check(app: &App, subject: &Subject) -> Result<i64, ApiError> {
    let now = app.clock.epoch_seconds();
    let Some(item) = app.table.get(&subject.key).await? else {
        return Ok(0);
    };
    let until = item
        .get("locked_until")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if until > now {
        return Err(ApiError::too_many_requests((until - now) as u64));
    }
    Ok(item.get("failures").and_then(Value::as_i64).unwrap_or(0))
}

/// Counts a failure; the failure that reaches the limit starts a lockout.
pub async fn failure(app: &App, subject: &Subject) -> Result<(), ApiError> {
    let now = app.clock.epoch_seconds();
    let current = app.table.get(&subject.key).await?;
    let window_open = current
        .as_ref()
        .and_then(|i| i.get("window_ends").and_then(Value::as_i64))
        .is_some_and(|ends| ends > now);
    let lockouts = current
        .as_ref()
        .and_then(|i| i.get("lockouts").and_then(Value::as_i64))
        .unwrap_or(0);
    let mut update = Update::new()
        .set(attr::TTL, now + 24 * 3600)
        .set(attr::ENTITY, "throttle")
        .set(attr::VERSION, 1);
    update = if window_open {
        update.add("failures", 1)
    } else {
        update
            .set("failures", 1)
            .set("window_ends", now + WINDOW_SECS)
    };
    let after = app.table.update(&subject.key, update, None).await?;
    let failures = after.get("failures").and_then(Value::as_i64).unwrap_or(0);
    if failures >= subject.limit {
        let lockout = (FIRST_LOCKOUT_SECS << lockouts.min(10)).min(MAX_LOCKOUT_SECS);
        app.table
            .update(
                &subject.key,
                Update::new()
                    .set("locked_until", now + lockout)
                    .set("lockouts", lockouts + 1)
                    .set("failures", 0)
                    .set("window_ends", now + WINDOW_SECS),
                None,
            )
            .await?;
    }
    Ok(())
}

/// Forgets an account's failures after a success (lockout history stays for its TTL).
pub async fn success(app: &App, subject: &Subject) -> Result<(), ApiError> {
    app.table
        .update(&subject.key, Update::new().set("failures", 0), None)
        .await?;
    Ok(())
}

/// A limit on how often a company does something (e.g. invitations sent per hour), in fixed
/// windows. The action's own transaction counts it with [`Rate::count_op`], a conditional add,
/// so concurrent actions never pass the limit, and an action that fails is not counted.
pub struct Rate {
    key: Key,
    limit: i64,
    window_ends: i64,
}

impl Rate {
    pub fn per_tenant(
        tenant: &TenantId,
        purpose: &str,
        limit: i64,
        window_secs: i64,
        now_epoch: i64,
    ) -> Rate {
        let window = now_epoch.div_euclid(window_secs);
        Rate {
            key: Key::new(format!("T#{tenant}#RATE#{purpose}#{window}"), "RATE"),
            limit,
            window_ends: (window + 1) * window_secs,
        }
    }

    /// Counts one action; the operation's condition fails once the window holds `limit`.
    pub fn count_op(&self) -> TxOp {
        TxOp::Update {
            key: self.key.clone(),
            update: Update::new()
                .add("count", 1)
                .set(attr::ENTITY, "rate")
                .set(attr::VERSION, 1)
                .set(attr::TTL, self.window_ends + 3600),
            condition: Some(Condition::Any(vec![
                Condition::NotExists,
                Condition::Number {
                    attr: "count".into(),
                    cmp: Comparison::Lt,
                    value: self.limit,
                },
            ])),
        }
    }

    /// The answer when [`Rate::count_op`] failed: 429 until the window ends.
    pub fn refused(&self, now_epoch: i64) -> ApiError {
        ApiError::too_many_requests((self.window_ends - now_epoch).max(1) as u64)
    }
}
