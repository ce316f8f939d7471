//! Brute-force throttling. Every attempt reserves a slot before any password is checked, with a
//! conditional write that succeeds only while the window holds fewer attempts than the limit:
//! parallel attempts cannot all pass a check that none of them has been counted in yet. When an
//! attempt that took the last slot fails, a lockout starts: further attempts answer 429 with
//! `Retry-After`, for an interval that doubles with each lockout (up to an hour).
//!
//! | item | pk | sk |
//! |---|---|---|
//! | per account | `T#<tenant>#THROTTLE#<purpose>#<sha256(subject)>` | `THROTTLE` |
//! | per source (global lookup, no tenant data) | `THROTTLE#<purpose>#<sha256(ip)>` | `THROTTLE` |
//! | rate per tenant and window | `T#<tenant>#RATE#<purpose>#<window number>` | `RATE` |
//!
//! Taking a slot is an `ADD attempts 1` conditional on `attempts < limit` and on the `version`
//! read, which only a change of window (a new window, a lockout) moves; so attempts never wait
//! for one another, and none counts in a window that has been replaced.

use super::TenantId;
use crate::app::App;
use crate::http::ApiError;
use crate::store::{self, attr, Comparison, Condition, Item, Key, StoreError, TxOp, Update};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Attempts allowed within [`WINDOW_SECS`] before a lockout.
pub const ACCOUNT_LIMIT: i64 = 5;
/// Sources (an office behind one address) get more room than one account.
pub const SOURCE_LIMIT: i64 = 20;
pub const WINDOW_SECS: i64 = 15 * 60;
const FIRST_LOCKOUT_SECS: i64 = 60;
const MAX_LOCKOUT_SECS: i64 = 3600;
/// How long an item outlives its last write, keeping the lockout history that long.
const KEEP_SECS: i64 = 24 * 3600;
const ENTITY: &str = "throttle";
const ATTEMPTS: &str = "attempts";
const WINDOW_ENDS: &str = "window_ends";
const LOCKED_UNTIL: &str = "locked_until";
const LOCKOUTS: &str = "lockouts";

/// What a throttle counts: one account, or one source address.
pub struct Subject {
    key: Key,
    limit: i64,
    /// Seconds a window lasts.
    window: i64,
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
            window: WINDOW_SECS,
        }
    }

    pub fn tenant_account(tenant: &TenantId, purpose: &str, subject: &str) -> Subject {
        Self::account(tenant.as_str(), purpose, subject)
    }

    pub fn source(purpose: &str, ip: &str) -> Subject {
        Subject {
            key: Key::new(format!("THROTTLE#{purpose}#{}", digest(ip)), "THROTTLE"),
            limit: SOURCE_LIMIT,
            window: WINDOW_SECS,
        }
    }

    /// The same subject with another limit: `limit` attempts within `window` seconds.
    pub fn limited(self, limit: i64, window: i64) -> Subject {
        Subject {
            limit,
            window,
            ..self
        }
    }
}

/// A slot one attempt holds, with what it saw when it took it.
#[derive(Debug)]
pub struct Attempt {
    key: Key,
    limit: i64,
    /// 1 for the first attempt of its window; the limit for the one that took the last slot.
    number: i64,
    /// The item's version when the slot was taken.
    version: u64,
    lockouts: i64,
    window: i64,
}

/// An item as read.
struct Window {
    version: Option<u64>,
    /// Absent on items written before attempts were reserved.
    attempts: Option<i64>,
    ends: i64,
    locked_until: i64,
    lockouts: i64,
}

impl Window {
    fn of(item: &Item) -> Window {
        let number = |name: &str| item.get(name).and_then(Value::as_i64);
        Window {
            version: item.get(attr::VERSION).and_then(Value::as_u64),
            attempts: number(ATTEMPTS),
            ends: number(WINDOW_ENDS).unwrap_or(0),
            locked_until: number(LOCKED_UNTIL).unwrap_or(0),
            lockouts: number(LOCKOUTS).unwrap_or(0),
        }
    }
}

fn lockout_secs(lockouts: i64) -> i64 {
    (FIRST_LOCKOUT_SECS << lockouts.clamp(0, 10)).min(MAX_LOCKOUT_SECS)
}

