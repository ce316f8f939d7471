//! Customer sign-up, sign-in, refresh with rotation and reuse detection, email verification and
//! password reset. The rules are the staff rules (argon2id, the company's password policy,
//! throttling per account and per source, no enumeration), with the customer token keys.

use super::emails;
use super::model::{Account, Customer, CustomerStatus, StoredCustomer};
use super::store;
use crate::app::App;
use crate::auth::credentials::{self, SignInCheck};
use crate::auth::errors::AuthCode;
use crate::auth::passwords;
use crate::auth::sessions::{self, RefreshToken, Session, SessionView};
use crate::auth::signin::{
    advance_session, invalid_refresh, issue_for, new_signed_in_session, session_for_refresh,
    Origin, RefreshSubject, Tokens,
};
use crate::auth::throttle::{self, Subject};
use crate::auth::TenantId;
use crate::clock::rfc3339;
use crate::customers::errors::CustomerCode;
use crate::events::event;
use crate::http::HttpCode;
use crate::http::{ApiError, FieldError};
use crate::settings::groups::Security;
use crate::store::{StoreError, TxOp};
use crate::tokens::Audience;
use crate::validate::{self, Errors};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// How long an email verification link works.
pub const VERIFY_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// How long a password reset link works.
pub const RESET_LIFETIME_SECS: i64 = 3600;
const VERIFY: &str = "VERIFY";
const RESET: &str = "RESET";

/// A signed-in customer: the account and its tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    pub customer: Account,
    #[serde(flatten)]
    pub tokens: Tokens,
}

/// The customer refresh-token key, and proof that this function can sign customer tokens.
fn signing_key(app: &App) -> Result<[u8; 32], ApiError> {
    app.config.customer_signer()?;
    Ok(app.config.customer_refresh_key()?)
}

fn issue(
    app: &App,
    key: &[u8; 32],
    tenant: &TenantId,
    session: &Session,
    generation: u64,
    policy: &Security,
) -> Tokens {
    issue_for(
        app,
        Audience::Store,
        key,
        tenant,
        session,
        generation,
        Vec::new(),
        policy,
    )
}

/// A new token `<tenant>.<secret>` and the hash of its secret, which names it in the table.
pub(super) fn new_token(tenant: &TenantId) -> (String, String) {
    let secret = credentials::new_secret();
    (
        format!("{tenant}.{secret}"),
        credentials::secret_digest(&secret),
    )
}

/// What a token is bound to. A reset token: the account's credentials, so that any new password
/// (a change, another reset) or a new email voids it. A verification token: the address it was
/// sent to alone, since a new password leaves that address as proven as it was.
fn token_stamp(purpose: &str, stored: &StoredCustomer) -> String {
    let email = stored.customer.email.as_deref().unwrap_or_default();
    let password = match purpose {
        RESET => stored.password_hash.as_deref(),
        _ => None,
    };
    passwords::credential_stamp(password, email)
}

/// A one-time token `<tenant>.<secret>` for `holder` and its stored operation; without a holder,
/// an operation storing a token that names nobody and whose secret nobody gets.
fn one_time_token(
    tenant: &TenantId,
    purpose: &str,
    holder: Option<&StoredCustomer>,
    expires_epoch: i64,
) -> (String, TxOp) {
    let secret = credentials::new_secret();
    let stamp = holder.map(|c| token_stamp(purpose, c));
    let op = store::token_put_op(
        tenant,
        purpose,
        &credentials::secret_digest(&secret),
        holder.map(|c| c.customer.id.as_str()).zip(stamp.as_deref()),
        expires_epoch,
    );
    (format!("{tenant}.{secret}"), op)
}

/// The active customer a presented token was issued to, while the token's stamp still matches
/// the account. A verification token issued before tokens were bound carries no stamp and is
/// taken as it is: no customer's email could change then.
async fn token_customer(
    app: &App,
    tenant: &TenantId,
    purpose: &str,
    hash: &str,
) -> Result<StoredCustomer, ApiError> {
    let holder = store::token_holder(app.table.as_ref(), tenant, purpose, hash)
        .await?
        .ok_or_else(invalid_token)?;
    store::get(app.table.as_ref(), tenant, &holder.customer_id)
        .await?
        .filter(|c| c.customer.status == CustomerStatus::Active)
        .filter(|c| match &holder.stamp {
            Some(stamp) => *stamp == token_stamp(purpose, c),
            None => purpose == VERIFY,
        })
        .ok_or_else(invalid_token)
}

/// The secret's hash of a token issued for this tenant, or `None` when it cannot be one.
pub(super) fn token_hash(tenant: &TenantId, token: &str) -> Option<String> {
    let (token_tenant, secret) = token.trim().split_once('.')?;
    (token_tenant == tenant.as_str() && (20..=100).contains(&secret.len()))
        .then(|| credentials::secret_digest(secret))
}

