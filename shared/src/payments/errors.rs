//! The error codes payments answer.

use crate::http::{ApiError, FieldError};

crate::error_codes! {
    /// Payment errors.
    pub enum PaymentCode {
        /// The provider is not one the company's payments settings enable.
        PaymentProviderUnavailable = "payment_provider_unavailable", 422,
        /// The payment provider could not be reached or refused the request.
        PaymentProviderError = "payment_provider_error", 502,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("payment not found")]
    NotFound,
    #[error("the payment provider {0} is not enabled in the payments settings")]
    ProviderUnavailable(String),
    #[error(transparent)]
    Provider(#[from] super::provider::ProviderError),
    #[error(transparent)]
    Ledger(#[from] super::ledger::LedgerError),
    #[error(transparent)]
    Settings(#[from] crate::settings::errors::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<PaymentError> for ApiError {
    fn from(error: PaymentError) -> Self {
        let detail = error.to_string();
        match error {
            PaymentError::Invalid(errors) => ApiError::validation(errors),
            PaymentError::NotFound => ApiError::not_found("payment"),
            PaymentError::ProviderUnavailable(_) => {
                ApiError::new(PaymentCode::PaymentProviderUnavailable, detail)
            }
            PaymentError::Provider(_) => ApiError::new(PaymentCode::PaymentProviderError, detail),
            PaymentError::Ledger(_) => ApiError::new(crate::http::HttpCode::Conflict, detail),
            PaymentError::Settings(e) => e.into(),
            PaymentError::Store(e) => e.into(),
        }
    }
}
