//! Password reset and change.

use super::*;

// | item | pk | sk |
// |---|---|---|
// | reset token | `T#<tenant>#RESET#<sha256(secret)>` | `RESET` |

/// How long a password reset link works.
pub const RESET_LIFETIME_SECS: i64 = 3600;

pub(super) fn reset_key(tenant: &TenantId, secret: &str) -> crate::store::Key {
    let digest = credentials::secret_digest(secret);
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
pub(super) fn reset_put(key: crate::store::Key, user: Option<(&str, String)>, now: i64) -> TxOp {
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

/// What a reset link is bound to: the password and email it was sent for, and the user's session
/// cut-off, so that disabling the user (which moves it) voids the links sent before, also once
/// the user is enabled again.
pub(super) fn staff_stamp(user: &StoredStaffUser) -> String {
    format!(
        "{}.{}",
        passwords::credential_stamp(Some(&user.password_hash), &user.user.email),
        user.sessions_valid_after_ms
    )
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
    let tenant = companies::store::tenant_for_handle(app.table.as_ref(), &handle).await?;
    let account = Subject::account(
        tenant.as_ref().map_or(handle.as_str(), |t| t.as_str()),
        "password-reset",
        &email,
    );
    credentials::count_email_request(app, "password-reset", origin.ip.as_deref(), &account).await?;
    // Handles are public (registration tells a taken one), so an unknown company may show.
    let Some(tenant) = tenant else { return Ok(()) };
    let user = staff::store::by_email_evenly(app.table.as_ref(), &tenant, &email)
        .await?
        .filter(|u| u.user.status == StaffStatus::Active);
    let secret = credentials::new_secret();
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

pub(super) fn invalid_reset() -> ApiError {
    ApiError::new(
        AuthCode::InvalidResetToken,
        "the reset token is invalid, used or expired",
    )
}

/// The user with a new password hash, every existing session voided, at the next version.
pub(super) fn with_new_password(
    app: &App,
    user: &StoredStaffUser,
    password: &str,
) -> StoredStaffUser {
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
    let user = staff::store::get(app.table.as_ref(), tenant, user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
    let account = Subject::tenant_account(tenant, "password-change", user_id);
    if !credentials::confirm_password(app, &account, &user, &input.current_password).await? {
        return Err(wrong_current_password());
    }
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
    let keep =
        credentials::keep_session_op(tenant, user_id, session_id, changed.sessions_valid_after_ms);
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
    let all = sessions::list(app.table.as_ref(), tenant, user_id).await?;
    Ok(credentials::live_sessions(
        all,
        user.sessions_valid_after_ms,
        app.clock.epoch_seconds(),
        current,
    ))
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
