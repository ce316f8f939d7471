//! Staff sessions and their rotating refresh tokens.
//!
//! A refresh token is `<tenant>.<user>.<session>.<generation>.<mac>`, where the MAC (HMAC-SHA256
//! under a key derived from the root secret) covers the ids, the generation and a random nonce
//! kept in the session. Each refresh moves the session to the next generation, so an older but
//! authentic token proves that a rotated token was used again: the whole session is revoked.
//! Nothing secret is stored: a leaked table does not yield usable tokens.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | session | `T#<tenant>#SESSIONS#<user id>` | `<session id>` |

use super::TenantId;
use crate::store::{self, attr, Condition, Index, Key, Query, StoreError, Table, TxOp, Update};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

pub const ENTITY: &str = "session";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// `ses_<ULID>`
    pub id: String,
    pub user_id: String,
    pub generation: u64,
    pub nonce: String,
    pub created_at: String,
    /// Epoch milliseconds; compared with the user's `sessions_valid_after_ms`.
    pub created_ms: i64,
    pub last_used_at: String,
    pub idle_expires_epoch: i64,
    pub expires_epoch: i64,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    pub version: u64,
}

/// A session as `GET /admin/me/sessions` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// Whether this is the session of the token making the request.
    pub current: bool,
}

pub fn key(tenant: &TenantId, user_id: &str, session_id: &str) -> Key {
    Key::new(format!("T#{tenant}#SESSIONS#{user_id}"), session_id)
}

pub fn create_op(tenant: &TenantId, session: &Session) -> TxOp {
    let mut item = store::to_item(&key(tenant, &session.user_id, &session.id), ENTITY, session);
    item.insert(attr::TTL.into(), session.expires_epoch.into());
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

pub async fn get(
    table: &dyn Table,
    tenant: &TenantId,
    user_id: &str,
    session_id: &str,
) -> Result<Option<Session>, StoreError> {
    table
        .get(&key(tenant, user_id, session_id))
        .await?
        .map(store::from_item)
        .transpose()
}

pub async fn list(
    table: &dyn Table,
    tenant: &TenantId,
    user_id: &str,
) -> Result<Vec<Session>, StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Table, format!("T#{tenant}#SESSIONS#{user_id}")).limit(1000),
        )
        .await?;
    page.items.into_iter().map(store::from_item).collect()
}

/// Moves a session to its next generation, only from the generation the caller saw.
pub async fn advance(
    table: &dyn Table,
    tenant: &TenantId,
    session: &Session,
    now_rfc3339: &str,
    idle_expires_epoch: i64,
) -> Result<(), StoreError> {
    table
        .update(
            &key(tenant, &session.user_id, &session.id),
            Update::new()
                .set("generation", session.generation + 1)
                .set("last_used_at", now_rfc3339)
                .set("idle_expires_epoch", idle_expires_epoch)
                .set(attr::VERSION, session.version + 1),
            Some(Condition::All(vec![
                Condition::VersionIs(session.version),
                Condition::Equals {
                    attr: "revoked".into(),
                    value: false.into(),
                },
            ])),
        )
        .await
        .map(|_| ())
}

pub fn revoke_op(tenant: &TenantId, user_id: &str, session_id: &str) -> TxOp {
    TxOp::Update {
        key: key(tenant, user_id, session_id),
        update: Update::new().set("revoked", true),
        condition: Some(Condition::Exists),
    }
}

/// Revokes a session that is not revoked yet (fails otherwise): a detected reuse is recorded once.
pub fn revoke_live_op(tenant: &TenantId, user_id: &str, session_id: &str) -> TxOp {
    TxOp::Update {
        key: key(tenant, user_id, session_id),
        update: Update::new().set("revoked", true),
        condition: Some(Condition::Equals {
            attr: "revoked".into(),
            value: false.into(),
        }),
    }
}

/// The parts of a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub tenant: String,
    pub user_id: String,
    pub session_id: String,
    pub generation: u64,
    mac: String,
}

fn mac(
    key: &[u8; 32],
    tenant: &str,
    user: &str,
    session: &str,
    generation: u64,
    nonce: &str,
) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{tenant}|{user}|{session}|{generation}|{nonce}").as_bytes());
    mac
}

impl RefreshToken {
    pub fn issue(key: &[u8; 32], tenant: &TenantId, session: &Session, generation: u64) -> String {
        let tag = mac(
            key,
            tenant.as_str(),
            &session.user_id,
            &session.id,
            generation,
            &session.nonce,
        )
        .finalize()
        .into_bytes();
        format!(
            "{tenant}.{}.{}.{generation}.{}",
            session.user_id,
            session.id,
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Parses a token whose subject ids carry `subject_prefix` (`usr` for staff, `cus` for
    /// customers).
    pub fn parse(token: &str, subject_prefix: &str) -> Option<RefreshToken> {
        let parts: Vec<&str> = token.split('.').collect();
        let [tenant, user_id, session_id, generation, mac] = parts.as_slice() else {
            return None;
        };
        let id_ok = |id: &str, prefix: &str| crate::ids::is_id(id, prefix);
        if !id_ok(tenant, "co") || !id_ok(user_id, subject_prefix) || !id_ok(session_id, "ses") {
            return None;
        }
        Some(RefreshToken {
            tenant: (*tenant).to_owned(),
            user_id: (*user_id).to_owned(),
            session_id: (*session_id).to_owned(),
            generation: generation.parse().ok()?,
            mac: (*mac).to_owned(),
        })
    }

    /// Whether the token was issued by this platform for this session (at any generation).
    pub fn authentic(&self, key: &[u8; 32], session: &Session) -> bool {
        let Ok(given) = URL_SAFE_NO_PAD.decode(&self.mac) else {
            return false;
        };
        mac(
            key,
            &self.tenant,
            &self.user_id,
            &self.session_id,
            self.generation,
            &session.nonce,
        )
        .verify_slice(&given)
        .is_ok()
    }
}