fn refused(seconds: i64) -> ApiError {
    ApiError::too_many_requests(seconds.max(1) as u64)
}

/// Takes a slot for one attempt, or refuses with 429 while the subject is locked out or its
/// window is full. Call it before anything is verified.
pub async fn reserve(app: &App, subject: &Subject) -> Result<Attempt, ApiError> {
    // Each lost race means another attempt took a slot or the window changed, so a few rounds
    // settle even a crowd of parallel attempts.
    for _ in 0..store::ATTEMPTS {
        let now = app.clock.epoch_seconds();
        let current = app.table.get(&subject.key).await?;
        let window = current.as_ref().map(Window::of);
        if let Some(w) = &window {
            if w.locked_until > now {
                return Err(refused(w.locked_until - now));
            }
        }
        let taken = match &window {
            Some(
                w @ Window {
                    version: Some(version),
                    attempts: Some(attempts),
                    ..
                },
            ) if w.ends > now => {
                if *attempts >= subject.limit {
                    // The attempt holding the last slot has not failed yet; its lockout follows.
                    return Err(refused((w.ends - now).min(lockout_secs(w.lockouts))));
                }
                take_slot(app, subject, *version, w.lockouts, now).await?
            }
            _ => open_window(app, subject, window.as_ref(), now).await?,
        };
        if let Some(attempt) = taken {
            return Ok(attempt);
        }
    }
    Err(refused(1))
}

