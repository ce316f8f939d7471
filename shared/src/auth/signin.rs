//! The sign-in machinery staff and customers share: sessions opened for a proven identity,
//! access and refresh tokens for them, and refresh with rotation and reuse detection. The flows
//! themselves (who may sign in, with what) are in `staff::auth` and `customers::auth`.

use super::errors::AuthCode;
use super::policy::Security;
use super::sessions::{self, RefreshToken, Session};
use crate::app::App;
use crate::clock::rfc3339;
use crate::events::event;
use crate::http::ApiError;
use crate::identity::TenantId;
use crate::store::{StoreError, TxOp};
use crate::tokens::{Audience, Claims, MAX_TTL_SECS};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// Access and refresh tokens, as every route that signs someone in answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// Where a sign-in comes from, recorded on the session.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub fn now_ms(app: &App) -> i64 {
    app.clock.epoch_millis()
}

/// The refresh-token key, and proof that this function can sign: checked before anything is
/// written, so a function deployed without the signing seed fails cleanly instead of half-way.
pub fn signing_key(app: &App) -> Result<[u8; 32], ApiError> {
    app.config.staff_signer()?;
    Ok(app.config.staff_refresh_key()?)
}

pub fn new_session(app: &App, user_id: &str, origin: &Origin, policy: &Security) -> Session {
    let now = app.clock.now();
    let epoch = now.unix_timestamp();
    let nonce: [u8; 16] = rand::random();
    Session {
        id: app.ids.new_id("ses"),
        user_id: user_id.to_owned(),
        generation: 0,
        nonce: hex::encode(nonce),
        created_at: rfc3339(now),
        created_ms: now_ms(app),
        last_used_at: rfc3339(now),
        idle_expires_epoch: epoch + policy.refresh_idle_ttl_seconds,
        expires_epoch: epoch + policy.refresh_absolute_ttl_seconds,
        user_agent: origin
            .user_agent
            .clone()
            .map(|ua| ua.chars().take(256).collect()),
        ip: origin.ip.clone(),
        revoked: false,
        version: 1,
    }
}

/// Access and refresh tokens of a session for one audience: staff (`admin`) or customers
/// (`store`), each signed with its own keys.
#[allow(clippy::too_many_arguments)]
pub fn issue_for(
    app: &App,
    audience: Audience,
    key: &[u8; 32],
    tenant: &TenantId,
    session: &Session,
    generation: u64,
    granted: Vec<String>,
    policy: &Security,
) -> Tokens {
    let now = app.clock.epoch_seconds();
    let ttl = policy.access_token_ttl_seconds.clamp(60, MAX_TTL_SECS);
    let keys = match audience {
        Audience::Admin => app.config.staff_tokens(),
        Audience::Store => app.config.customer_tokens(),
    };
    let claims = Claims {
        iss: keys.issuer().to_owned(),
        aud: audience.as_str().into(),
        sub: session.user_id.clone(),
        tid: tenant.to_string(),
        sid: session.id.clone(),
        iat: now,
        exp: now + ttl,
        jti: app.ids.ulid(),
        perm: granted,
    };
    Tokens {
        access_token: keys.issue(&claims),
        refresh_token: RefreshToken::issue(key, tenant, session, generation),
        token_type: "Bearer",
        expires_in: ttl,
    }
}

/// A fresh session for a user who just proved who they are, and the operation that stores it.
pub fn new_signed_in_session(
    app: &App,
    tenant: &TenantId,
    user_id: &str,
    origin: &Origin,
    policy: &Security,
) -> (Session, TxOp) {
    let session = new_session(app, user_id, origin, policy);
    let op = sessions::create_op(tenant, &session);
    (session, op)
}

/// Staff tokens for a new session of a user whose roles grant `granted`.
pub fn tokens_for(
    app: &App,
    key: &[u8; 32],
    tenant: &TenantId,
    session: &Session,
    granted: Vec<String>,
    policy: &Security,
) -> Tokens {
    issue_for(
        app,
        Audience::Admin,
        key,
        tenant,
        session,
        0,
        granted,
        policy,
    )
}

pub fn invalid_refresh() -> ApiError {
    ApiError::unauthorized("the refresh token is invalid, expired or revoked")
        .with_code(AuthCode::InvalidRefreshToken)
}

