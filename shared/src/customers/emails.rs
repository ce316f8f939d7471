//! The emails customers get, written as `notification.email_requested` events.
//!
//! An email that carries a token links to the storefront's page for it when the company set
//! `general.storefront_url` (`<storefront_url>/account/verify?token=...`); otherwise it carries the
//! bare token, for the storefront's own page to post.

use crate::app::App;
use crate::auth::TenantId;
use crate::events::email::EmailRequest;
use crate::events::{outbox_put, DomainEvent};
use crate::http::ApiError;
use crate::secrets::MissingSecret;
use crate::settings::groups::General;
use crate::store::TxOp;

/// The storefront pages customer emails link to, below `general.storefront_url`.
pub const VERIFY_PAGE: &str = "/account/verify";
pub const RESET_PAGE: &str = "/account/reset-password";
pub const CONFIRM_EMAIL_PAGE: &str = "/account/confirm-email";

/// The company's storefront address, when it set one (read through the settings cache).
pub async fn storefront_url(app: &App, tenant: &TenantId) -> Result<Option<String>, ApiError> {
    let general: General = crate::settings::service::typed::<General>(app, tenant).await?;
    Ok(general.storefront_url)
}

/// The link to `page` carrying `token`. Tokens are `<tenant id>.<base64url>`, which need no
/// escaping in a query.
pub fn link(storefront_url: &str, page: &str, token: &str) -> String {
    format!(
        "{}{page}?token={token}",
        storefront_url.trim_end_matches('/')
    )
}

fn email(
    app: &App,
    tenant: &TenantId,
    to: &str,
    subject: &str,
    text: String,
) -> Result<TxOp, MissingSecret> {
    let mail = EmailRequest {
        to: vec![to.to_owned()],
        subject: subject.into(),
        text,
        html: None,
        from: None,
        reply_to: None,
    };
    let event = DomainEvent::email(app, tenant, None, &mail)?;
    Ok(outbox_put(&event, app.clock.epoch_seconds()))
}

/// What an email says to hand over its token: a link to open, or the token and the route the
/// storefront posts it to.
fn token_part(
    storefront: Option<&str>,
    page: &str,
    token: &str,
    route: &str,
    what: &str,
) -> String {
    match storefront {
        Some(url) => format!("Open this link:\n{}", link(url, page, token)),
        None => format!("Your {what} (the shop's site sends it to {route}):\n{token}"),
    }
}

pub fn verification(
    app: &App,
    tenant: &TenantId,
    to: &str,
    token: &str,
    storefront: Option<&str>,
) -> Result<TxOp, MissingSecret> {
    let part = token_part(
        storefront,
        VERIFY_PAGE,
        token,
        "POST /store/auth/verify-email",
        "confirmation token",
    );
    email(
        app,
        tenant,
        to,
        "Confirm your email address",
        format!(
            "Welcome! Confirm your email address to finish setting up your account.\n\n{part}\n\nIt works for 7 days. If you did not create an account, ignore this email.\n"
        ),
    )
}

pub fn password_reset(
    app: &App,
    tenant: &TenantId,
    to: &str,
    token: &str,
    storefront: Option<&str>,
) -> Result<TxOp, MissingSecret> {
    let part = token_part(
        storefront,
        RESET_PAGE,
        token,
        "POST /store/auth/password-reset/confirm",
        "reset token",
    );
    email(
        app,
        tenant,
        to,
        "Reset your password",
        format!(
            "Someone asked to reset the password of your account.\n\n{part}\n\nIt works once, for one hour. If this was not you, ignore this email; your password stays as it is.\n"
        ),
    )
}

/// Sent to the new address of an email change.
pub fn email_change(
    app: &App,
    tenant: &TenantId,
    to: &str,
    token: &str,
    storefront: Option<&str>,
) -> Result<TxOp, MissingSecret> {
    let part = token_part(
        storefront,
        CONFIRM_EMAIL_PAGE,
        token,
        "POST /store/customers/me/email/confirm",
        "confirmation token",
    );
    email(
        app,
        tenant,
        to,
        "Confirm your new email address",
        format!(
            "You asked to use this email address for your account.\n\n{part}\n\nIt works once, for 24 hours, while you are signed in. Until then your account keeps its current address. If this was not you, ignore this email.\n"
        ),
    )
}

/// Sent to the old address once an email change is confirmed.
pub fn email_changed(app: &App, tenant: &TenantId, to: &str) -> Result<TxOp, MissingSecret> {
    email(
        app,
        tenant,
        to,
        "Your email address was changed",
        "The email address of your account was changed, and this address no longer signs in.\n\nIf this was not you, contact the shop at once.\n".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_join_the_storefront_url_and_the_page_once() {
        assert_eq!(
            link("https://shop.example.com/", VERIFY_PAGE, "t_1.abc"),
            "https://shop.example.com/account/verify?token=t_1.abc"
        );
        assert_eq!(
            link("https://example.com/shop", RESET_PAGE, "t_1.abc"),
            "https://example.com/shop/account/reset-password?token=t_1.abc"
        );
    }
}
