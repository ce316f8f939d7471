//! Whether a staff access token still speaks for a current member of the company.
//!
//! An access token is verified without a store call, but what it says can go stale before it
//! expires: the member may be removed, disabled or given other roles, a role may lose
//! permissions, the session may be logged out, and a password change or reset ends every other
//! session. So every staff request checks the member's standing as it is now, in one strongly
//! consistent batch read of the user, the session and the roles the user held at the last check:
//!
//! - **changes** (any method but GET and HEAD) always read the table: a removed, disabled or
//!   demoted member, or an ended session, cannot change anything a moment after the change;
//! - **reads** reuse a check of the same session for up to [`READ_BOUND_MS`] in the container,
//!   so staff reads cost a store call at most once per 5 s per session and container, and a
//!   revoked member stops reading within that bound.
//!
//! The permissions that count are those of the member's current roles, not the token's `perm`
//! claim, which only says what the roles granted when it was issued.

use crate::app::App;
use crate::auth::sessions::{self, Session};
use crate::http::ApiError;
use crate::iam::model::Role;
use crate::identity::TenantId;
use crate::staff::model::{StaffStatus, StoredStaffUser};
use crate::store::{self, attr, Key};
use crate::ttl_cache::TtlCache;
use serde_json::Value;

/// How long a container trusts a check for reads, in milliseconds.
pub const READ_BOUND_MS: i64 = 5_000;

/// The user, tenant and session a check is about.
type SessionId = (String, String, String);

/// A container's recent checks.
pub struct Cache {
    /// The permissions found for a session, trusted by reads for [`READ_BOUND_MS`].
    checked: TtlCache<SessionId, Vec<String>>,
    /// The roles a user held at the last check, read along with the user next time so that one
    /// batch suffices unless they changed.
    roles: TtlCache<(String, String), Vec<String>>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            checked: TtlCache::new(READ_BOUND_MS, 10_000),
            roles: TtlCache::new(15 * 60 * 1000, 10_000),
        }
    }
}

fn ended() -> ApiError {
    ApiError::unauthorized("this session has ended; sign in again")
}

/// The permissions the member holds now, or 401 if the token no longer speaks for an active
/// member's live session. `change` is true for requests that may change something.
pub async fn current_permissions(
    app: &App,
    tenant: &TenantId,
    user_id: &str,
    session_id: &str,
    change: bool,
) -> Result<Vec<String>, ApiError> {
    let now_ms = app.clock.epoch_millis();
    let id: SessionId = (
        tenant.to_string(),
        user_id.to_owned(),
        session_id.to_owned(),
    );
    if !change {
        if let Some(permissions) = app.cache::<Cache>().checked.get(&id, now_ms) {
            return Ok(permissions);
        }
    }
    let user_key = (tenant.to_string(), user_id.to_owned());
    let known_roles = app
        .cache::<Cache>()
        .roles
        .get(&user_key, now_ms)
        .unwrap_or_default();
    let mut keys: Vec<Key> = vec![
        crate::staff::store::key(tenant, user_id),
        sessions::key(tenant, user_id, session_id),
    ];
    keys.extend(
        known_roles
            .iter()
            .map(|role| crate::iam::store::key(tenant, role)),
    );
    let items = app.table.batch_get(&keys).await?;
    let mut user: Option<StoredStaffUser> = None;
    let mut session: Option<Session> = None;
    let mut roles: Vec<Role> = Vec::new();
    for item in items {
        match item.get(attr::ENTITY).and_then(Value::as_str) {
            Some(crate::staff::store::ENTITY) => user = Some(store::from_item(item)?),
            Some(sessions::ENTITY) => session = Some(store::from_item(item)?),
            Some(crate::iam::store::ENTITY) => roles.push(crate::iam::store::role_of(item)?),
            _ => {}
        }
    }
    let (Some(user), Some(session)) = (user, session) else {
        return Err(ended());
    };
    let now = now_ms / 1000;
    let live = user.user.status == StaffStatus::Active
        && !session.revoked
        && session.created_ms > user.sessions_valid_after_ms
        && session.expires_epoch > now
        && session.idle_expires_epoch > now;
    if !live {
        app.cache::<Cache>().checked.invalidate(&id);
        return Err(ended());
    }
    let mut held = user.user.role_ids.clone();
    held.sort();
    let mut known = known_roles;
    known.sort();
    if held != known {
        // The member's roles changed since this container last looked (or it never did).
        let keys: Vec<Key> = held
            .iter()
            .map(|role| crate::iam::store::key(tenant, role))
            .collect();
        roles = app
            .table
            .batch_get(&keys)
            .await?
            .into_iter()
            .map(crate::iam::store::role_of)
            .collect::<Result<_, _>>()?;
    }
    let permissions = crate::iam::permissions::granted(&roles, &user.user.role_ids);
    app.cache::<Cache>().roles.put(user_key, now_ms, held);
    app.cache::<Cache>()
        .checked
        .put(id, now_ms, permissions.clone());
    Ok(permissions)
}