/// `None` when the window changed or filled up since it was read.
async fn take_slot(
    app: &App,
    subject: &Subject,
    version: u64,
    lockouts: i64,
    now: i64,
) -> Result<Option<Attempt>, ApiError> {
    let result = app
        .table
        .update(
            &subject.key,
            Update::new()
                .add(ATTEMPTS, 1)
                .set(attr::TTL, now + KEEP_SECS),
            Some(Condition::All(vec![
                Condition::VersionIs(version),
                Condition::Number {
                    attr: ATTEMPTS.into(),
                    cmp: Comparison::Lt,
                    value: subject.limit,
                },
            ])),
        )
        .await;
    match result {
        Ok(item) => Ok(Some(Attempt {
            key: subject.key.clone(),
            limit: subject.limit,
            number: item.get(ATTEMPTS).and_then(Value::as_i64).unwrap_or(1),
            version,
            lockouts,
            window: subject.window,
        })),
        Err(StoreError::ConditionFailed) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Starts a window holding this attempt alone, over an absent item, an expired window or an item
/// of the earlier format; `None` when another attempt changed the item first.
async fn open_window(
    app: &App,
    subject: &Subject,
    current: Option<&Window>,
    now: i64,
) -> Result<Option<Attempt>, ApiError> {
    let version = current.and_then(|w| w.version).unwrap_or(0) + 1;
    let lockouts = current.map_or(0, |w| w.lockouts);
    let mut item = Item::new();
    item.insert(attr::PK.into(), subject.key.pk.clone().into());
    item.insert(attr::SK.into(), subject.key.sk.clone().into());
    item.insert(attr::ENTITY.into(), ENTITY.into());
    item.insert(attr::VERSION.into(), version.into());
    item.insert(ATTEMPTS.into(), 1.into());
    item.insert(WINDOW_ENDS.into(), (now + subject.window).into());
    item.insert(
        LOCKED_UNTIL.into(),
        current.map_or(0, |w| w.locked_until).into(),
    );
    item.insert(LOCKOUTS.into(), lockouts.into());
    item.insert(attr::TTL.into(), (now + KEEP_SECS).into());
    let condition = match current.map(|w| w.version) {
        None => Some(Condition::AbsentOrExpired { now }),
        Some(Some(seen)) => Some(Condition::VersionIs(seen)),
        // Only an item written before versions were kept lacks one; it is replaced as it is.
        Some(None) => None,
    };
    match app.table.put(item, condition).await {
        Ok(()) => Ok(Some(Attempt {
            key: subject.key.clone(),
            limit: subject.limit,
            number: 1,
            version,
            lockouts,
            window: subject.window,
        })),
        Err(StoreError::ConditionFailed) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Records that the attempt failed. The failure of the attempt that took the last slot starts a
/// lockout and a fresh window; any other failure just keeps its slot until the window ends.
pub async fn failed(app: &App, attempt: Attempt) -> Result<(), ApiError> {
    if attempt.number < attempt.limit {
        return Ok(());
    }
    let now = app.clock.epoch_seconds();
    let result = app
        .table
        .update(
            &attempt.key,
            Update::new()
                .set(LOCKED_UNTIL, now + lockout_secs(attempt.lockouts))
                .set(LOCKOUTS, attempt.lockouts + 1)
                .set(ATTEMPTS, 0)
                .set(WINDOW_ENDS, now + attempt.window)
                .set(attr::VERSION, attempt.version + 1)
                .set(attr::TTL, now + KEEP_SECS),
            // A success meanwhile emptied the window, or another failure locked it already.
            Some(Condition::All(vec![
                Condition::VersionIs(attempt.version),
                Condition::Number {
                    attr: ATTEMPTS.into(),
                    cmp: Comparison::Ge,
                    value: attempt.limit,
                },
            ])),
        )
        .await;
    match result {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Reserves a slot and counts it as a failure at once: for requests that count whatever their
/// outcome (sign-ups, reset requests).
pub async fn count(app: &App, subject: &Subject) -> Result<(), ApiError> {
    let attempt = reserve(app, subject).await?;
    failed(app, attempt).await
}

/// After a success, empties the account's window: the earlier failures are forgotten (the
/// lockout history stays for the item's lifetime).
pub async fn forget(app: &App, attempt: Attempt) -> Result<(), ApiError> {
    settle(app, &attempt, Update::new().set(ATTEMPTS, 0), None).await
}

/// Gives the slot back: the attempt is not counted (a success against a source's limit, or an
/// attempt refused by its account's throttle).
pub async fn release(app: &App, attempt: Attempt) -> Result<(), ApiError> {
    settle(
        app,
        &attempt,
        Update::new().add(ATTEMPTS, -1),
        Some(Condition::Number {
            attr: ATTEMPTS.into(),
            cmp: Comparison::Ge,
            value: 1,
        }),
    )
    .await
}

/// Applies `update` only within the window the attempt was counted in.
async fn settle(
    app: &App,
    attempt: &Attempt,
    update: Update,
    extra: Option<Condition>,
) -> Result<(), ApiError> {
    let mut all = vec![Condition::VersionIs(attempt.version)];
    all.extend(extra);
    match app
        .table
        .update(&attempt.key, update, Some(Condition::All(all)))
        .await
    {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The slots one sign-in holds: its account's, and its source's when the address is known.
/// Successes do not count against either; failures count against both.
pub struct SignIn {
    account: Attempt,
    source: Option<Attempt>,
}

/// Takes the source's slot first (before any lookup the attempt makes).
pub async fn reserve_source(
    app: &App,
    purpose: &str,
    ip: Option<&str>,
) -> Result<Option<Attempt>, ApiError> {
    match ip {
        Some(ip) => Ok(Some(reserve(app, &Subject::source(purpose, ip)).await?)),
        None => Ok(None),
    }
}

impl SignIn {
    /// Takes the account's slot for an attempt already holding `source`. An account that refuses
    /// gives the source slot back: the attempt was not made.
    pub async fn begin(
        app: &App,
        source: Option<Attempt>,
        account: &Subject,
    ) -> Result<SignIn, ApiError> {
        match reserve(app, account).await {
            Ok(account) => Ok(SignIn { account, source }),
            Err(refusal) => {
                if let Some(source) = source {
                    release(app, source).await?;
                }
                Err(refusal)
            }
        }
    }

    pub async fn failed(self, app: &App) -> Result<(), ApiError> {
        failed(app, self.account).await?;
        if let Some(source) = self.source {
            failed(app, source).await?;
        }
        Ok(())
    }

    pub async fn succeeded(self, app: &App) -> Result<(), ApiError> {
        forget(app, self.account).await?;
        if let Some(source) = self.source {
            release(app, source).await?;
        }
        Ok(())
    }
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
