//! A signed-in customer changing their email: the new address must be confirmed before it
//! replaces the old one.
//!
//! The request (with the password) stores the new address on the profile beside the hash of a
//! token mailed to that address; the confirmation, by the same signed-in customer with that
//! token, moves the email guard, so an address stays unique per company, and tells the old
//! address. Nothing is checked against other accounts at the request: whether the new address
//! is taken is answered only at the confirmation, to whoever can read that mailbox.

use super::auth::{check_current_password, invalid_token, new_token, token_hash};
use super::emails;
use super::model::{Account, EmailChange, StoredCustomer};
use super::store;
use crate::app::App;
use crate::auth::throttle::{self, Subject};
use crate::auth::TenantId;
use crate::clock::rfc3339;
use crate::customers::errors::CustomerCode;
use crate::events::event;
use crate::http::HttpCode;
use crate::http::{ApiError, FieldError};
use crate::store::StoreError;
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// How long the confirmation token of an email change works.
pub const LIFETIME_SECS: i64 = 24 * 3600;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeRequest {
    pub new_email: String,
    /// The customer's current password.
    pub password: String,
}

fn email_taken() -> ApiError {
    ApiError::new(
        CustomerCode::EmailTaken,
        "another account of this shop uses this email",
    )
}

fn changed_meanwhile() -> ApiError {
    ApiError::new(HttpCode::Conflict, "the account changed meanwhile; retry")
}

/// Mails a confirmation token to the new address; a later request replaces this one.
pub async fn request(
    app: &App,
    tenant: &TenantId,
    stored: &StoredCustomer,
    input: EmailChangeRequest,
) -> Result<(), ApiError> {
    let id = &stored.customer.id;
    let new_email = validate::normalize_email(&input.new_email);
    let mut errors = Errors::new();
    errors.check(validate::email("new_email", &new_email));
    if stored.customer.email.as_deref() == Some(new_email.as_str()) {
        errors.push(FieldError::new(
            "new_email",
            "unchanged",
            "this is the account's email already",
        ));
    }
    errors.finish()?;
    // Every request counts, so an account cannot be used to flood a mailbox.
    let requests = Subject::tenant_account(tenant, "customer-email-change", id);
    throttle::count(app, &requests).await?;
    check_current_password(app, tenant, stored, &input.password, "password").await?;

    let storefront = emails::storefront_url(app, tenant).await?;
    let (token, token_hash) = new_token(tenant);
    let mut changed = stored.clone();
    changed.email_change = Some(EmailChange {
        email: new_email.clone(),
        token_hash,
        expires_epoch: app.clock.epoch_seconds() + LIFETIME_SECS,
        requested_ms: app.clock.epoch_millis(),
    });
    changed.customer.version += 1;
    changed.customer.updated_at = rfc3339(app.clock.now());
    app.table
        .transact(vec![
            store::replace_op(tenant, &changed, stored.customer.version),
            emails::email_change(app, tenant, &new_email, &token, storefront.as_deref())?,
            event(
                app,
                tenant,
                crate::customers::events::CustomerEvent::EmailChangeRequested,
                Some(id),
                json!({"customer_id": id}),
            ),
        ])
        .await
        .map_err(|e| {
            if e.failed_at(0) {
                changed_meanwhile()
            } else {
                e.into()
            }
        })
}

/// Switches the signed-in customer to the address their token was mailed to, and marks it
/// verified (reading the email proves it).
pub async fn confirm(
    app: &App,
    tenant: &TenantId,
    stored: &StoredCustomer,
    token: &str,
) -> Result<Account, ApiError> {
    let hash = token_hash(tenant, token).ok_or_else(invalid_token)?;
    let id = &stored.customer.id;
    let old = stored.customer.email.clone().unwrap_or_default();
    // Another customer's token, a replaced or used one, and an expired one all fail alike.
    let change = stored
        .email_change
        .clone()
        .filter(|c| {
            c.token_hash == hash
                && c.expires_epoch > app.clock.epoch_seconds()
                && c.email != old
                && c.requested_ms > stored.sessions_valid_after_ms
        })
        .ok_or_else(invalid_token)?;
    let mut changed = stored.clone();
    changed.email_change = None;
    changed.customer.email = Some(change.email.clone());
    changed.customer.email_verified = true;
    changed.customer.version += 1;
    changed.customer.updated_at = rfc3339(app.clock.now());
    let mut ops = vec![store::replace_op(tenant, &changed, stored.customer.version)];
    let guards_at = ops.len();
    ops.extend(store::change_email_ops(tenant, &old, &change.email, id));
    ops.extend([
        event(
            app,
            tenant,
            crate::customers::events::CustomerEvent::EmailChanged,
            Some(id),
            json!({"customer_id": id}),
        ),
        emails::email_changed(app, tenant, &old)?,
    ]);
    match app.table.transact(ops).await {
        Ok(()) => Ok(Account::from(&changed.customer)),
        Err(e) if e.failed_at(guards_at + store::NEW_EMAIL_OP) => Err(email_taken()),
        Err(e) if e.failed_at(0) => Err(changed_meanwhile()),
        Err(StoreError::Conflict) => Err(changed_meanwhile()),
        Err(e) => Err(e.into()),
    }
}