fn check_name(errors: &mut Errors, field: &str, value: &str) {
    if value.chars().count() > 100 || value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "invalid",
            "use at most 100 characters, without control characters",
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Register and verify

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub accepts_marketing: bool,
}

pub async fn register(
    app: &App,
    tenant: &TenantId,
    input: NewCustomer,
    origin: &Origin,
) -> Result<SignedIn, ApiError> {
    let key = signing_key(app)?;
    if let Some(ip) = &origin.ip {
        // Every registration counts against its source, as log-ins do, so the one answer that
        // tells whether an email is known cannot be asked in bulk.
        throttle::count(app, &Subject::source("customer-register", ip)).await?;
    }
    let policy = crate::settings::service::security(app, tenant).await?;
    let email = validate::normalize_email(&input.email);
    let mut errors = Errors::new();
    errors.check(validate::email("email", &email));
    check_name(&mut errors, "first_name", &input.first_name);
    check_name(&mut errors, "last_name", &input.last_name);
    errors.check(passwords::check_policy(
        &input.password,
        policy.password_min_length as usize,
        "password",
        &[&email, &input.first_name, &input.last_name],
    ));
    errors.finish()?;
    let storefront = emails::storefront_url(app, tenant).await?;

    let now = rfc3339(app.clock.now());
    let stored = StoredCustomer {
        customer: Customer {
            id: crate::ids::CustomerId::generate(app.ids.as_ref()),
            email: Some(email.clone()),
            first_name: input.first_name.trim().to_owned(),
            last_name: input.last_name.trim().to_owned(),
            phone: None,
            accepts_marketing: input.accepts_marketing,
            email_verified: false,
            status: CustomerStatus::Active,
            group_ids: Vec::new(),
            tax_exempt: false,
            tags: Vec::new(),
            note: String::new(),
            default_shipping_address_id: None,
            default_billing_address_id: None,
            created_at: now.clone(),
            updated_at: now,
            erased_at: None,
            erasure: None,
            version: 1,
        },
        password_hash: Some(passwords::hash(&input.password)),
        sessions_valid_after_ms: 0,
        email_change: None,
    };
    let id = stored.customer.id.clone();
    let (session, session_op) = new_signed_in_session(app, tenant, &id, origin, &policy);
    let (token, token_op) = one_time_token(
        tenant,
        VERIFY,
        Some(&stored),
        app.clock.epoch_seconds() + VERIFY_LIFETIME_SECS,
    );
    let mut ops = store::create_ops(tenant, &stored);
    ops.extend([
        session_op,
        token_op,
        emails::verification(app, tenant, &email, &token, storefront.as_deref())?,
        event(
            app,
            tenant,
            crate::customers::events::CustomerEvent::Created,
            Some(&id),
            json!({"customer_id": id, "accepts_marketing": input.accepts_marketing}),
        ),
    ]);
    match app.table.transact(ops).await {
        Ok(()) => {}
        Err(e) if e.failed_at(store::EMAIL_OP) => return Err(email_taken()),
        Err(StoreError::Conflict) => return Err(email_taken()),
        Err(e) => return Err(e.into()),
    }
    Ok(SignedIn {
        customer: Account::from(&stored.customer),
        tokens: issue(app, &key, tenant, &session, 0, &policy),
    })
}

