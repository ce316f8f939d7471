//! The password flows staff and customers share: checking a sign-in (throttled per source and
//! per account, the same work whether or not the account exists), re-asking a signed-in person
//! for their password, the one-time secrets of emailed links, and the sessions a password change
//! keeps or lists. The flows decide who may sign in and what they get; the checks live here once.

use super::passwords;
use super::sessions::{self, Session, SessionView};
use super::throttle::{self, Attempt, SignIn, Subject};
use crate::app::App;
use crate::http::ApiError;
use crate::identity::TenantId;
use crate::store::{Condition, TxOp, Update};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::future::Future;

/// An account that signs in with a password.
pub trait PasswordAccount {
    /// The stored hash; `None` for an account without a password (it cannot sign in with one).
    fn password_hash(&self) -> Option<&str>;
    /// Whether the account's status lets it sign in at all.
    fn may_sign_in(&self) -> bool;
}

/// A presented password too long to be anyone's: refused before any hashing, so an attacker
/// cannot make the server hash megabytes.
pub fn implausible(password: &str) -> bool {
    password.len() > 4 * passwords::MAX_LENGTH
}

/// The outcome of a password sign-in check.
pub enum SignInCheck<A> {
    /// The password is right and the account may sign in.
    Passed(A),
    /// The attempt failed and was counted; carries the account when one was found, for the
    /// flows that record failures against it.
    Failed(Option<A>),
}

/// Checks a password sign-in. `source` is the slot already taken for the caller's address
/// ([`throttle::reserve_source`], taken before any lookup the flow makes); the account's slot is
/// taken next and only then is `lookup` run, so a throttled account costs no read. An unknown
/// account spends the time of one verification, so the answer's timing does not tell it apart.
pub async fn check_sign_in<A: PasswordAccount>(
    app: &App,
    source: Option<Attempt>,
    account: &Subject,
    password: &str,
    lookup: impl Future<Output = Result<Option<A>, ApiError>>,
) -> Result<SignInCheck<A>, ApiError> {
    let attempt = SignIn::begin(app, source, account).await?;
    let found = lookup.await?;
    let verified = match found.as_ref().and_then(PasswordAccount::password_hash) {
        Some(hash) => passwords::verify(password, hash),
        None => {
            passwords::verify_nothing(password);
            false
        }
    };
    match found {
        Some(found) if verified && found.may_sign_in() => {
            attempt.succeeded(app).await?;
            Ok(SignInCheck::Passed(found))
        }
        found => {
            attempt.failed(app).await?;
            Ok(SignInCheck::Failed(found))
        }
    }
}

/// Asks a signed-in person for their password again before a sensitive change. Wrong answers
/// count under `account` (one subject per person, shared by every route that asks), so a stolen
/// access token buys no more guesses than the lockout allows.
pub async fn confirm_password(
    app: &App,
    account: &Subject,
    holder: &impl PasswordAccount,
    password: &str,
) -> Result<bool, ApiError> {
    // The attempt takes its slot before the password is checked, so parallel guesses cannot all
    // pass a check made before any of them failed.
    let attempt = throttle::reserve(app, account).await?;
    let correct = !implausible(password)
        && holder
            .password_hash()
            .is_some_and(|h| passwords::verify(password, h));
    if correct {
        // A right answer gives its slot back but keeps earlier wrong ones: re-asking a signed-in
        // person is no sign-in, and succeeding once should not buy a fresh set of guesses.
        throttle::release(app, attempt).await?;
    } else {
        throttle::failed(app, attempt).await?;
    }
    Ok(correct)
}

/// Counts a request that sends an email (a reset link) against the caller's address and the
/// account it names, so that neither a source nor a mailbox can be flooded.
pub async fn count_email_request(
    app: &App,
    source_purpose: &str,
    ip: Option<&str>,
    account: &Subject,
) -> Result<(), ApiError> {
    if let Some(ip) = ip {
        throttle::count(app, &Subject::source(source_purpose, ip)).await?;
    }
    throttle::count(app, account).await
}

/// A secret for an emailed link: 256 random bits, URL-safe.
pub fn new_secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// What names a secret in the table: its SHA-256, so a read of the table reveals no usable link.
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Re-dates the calling session past a cut-off set at `now_ms`, so that it alone survives a
/// change that ends every other session.
pub fn keep_session_op(tenant: &TenantId, holder_id: &str, session_id: &str, now_ms: i64) -> TxOp {
    TxOp::Update {
        key: sessions::key(tenant, holder_id, session_id),
        update: Update::new().set("created_ms", now_ms + 1),
        condition: Some(Condition::Exists),
    }
}

/// The sessions still usable: not revoked, not cut off by `valid_after_ms` (a password change,
/// log-out everywhere) and not expired, marking the one of the calling token.
pub fn live_sessions(
    all: Vec<Session>,
    valid_after_ms: i64,
    now_epoch: i64,
    current: &str,
) -> Vec<SessionView> {
    all.into_iter()
        .filter(|s| {
            !s.revoked
                && s.created_ms > valid_after_ms
                && s.idle_expires_epoch > now_epoch
                && s.expires_epoch > now_epoch
        })
        .map(|s| SessionView {
            current: s.id == current,
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect()
}

/// Revokes one session, with `with` (its event, if the flow records one) in the same
/// transaction; `false` when there was no such session.
pub async fn end_session(
    app: &App,
    tenant: &TenantId,
    holder_id: &str,
    session_id: &str,
    with: Vec<TxOp>,
) -> Result<bool, ApiError> {
    let mut ops = vec![sessions::revoke_op(tenant, holder_id, session_id)];
    ops.extend(with);
    match app.table.transact(ops).await {
        Ok(()) => Ok(true),
        Err(e) if e.failed_at(0) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, created_ms: i64, revoked: bool, expires: i64) -> Session {
        Session {
            id: id.into(),
            user_id: "cus_1".into(),
            generation: 0,
            nonce: String::new(),
            created_at: String::new(),
            created_ms,
            last_used_at: String::new(),
            idle_expires_epoch: expires,
            expires_epoch: expires,
            user_agent: None,
            ip: None,
            revoked,
            version: 1,
        }
    }

    #[test]
    fn live_sessions_leave_out_revoked_cut_off_and_expired_ones() {
        let all = vec![
            session("ses_live", 200, false, 1_000),
            session("ses_current", 300, false, 1_000),
            session("ses_revoked", 200, true, 1_000),
            session("ses_before_cutoff", 100, false, 1_000),
            session("ses_expired", 200, false, 500),
        ];
        let live = live_sessions(all, 150, 500, "ses_current");
        let ids: Vec<_> = live.iter().map(|s| (s.id.as_str(), s.current)).collect();
        assert_eq!(ids, [("ses_live", false), ("ses_current", true)]);
    }

    #[test]
    fn secrets_are_random_and_named_by_their_digest() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(secret_digest(&a).len(), 64);
        assert_eq!(secret_digest(&a), secret_digest(&a));
        assert!(implausible(&"x".repeat(4 * passwords::MAX_LENGTH + 1)));
        assert!(!implausible(&"x".repeat(4 * passwords::MAX_LENGTH)));
    }
}
