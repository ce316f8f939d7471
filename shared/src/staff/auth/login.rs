//! Log-in, refresh, log-out.

use super::*;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The company handle.
    pub company: String,
    pub email: String,
    pub password: String,
}

pub(super) fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("the company, email or password is wrong")
        .with_code(AuthCode::InvalidCredentials)
}

pub async fn login(app: &App, input: Login, origin: &Origin) -> Result<Tokens, ApiError> {
    let key = signing_key(app)?;
    let handle = input.company.trim().to_lowercase();
    let email = validate::normalize_email(&input.email);
    if credentials::implausible(&input.password) || email.len() > 320 || handle.len() > 64 {
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
    let lookup = async {
        match &tenant {
            Some(tenant) => {
                Ok(staff::store::by_email_evenly(app.table.as_ref(), tenant, &email).await?)
            }
            None => Ok(None),
        }
    };
    let checked =
        credentials::check_sign_in(app, source, &account, &input.password, lookup).await?;
    let (tenant, user) = match (tenant, checked) {
        (Some(tenant), SignInCheck::Passed(user)) => (tenant, user),
        (tenant, SignInCheck::Failed(user)) => {
            if let Some(tenant) = &tenant {
                // Failures against a real company are part of its audit trail, whether or not
                // the email is known, so the write does not tell either.
                let user_id = user.as_ref().map(|u| u.user.id.as_str());
                app.table
                    .transact(vec![event(
                        app,
                        tenant,
                        AuthEvent::LoginFailed,
                        user_id,
                        json!({"email": email, "ip": origin.ip, "user_id": user_id}),
                    )])
                    .await?;
            }
            return Err(invalid_credentials());
        }
        // No company, no account: the lookup found nobody, so the check cannot pass.
        (None, SignInCheck::Passed(_)) => return Err(invalid_credentials()),
    };
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
pub(super) async fn end_session(
    app: &App,
    tenant: &TenantId,
    user_id: &str,
    session_id: &str,
    kind: AuthEvent,
) -> Result<bool, ApiError> {
    let recorded = event(
        app,
        tenant,
        kind,
        Some(user_id),
        json!({"user_id": user_id, "session_id": session_id}),
    );
    credentials::end_session(app, tenant, user_id, session_id, vec![recorded]).await
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