pub(crate) fn email_taken() -> ApiError {
    ApiError::new(
        CustomerCode::EmailTaken,
        "an account with this email already exists; sign in or reset the password",
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub token: String,
}

pub(super) fn invalid_token() -> ApiError {
    ApiError::new(
        CustomerCode::InvalidToken,
        "the token is invalid, used or expired",
    )
}

pub async fn verify_email(app: &App, tenant: &TenantId, input: TokenInput) -> Result<(), ApiError> {
    let hash = token_hash(tenant, &input.token).ok_or_else(invalid_token)?;
    let stored = token_customer(app, tenant, VERIFY, &hash).await?;
    let customer_id = stored.customer.id.clone();
    let mut changed = stored.clone();
    changed.customer.email_verified = true;
    changed.customer.version += 1;
    changed.customer.updated_at = rfc3339(app.clock.now());
    match app
        .table
        .transact(vec![
            store::token_use_op(tenant, VERIFY, &hash),
            store::replace_op(tenant, &changed, stored.customer.version),
            event(
                app,
                tenant,
                crate::customers::events::CustomerEvent::EmailVerified,
                Some(&customer_id),
                json!({"customer_id": customer_id}),
            ),
        ])
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if e.failed_at(0) => Err(invalid_token()),
        Err(e) if e.failed_at(1) => Err(ApiError::new(
            HttpCode::Conflict,
            "the account changed meanwhile; retry",
        )),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Log-in, refresh, log-out

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerLogin {
    pub email: String,
    pub password: String,
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("the email or password is wrong").with_code(AuthCode::InvalidCredentials)
}

pub async fn login(
    app: &App,
    tenant: &TenantId,
    input: CustomerLogin,
    origin: &Origin,
) -> Result<SignedIn, ApiError> {
    let key = signing_key(app)?;
    let email = validate::normalize_email(&input.email);
    if credentials::implausible(&input.password) || email.len() > 320 {
        return Err(invalid_credentials());
    }
    let source = throttle::reserve_source(app, "customer-login", origin.ip.as_deref()).await?;
    let account = Subject::tenant_account(tenant, "customer-login", &email);
    let lookup = async { Ok(store::by_email_evenly(app.table.as_ref(), tenant, &email).await?) };
    let customer =
        match credentials::check_sign_in(app, source, &account, &input.password, lookup).await? {
            SignInCheck::Passed(customer) => customer,
            SignInCheck::Failed(_) => return Err(invalid_credentials()),
        };
    let policy = crate::settings::service::security(app, tenant).await?;
    let (session, op) = new_signed_in_session(app, tenant, &customer.customer.id, origin, &policy);
    app.table.transact(vec![op]).await?;
    Ok(SignedIn {
        customer: Account::from(&customer.customer),
        tokens: issue(app, &key, tenant, &session, 0, &policy),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerRefresh {
    pub refresh_token: String,
}

pub async fn refresh(
    app: &App,
    tenant: &TenantId,
    input: CustomerRefresh,
) -> Result<Tokens, ApiError> {
    let key = signing_key(app)?;
    let token = RefreshToken::parse(&input.refresh_token, "cus")
        .filter(|t| t.tenant == tenant.as_str())
        .ok_or_else(invalid_refresh)?;
    let subject = RefreshSubject {
        field: "customer_id",
        reuse_event: crate::customers::events::CustomerEvent::RefreshTokenReused.kind(),
    };
    let session = session_for_refresh(app, tenant, &key, &token, &subject).await?;
    store::get(app.table.as_ref(), tenant, &session.user_id)
        .await?
        .filter(|c| {
            c.customer.status == CustomerStatus::Active
                && session.created_ms > c.sessions_valid_after_ms
        })
        .ok_or_else(invalid_refresh)?;
    let policy = crate::settings::service::security(app, tenant).await?;
    advance_session(app, tenant, &session, &policy, &subject).await?;
    Ok(issue(
        app,
        &key,
        tenant,
        &session,
        session.generation + 1,
        &policy,
    ))
}

/// Ends one session of the customer; `false` when there was no such session.
pub async fn end_session(
    app: &App,
    tenant: &TenantId,
    customer_id: &str,
    session_id: &str,
) -> Result<bool, ApiError> {
    credentials::end_session(app, tenant, customer_id, session_id, Vec::new()).await
}

/// The customer's live sessions.
pub async fn list_sessions(
    app: &App,
    tenant: &TenantId,
    customer: &StoredCustomer,
    current: &str,
) -> Result<Vec<SessionView>, ApiError> {
    let all = sessions::list(app.table.as_ref(), tenant, &customer.customer.id).await?;
    Ok(credentials::live_sessions(
        all,
        customer.sessions_valid_after_ms,
        app.clock.epoch_seconds(),
        current,
    ))
}

// ---------------------------------------------------------------------------------------------
// Passwords

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerResetRequest {
    pub email: String,
}

/// Sends a reset email when an active account holds the email; answers alike either way.
pub async fn request_reset(
    app: &App,
    tenant: &TenantId,
    input: CustomerResetRequest,
    origin: &Origin,
) -> Result<(), ApiError> {
    let email = validate::normalize_email(&input.email);
    if email.len() > 320 {
        return Ok(());
    }
    let account = Subject::tenant_account(tenant, "customer-password-reset", &email);
    credentials::count_email_request(
        app,
        "customer-password-reset",
        origin.ip.as_deref(),
        &account,
    )
    .await?;
    let customer = store::by_email_evenly(app.table.as_ref(), tenant, &email)
        .await?
        .filter(|c| c.customer.status == CustomerStatus::Active);
    let expires = app.clock.epoch_seconds() + RESET_LIFETIME_SECS;
    let (token, token_op) = one_time_token(tenant, RESET, customer.as_ref(), expires);
    // Read either way, so that both paths make the same store calls.
    let storefront = emails::storefront_url(app, tenant).await?;
    let Some(customer) = customer else {
        // The token stored names nobody; the store sees one transaction either way.
        app.table.transact(vec![token_op]).await?;
        return Ok(());
    };
    let id = customer.customer.id.clone();
    let mail = emails::password_reset(app, tenant, &email, &token, storefront.as_deref())?;
    app.table
        .transact(vec![
            token_op,
            mail,
            event(
                app,
                tenant,
                crate::customers::events::CustomerEvent::PasswordResetRequested,
                Some(&id),
                json!({"customer_id": id}),
            ),
        ])
        .await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerResetConfirm {
    pub token: String,
    pub new_password: String,
}

fn with_new_password(app: &App, stored: &StoredCustomer, password: &str) -> StoredCustomer {
    let mut changed = stored.clone();
    changed.password_hash = Some(passwords::hash(password));
    changed.sessions_valid_after_ms = app.clock.epoch_millis();
    // An email change waiting for its confirmation dies with the old password: whoever knew
    // that password (and asked for the change) must not finish taking the account over.
    changed.email_change = None;
    changed.customer.version += 1;
    changed.customer.updated_at = rfc3339(app.clock.now());
    changed
}

fn check_password(
    errors: &mut Errors,
    policy: &Security,
    field: &str,
    password: &str,
    customer: &Customer,
) {
    let email = customer.email.clone().unwrap_or_default();
    errors.check(passwords::check_policy(
        password,
        policy.password_min_length as usize,
        field,
        &[&email, &customer.first_name, &customer.last_name],
    ));
}

/// Sets a new password with a reset token (once, within the hour) and ends every session.
pub async fn confirm_reset(
    app: &App,
    tenant: &TenantId,
    input: CustomerResetConfirm,
) -> Result<(), ApiError> {
    let hash = token_hash(tenant, &input.token).ok_or_else(invalid_token)?;
    let stored = token_customer(app, tenant, RESET, &hash).await?;
    let customer_id = stored.customer.id.clone();
    let policy = crate::settings::service::security(app, tenant).await?;
    let mut errors = Errors::new();
    check_password(
        &mut errors,
        &policy,
        "new_password",
        &input.new_password,
        &stored.customer,
    );
    errors.finish()?;
    let mut changed = with_new_password(app, &stored, &input.new_password);
    // Reading the emailed token proves the address.
    changed.customer.email_verified = true;
    match app
        .table
        .transact(vec![
            store::token_use_op(tenant, RESET, &hash),
            store::replace_op(tenant, &changed, stored.customer.version),
            event(
                app,
                tenant,
                crate::customers::events::CustomerEvent::PasswordReset,
                Some(&customer_id),
                json!({"customer_id": customer_id}),
            ),
        ])
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if e.failed_at(0) => Err(invalid_token()),
        Err(e) if e.failed_at(1) => Err(ApiError::new(
            HttpCode::Conflict,
            "the account changed meanwhile; retry",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Asks a signed-in customer for their password again before a sensitive change. Wrong answers
/// count per customer (purpose `customer-password-change`) on every route that asks, so a
/// stolen access token buys no more guesses than the lockout allows.
pub(super) async fn check_current_password(
    app: &App,
    tenant: &TenantId,
    stored: &StoredCustomer,
    password: &str,
    field: &str,
) -> Result<(), ApiError> {
    let account = Subject::tenant_account(tenant, "customer-password-change", &stored.customer.id);
    if credentials::confirm_password(app, &account, stored, password).await? {
        Ok(())
    } else {
        Err(ApiError::validation(vec![FieldError::new(
            field,
            "incorrect",
            "the current password is wrong",
        )]))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the signed-in customer's password and ends every other session.
pub async fn change_password(
    app: &App,
    tenant: &TenantId,
    stored: &StoredCustomer,
    session_id: &str,
    input: CustomerPasswordChange,
) -> Result<(), ApiError> {
    let id = &stored.customer.id;
    check_current_password(
        app,
        tenant,
        stored,
        &input.current_password,
        "current_password",
    )
    .await?;
    let policy = crate::settings::service::security(app, tenant).await?;
    let mut errors = Errors::new();
    check_password(
        &mut errors,
        &policy,
        "new_password",
        &input.new_password,
        &stored.customer,
    );
    if input.new_password == input.current_password {
        errors.push(FieldError::new(
            "new_password",
            "unchanged",
            "choose a password different from the current one",
        ));
    }
    errors.finish()?;
    let changed = with_new_password(app, stored, &input.new_password);
    let keep =
        credentials::keep_session_op(tenant, id, session_id, changed.sessions_valid_after_ms);
    app.table
        .transact(vec![
            store::replace_op(tenant, &changed, stored.customer.version),
            keep,
            event(
                app,
                tenant,
                crate::customers::events::CustomerEvent::PasswordChanged,
                Some(id),
                json!({"customer_id": id}),
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
