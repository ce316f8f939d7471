//! Staff sign-in: company sign-up, log-in, refresh with rotation and reuse detection, log-out,
//! who am I, password reset and change, and the caller's sessions. Every change writes its domain
//! event in the same transaction. The session and token machinery is shared with customers
//! (`auth::signin`).

use super::auth_events::AuthEvent;
use crate::app::App;
use crate::auth::errors::AuthCode;
use crate::auth::passwords;
use crate::auth::policy::Security;
use crate::auth::sessions::{self, RefreshToken, Session};
use crate::auth::signin::{
    advance_session, invalid_refresh, issue_for, new_session, now_ms, session_for_refresh,
    signing_key, Origin, RefreshSubject, Tokens,
};
use crate::auth::throttle::{self, SignIn, Subject};
use crate::clock::rfc3339;
use crate::companies::errors::CompanyCode;
use crate::companies::model::{validate_company, NewCompany};
use crate::companies::{self, model::Company};
use crate::events::{event, outbox_put, DomainEvent};
use crate::http::HttpCode;
use crate::http::{ApiError, FieldError};
use crate::iam::permissions::granted;
use crate::iam::{self, model::Role, permissions};
use crate::identity::TenantId;
use crate::settings;
use crate::staff::model::{StaffStatus, StaffUser, StoredStaffUser};
use crate::staff::{self};
use crate::store::{StoreError, TxOp};
use crate::tokens::Audience;
use crate::validate::{self, Errors};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

fn issue(
    app: &App,
    key: &[u8; 32],
    tenant: &TenantId,
    session: &Session,
    generation: u64,
    granted: Vec<String>,
    policy: &Security,
) -> Tokens {
    issue_for(
        app,
        Audience::Admin,
        key,
        tenant,
        session,
        generation,
        granted,
        policy,
    )
}

// ---------------------------------------------------------------------------------------------
// Sign-up

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub company: NewCompany,
    pub owner: NewOwner,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    pub company: Company,
    pub user: StaffUser,
    #[serde(flatten)]
    pub tokens: Tokens,
}

