//! Opening payments: a payment record for an amount, with the provider's session.

use super::errors::PaymentError;
use super::model::{Payment, PaymentStatus};
use super::provider::{self, Session, SessionRequest};
use crate::app::App;
use crate::clock::rfc3339;
use crate::identity::TenantId;
use crate::settings::groups::Payments;

/// The provider `name`, if the company's payments settings enable it.
pub async fn enabled(
    app: &App,
    tenant: &TenantId,
    name: &str,
) -> Result<Box<dyn provider::PaymentProvider>, PaymentError> {
    let settings = crate::settings::service::typed::<Payments>(app, tenant).await?;
    if !settings.enabled_providers.iter().any(|p| p == name) {
        return Err(PaymentError::ProviderUnavailable(name.to_owned()));
    }
    provider::named(name).ok_or_else(|| PaymentError::ProviderUnavailable(name.to_owned()))
}

/// A new payment of `amount` with `provider`, and the session its provider opened for it (not
/// yet stored: the caller writes it with [`super::store::payment_put`] in its own transaction).
pub async fn open(
    app: &App,
    tenant: &TenantId,
    provider_name: &str,
    currency: &str,
    amount: i64,
) -> Result<(Payment, Session), PaymentError> {
    let provider = enabled(app, tenant, provider_name).await?;
    let id = app.ids.new_id("pay");
    let session = provider
        .create_session(&SessionRequest {
            payment_id: id.clone(),
            currency: currency.to_owned(),
            amount,
        })
        .await?;
    let now = rfc3339(app.clock.now());
    let payment = Payment {
        id,
        provider: provider.name().to_owned(),
        currency: currency.to_owned(),
        amount,
        status: PaymentStatus::Pending,
        provider_reference: Some(session.reference.clone()),
        transactions: Vec::new(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        locked_until: 0,
    };
    Ok((payment, session))
}