/// How a refresh token's subject is named in the events of its session: `user_id` for staff,
/// `customer_id` for customers.
pub struct RefreshSubject {
    pub field: &'static str,
    pub reuse_event: crate::events::kinds::Kind,
}

/// The session a refresh token names, checked: authentic, live and at its current generation.
/// An older generation means a rotated token came back, so whoever holds the newer one may be a
/// thief: the whole session is revoked before the refusal.
pub async fn session_for_refresh(
    app: &App,
    tenant: &TenantId,
    key: &[u8; 32],
    token: &RefreshToken,
    subject: &RefreshSubject,
) -> Result<Session, ApiError> {
    let session = sessions::get(
        app.table.as_ref(),
        tenant,
        &token.user_id,
        &token.session_id,
    )
    .await?
    .filter(|s| token.authentic(key, s))
    .ok_or_else(invalid_refresh)?;
    let now = app.clock.epoch_seconds();
    if session.expires_epoch <= now || session.idle_expires_epoch <= now {
        return Err(invalid_refresh());
    }
    if token.generation < session.generation {
        // Revoked already (by an earlier reuse, or a log-out): the answer still names the reuse.
        if session.revoked {
            return Err(refresh_token_reused());
        }
        return Err(revoke_reused(app, tenant, &session, subject).await);
    }
    if session.revoked || token.generation > session.generation {
        return Err(invalid_refresh());
    }
    Ok(session)
}

pub fn refresh_token_reused() -> ApiError {
    ApiError::unauthorized("this refresh token was already used; the session is revoked")
        .with_code(AuthCode::RefreshTokenReused)
}

/// Revokes a session whose rotated token came back, with the reuse event, and answers the
/// refusal. Only the revocation that finds the session live records the event, so a token
/// replayed many times at once leaves one event.
pub async fn revoke_reused(
    app: &App,
    tenant: &TenantId,
    session: &Session,
    subject: &RefreshSubject,
) -> ApiError {
    for attempt in 0..crate::store::ATTEMPTS {
        let result = app
            .table
            .transact(vec![
                sessions::revoke_live_op(tenant, &session.user_id, &session.id),
                event(
                    app,
                    tenant,
                    subject.reuse_event,
                    Some(&session.user_id),
                    json!({subject.field: session.user_id, "session_id": session.id}),
                ),
            ])
            .await;
        match result {
            Ok(()) => return refresh_token_reused(),
            Err(e) if e.failed_at(0) => return refresh_token_reused(),
            // Another request is writing the session (often another copy of this token).
            Err(StoreError::Conflict) => crate::store::back_off(attempt).await,
            Err(e) => return e.into(),
        }
    }
    StoreError::Conflict.into()
}

/// Moves a refreshed session on to its next generation. When that fails, a concurrent refresh
/// with the same token may have got there first: the session is read again, and if its generation
/// moved past the token's, this request presented a token already used, exactly as a replay
/// after the fact would, and the session is revoked. Whoever lost the race cannot tell an honest
/// duplicate from a thief racing the owner.
pub async fn advance_session(
    app: &App,
    tenant: &TenantId,
    session: &Session,
    policy: &Security,
    subject: &RefreshSubject,
) -> Result<(), ApiError> {
    for attempt in 0..crate::store::ATTEMPTS {
        let result = sessions::advance(
            app.table.as_ref(),
            tenant,
            session,
            &rfc3339(app.clock.now()),
            app.clock.epoch_seconds() + policy.refresh_idle_ttl_seconds,
        )
        .await;
        match result {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed | StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        let now = sessions::get(app.table.as_ref(), tenant, &session.user_id, &session.id)
            .await?
            .ok_or_else(invalid_refresh)?;
        if now.generation > session.generation {
            if now.revoked {
                return Err(refresh_token_reused());
            }
            return Err(revoke_reused(app, tenant, &now, subject).await);
        }
        if now.revoked || now.version != session.version {
            return Err(invalid_refresh());
        }
        // Nothing moved: the write met another one in flight (a transaction on the session).
        crate::store::back_off(attempt).await;
    }
    Err(StoreError::Conflict.into())
}