pub async fn register(
    app: &App,
    input: Registration,
    origin: &Origin,
) -> Result<Registered, ApiError> {
    let key = signing_key(app)?;
    if let Some(ip) = &origin.ip {
        // Every sign-up counts against its source, so one address cannot mint companies.
        throttle::count(app, &Subject::source("register", ip)).await?;
    }
    let email = validate::normalize_email(&input.owner.email);
    let mut errors = Errors::new();
    validate_company(&mut errors, "company.", &input.company);
    errors.check(validate::text("owner.name", &input.owner.name, 100));
    errors.check(validate::staff_email("owner.email", &email));
    errors.check(passwords::check_policy(
        &input.owner.password,
        passwords::DEFAULT_MIN_LENGTH,
        "owner.password",
        &[
            &email,
            &input.owner.name,
            &input.company.name,
            &input.company.handle,
        ],
    ));
    errors.finish()?;

    let now = rfc3339(app.clock.now());
    let tenant = TenantId::trusted(app.ids.new_id("co"));
    let company = Company {
        id: tenant.to_string(),
        name: input.company.name.trim().to_owned(),
        handle: input.company.handle.clone(),
        country: input.company.country.clone(),
        currency: input.company.currency.clone(),
        timezone: input.company.timezone.clone(),
        created_at: now.clone(),
        updated_at: now.clone(),
        version: 1,
    };
    let roles: Vec<Role> = permissions::system_roles()
        .into_iter()
        .map(|(key, name, description, grants)| Role {
            id: app.ids.new_id("role"),
            name: name.into(),
            description: description.into(),
            permissions: grants,
            system: true,
            key: Some(key.into()),
            assigned_users: i64::from(key == "owner"),
            active_users: i64::from(key == "owner"),
            created_at: now.clone(),
            updated_at: now.clone(),
            version: 1,
        })
        .collect();
    let owner_role = roles[0].id.clone();
    let user = StoredStaffUser {
        user: StaffUser {
            id: app.ids.new_id("usr"),
            email: email.clone(),
            name: input.owner.name.trim().to_owned(),
            role_ids: vec![owner_role],
            status: StaffStatus::Active,
            created_at: now.clone(),
            updated_at: now.clone(),
            version: 1,
        },
        password_hash: passwords::hash(&input.owner.password),
        sessions_valid_after_ms: 0,
    };
    let session = new_session(app, &user.user.id, origin, &Security::default());

    let mut ops = companies::store::create_ops(&company);
    for role in &roles {
        ops.push(iam::store::put_op(
            &tenant,
            role,
            crate::store::Condition::NotExists,
        ));
    }
    ops.extend(staff::store::create_ops(&tenant, &user));
    ops.extend(settings::service::seed_ops(
        app,
        &tenant,
        &company,
        &user.user.id,
    ));
    ops.push(sessions::create_op(&tenant, &session));
    ops.push(event(
        app,
        &tenant,
        crate::companies::events::CompanyEvent::Created,
        Some(&user.user.id),
        json!({"company_id": company.id, "handle": company.handle, "owner_id": user.user.id}),
    ));
    match app.table.transact(ops).await {
        Ok(()) => {}
        Err(e) if e.failed_at(companies::store::HANDLE_OP) => {
            return Err(ApiError::new(
                CompanyCode::HandleTaken,
                "this handle is already taken",
            ))
        }
        Err(StoreError::Conflict) => {
            return Err(ApiError::new(
                CompanyCode::HandleTaken,
                "this handle is being registered",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let tokens = issue(
        app,
        &key,
        &tenant,
        &session,
        0,
        vec![permissions::ALL_PERMISSIONS.to_owned()],
        &Security::default(),
    );
    Ok(Registered {
        company,
        user: user.user,
        tokens,
    })
}

// ---------------------------------------------------------------------------------------------
// Log-in, refresh, log-out

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The company handle.
    pub company: String,
    pub email: String,
    pub password: String,
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("the company, email or password is wrong")
        .with_code(AuthCode::InvalidCredentials)
}

pub async fn login(app: &App, input: Login, origin: &Origin) -> Result<Tokens, ApiError> {
    let key = signing_key(app)?;
    let handle = input.company.trim().to_lowercase();
    let email = validate::normalize_email(&input.email);
    if input.password.len() > 4 * passwords::MAX_LENGTH || email.len() > 320 || handle.len() > 64 {
        return Err(invalid_credentials());
    }
    let source = throttle::reserve_source(app, "login", origin.ip.as_deref()).await?;
    // Unknown companies are throttled under their handle, known ones under their tenant, so
    // guessing never reveals which handles exist.
    let tenant = companies::store::tenant_for_handle(app.table.as_ref(), &handle).await?;
    let account = Subject::account(
        tenant.as_ref().map_or(handle.as_str(), |t| t.as_str()),
        "login",
        &email,
    );
    let attempt = SignIn::begin(app, source, &account).await?;
    let user = match &tenant {
        Some(tenant) => staff::store::by_email_evenly(app.table.as_ref(), tenant, &email).await?,
        None => None,
    };
    let verified = match &user {
        Some(user) => passwords::verify(&input.password, &user.password_hash),
        None => {
            passwords::verify_nothing(&input.password);
            false
        }
    };
    let active = user
        .as_ref()
        .is_some_and(|u| u.user.status == StaffStatus::Active);
    let (Some(tenant), Some(user), true, true) = (&tenant, &user, verified, active) else {
        attempt.failed(app).await?;
        if let Some(tenant) = &tenant {
            // Failures against a real company are part of its audit trail, whether or not the
            // email is known, so the write does not tell either.
            app.table
                .transact(vec![event(
                    app,
                    tenant,
                    AuthEvent::LoginFailed,
                    user.as_ref().map(|u| u.user.id.as_str()),
                    json!({"email": email, "ip": origin.ip, "user_id": user.as_ref().map(|u| &u.user.id)}),
                )])
                .await?;
        }
        return Err(invalid_credentials());
    };
    let (tenant, user) = (tenant.clone(), user.clone());
    attempt.succeeded(app).await?;
    let roles = iam::store::get_many(app.table.as_ref(), &tenant, &user.user.role_ids).await?;
    let policy = settings::service::security(app, &tenant).await?;
    let session = new_session(app, &user.user.id, origin, &policy);
    app.table
        .transact(vec![
            sessions::create_op(&tenant, &session),
            event(
                app,
                &tenant,
                AuthEvent::LoggedIn,
                Some(&user.user.id),
                json!({"user_id": user.user.id, "session_id": session.id, "ip": origin.ip}),
            ),
        ])
        .await?;
    Ok(issue(
        app,
        &key,
        &tenant,
        &session,
        0,
        granted(&roles, &user.user.role_ids),
        &policy,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    pub refresh_token: String,
}

pub async fn refresh(app: &App, input: Refresh) -> Result<Tokens, ApiError> {
    let key = signing_key(app)?;
    let token = RefreshToken::parse(&input.refresh_token, "usr").ok_or_else(invalid_refresh)?;
    let tenant = TenantId::trusted(token.tenant.clone());
    let subject = RefreshSubject {
        field: "user_id",
        reuse_event: AuthEvent::RefreshTokenReused.kind(),
    };
    let session = session_for_refresh(app, &tenant, &key, &token, &subject).await?;
    let user = staff::store::get(app.table.as_ref(), &tenant, &session.user_id)
        .await?
        .filter(|u| {
            u.user.status == StaffStatus::Active && session.created_ms > u.sessions_valid_after_ms
        })
        .ok_or_else(invalid_refresh)?;
    let roles = iam::store::get_many(app.table.as_ref(), &tenant, &user.user.role_ids).await?;
    let policy = settings::service::security(app, &tenant).await?;
    advance_session(app, &tenant, &session, &policy, &subject).await?;
    Ok(issue(
        app,
        &key,
        &tenant,
        &session,
        session.generation + 1,
        granted(&roles, &user.user.role_ids),
        &policy,
    ))
}

/// Revokes one session of a user with its event; `false` when there was no such session.
async fn end_session(
    app: &App,
    tenant: &TenantId,
    user_id: &str,
    session_id: &str,
    kind: AuthEvent,
) -> Result<bool, ApiError> {
    let result = app
        .table
        .transact(vec![
            sessions::revoke_op(tenant, user_id, session_id),
            event(
                app,
                tenant,
                kind,
                Some(user_id),
                json!({"user_id": user_id, "session_id": session_id}),
            ),
        ])
        .await;
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.failed_at(0) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Ends the session of the calling token (already gone, e.g. expired: nothing to do).
pub async fn logout(
    app: &App,
    tenant: &TenantId,
    user_id: &str,
    session_id: &str,
) -> Result<(), ApiError> {
    end_session(app, tenant, user_id, session_id, AuthEvent::LoggedOut)
        .await
        .map(|_| ())
}

/// Ends every session of the user, including the calling one.
pub async fn logout_all(app: &App, tenant: &TenantId, user_id: &str) -> Result<(), ApiError> {
    let user = staff::store::get(app.table.as_ref(), tenant, user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
    let mut changed = user.clone();
    // Sessions created in this very second are void too.
    changed.sessions_valid_after_ms = now_ms(app);
    changed.user.version += 1;
    changed.user.updated_at = rfc3339(app.clock.now());
    app.table
        .transact(vec![
            staff::store::replace_op(tenant, &changed, user.user.version),
            event(
                app,
                tenant,
                AuthEvent::LoggedOutEverywhere,
                Some(user_id),
                json!({"user_id": user_id}),
            ),
        ])
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Who am I

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: StaffUser,
    pub company: Company,
    pub roles: Vec<Role>,
    /// Every permission the user's roles grant, expanded.
    pub permissions: Vec<String>,
}

pub async fn me(app: &App, tenant: &TenantId, user_id: &str) -> Result<Me, ApiError> {
    let gone = || ApiError::unauthorized("the user no longer exists");
    let user = staff::store::get(app.table.as_ref(), tenant, user_id)
        .await?
        .ok_or_else(gone)?;
    let company = companies::store::get(app.table.as_ref(), tenant)
        .await?
        .ok_or_else(gone)?;
    let roles = iam::store::get_many(app.table.as_ref(), tenant, &user.user.role_ids).await?;
    let permissions = permissions::effective(&granted(&roles, &user.user.role_ids));
    Ok(Me {
        user: user.user,
        company,
        roles,
        permissions,
    })
}

// ---------------------------------------------------------------------------------------------
// Password reset and change
//
// | item | pk | sk |
// |---|---|---|
// | reset token | `T#<tenant>#RESET#<sha256(secret)>` | `RESET` |

/// How long a password reset link works.
pub const RESET_LIFETIME_SECS: i64 = 3600;

fn reset_key(tenant: &TenantId, secret: &str) -> crate::store::Key {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(secret.as_bytes()));
    crate::store::Key::new(format!("T#{tenant}#RESET#{digest}"), "RESET")
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The company handle.
    pub company: String,
    pub email: String,
}

/// A reset item: for `user` (its id and [`passwords::credential_stamp`]), or, for a request
/// that found no account, an item naming nobody whose secret nobody gets.
fn reset_put(key: crate::store::Key, user: Option<(&str, String)>, now: i64) -> TxOp {
    let mut item = crate::store::Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    item.insert("entity".into(), "password_reset".into());
    item.insert("version".into(), 1.into());
    if let Some((user_id, stamp)) = user {
        item.insert("user_id".into(), user_id.into());
        item.insert("stamp".into(), stamp.into());
    }
    item.insert("expires_epoch".into(), (now + RESET_LIFETIME_SECS).into());
    item.insert("ttl".into(), (now + RESET_LIFETIME_SECS).into());
    TxOp::Put {
        item,
        condition: Some(crate::store::Condition::NotExists),
    }
}

fn staff_stamp(user: &StoredStaffUser) -> String {
    passwords::credential_stamp(Some(&user.password_hash), &user.user.email)
}

/// Sends a reset email when the account exists; answers the same either way, and within a
/// company makes the same store calls either way.
pub async fn request_reset(
    app: &App,
    input: ResetRequest,
    origin: &Origin,
) -> Result<(), ApiError> {
    let handle = input.company.trim().to_lowercase();
    let email = validate::normalize_email(&input.email);
    if email.len() > 320 || handle.len() > 64 {
        return Ok(());
    }
    if let Some(ip) = &origin.ip {
        throttle::count(app, &Subject::source("password-reset", ip)).await?;
    }
    let tenant = companies::store::tenant_for_handle(app.table.as_ref(), &handle).await?;
    let account = Subject::account(
        tenant.as_ref().map_or(handle.as_str(), |t| t.as_str()),
        "password-reset",
        &email,
    );
    // Every request counts, so a mailbox cannot be flooded with reset emails.
    throttle::count(app, &account).await?;
    // Handles are public (registration tells a taken one), so an unknown company may show.
    let Some(tenant) = tenant else { return Ok(()) };
    let user = staff::store::by_email_evenly(app.table.as_ref(), &tenant, &email)
        .await?
        .filter(|u| u.user.status == StaffStatus::Active);
    let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let now = app.clock.epoch_seconds();
    let key = reset_key(&tenant, &secret);
    let Some(user) = user else {
        app.table.transact(vec![reset_put(key, None, now)]).await?;
        return Ok(());
    };
    let token = format!("{tenant}.{secret}");
    let link = format!(
        "{}/admin/reset-password?token={token}",
        app.config.public_url
    );
    let mail = crate::events::email::EmailRequest {
        to: vec![user.user.email.clone()],
        subject: "Reset your password".into(),
        text: format!(
            "Someone asked to reset the password of your staff account.\n\nReset it within one hour:\n{link}\n\nYour reset token (for POST /admin/auth/password-reset/confirm):\n{token}\n\nIf this was not you, ignore this email; your password stays as it is.\n"
        ),
        html: None,
        from: None,
        reply_to: None,
    };
    app.table
        .transact(vec![
            reset_put(key, Some((&user.user.id, staff_stamp(&user))), now),
            outbox_put(
                &DomainEvent::email(app, &tenant, None, &mail)?,
                app.clock.epoch_seconds(),
            ),
            event(
                app,
                &tenant,
                AuthEvent::PasswordResetRequested,
                None,
                json!({"user_id": user.user.id, "ip": origin.ip}),
            ),
        ])
        .await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    pub token: String,
    pub new_password: String,
}

fn invalid_reset() -> ApiError {
    ApiError::new(
        AuthCode::InvalidResetToken,
        "the reset token is invalid, used or expired",
    )
}

/// The user with a new password hash, every existing session voided, at the next version.
fn with_new_password(app: &App, user: &StoredStaffUser, password: &str) -> StoredStaffUser {
    let mut changed = user.clone();
    changed.password_hash = passwords::hash(password);
    changed.sessions_valid_after_ms = now_ms(app);
    changed.user.version += 1;
    changed.user.updated_at = rfc3339(app.clock.now());
    changed
}

/// Sets a new password with a reset token (once) and ends every session.
pub async fn confirm_reset(app: &App, input: ResetConfirm) -> Result<(), ApiError> {
    let (tenant, secret) = input.token.split_once('.').ok_or_else(invalid_reset)?;
    if !crate::ids::is_id(tenant, "co") || secret.is_empty() || secret.len() > 100 {
        return Err(invalid_reset());
    }
    let tenant = TenantId::trusted(tenant);
    let key = reset_key(&tenant, secret);
    let now = app.clock.epoch_seconds();
    let reset = app.table.get(&key).await?.ok_or_else(invalid_reset)?;
    let expires = reset
        .get("expires_epoch")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    let text = |name: &str| {
        reset
            .get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let (Some(user_id), Some(stamp)) = (text("user_id"), text("stamp")) else {
        return Err(invalid_reset());
    };
    if expires <= now {
        return Err(invalid_reset());
    }
    // A password changed since the request (by a change or another reset) voids the token.
    let user = staff::store::get(app.table.as_ref(), &tenant, &user_id)
        .await?
        .filter(|u| u.user.status == StaffStatus::Active && staff_stamp(u) == stamp)
        .ok_or_else(invalid_reset)?;
    let policy = settings::service::security(app, &tenant).await?;
    let mut errors = Errors::new();
    errors.check(passwords::check_policy(
        &input.new_password,
        policy.password_min_length as usize,
        "new_password",
        &[&user.user.email, &user.user.name],
    ));
    errors.finish()?;
    let changed = with_new_password(app, &user, &input.new_password);
    match app
        .table
        .transact(vec![
            TxOp::Delete {
                key,
                condition: Some(crate::store::Condition::Exists),
            },
            staff::store::replace_op(&tenant, &changed, user.user.version),
            event(
                app,
                &tenant,
                AuthEvent::PasswordReset,
                Some(&user_id),
                json!({"user_id": user_id}),
            ),
        ])
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if e.failed_at(0) => Err(invalid_reset()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

pub(crate) fn wrong_current_password() -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "current_password",
        "incorrect",
        "the current password is wrong",
    )])
}

/// Changes the caller's password and ends every other session.
pub async fn change_password(
    app: &App,
    tenant: &TenantId,
    user_id: &str,
    session_id: &str,
    input: PasswordChange,
) -> Result<(), ApiError> {
    let account = Subject::tenant_account(tenant, "password-change", user_id);
    let attempt = throttle::reserve(app, &account).await?;
    let user = staff::store::get(app.table.as_ref(), tenant, user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
    if !passwords::verify(&input.current_password, &user.password_hash) {
        throttle::failed(app, attempt).await?;
        return Err(wrong_current_password());
    }
    throttle::forget(app, attempt).await?;
    let policy = settings::service::security(app, tenant).await?;
    let mut errors = Errors::new();
    errors.check(passwords::check_policy(
        &input.new_password,
        policy.password_min_length as usize,
        "new_password",
        &[&user.user.email, &user.user.name],
    ));
    if input.new_password == input.current_password {
        errors.push(FieldError::new(
            "new_password",
            "unchanged",
            "choose a password different from the current one",
        ));
    }
    errors.finish()?;
    let changed = with_new_password(app, &user, &input.new_password);
    // The calling session is re-dated past the cut-off so that it alone survives.
    let keep = crate::store::TxOp::Update {
        key: sessions::key(tenant, user_id, session_id),
        update: crate::store::Update::new().set("created_ms", now_ms(app) + 1),
        condition: Some(crate::store::Condition::Exists),
    };
    app.table
        .transact(vec![
            staff::store::replace_op(tenant, &changed, user.user.version),
            keep,
            event(
                app,
                tenant,
                AuthEvent::PasswordChanged,
                Some(user_id),
                json!({"user_id": user_id}),
            ),
        ])
        .await
        .map_err(|e| {
            if e.failed_at(0) {
                ApiError::new(HttpCode::Conflict, "the account changed meanwhile; retry")
            } else {
                e.into()
            }
        })
}

/// The caller's live sessions.
pub async fn list_sessions(
    app: &App,
    tenant: &TenantId,
    user_id: &str,
    current: &str,
) -> Result<Vec<sessions::SessionView>, ApiError> {
    let user = staff::store::get(app.table.as_ref(), tenant, user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
    let now = app.clock.epoch_seconds();
    Ok(sessions::list(app.table.as_ref(), tenant, user_id)
        .await?
        .into_iter()
        .filter(|s| {
            !s.revoked
                && s.created_ms > user.sessions_valid_after_ms
                && s.idle_expires_epoch > now
                && s.expires_epoch > now
        })
        .map(|s| sessions::SessionView {
            current: s.id == current,
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect())
}

/// Ends one of the caller's sessions.
pub async fn revoke_session(
    app: &App,
    tenant: &TenantId,
    user_id: &str,
    session_id: &str,
) -> Result<(), ApiError> {
    if end_session(app, tenant, user_id, session_id, AuthEvent::SessionRevoked).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("session"))
    }
}
