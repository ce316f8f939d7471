//! The error codes tax answers, and what its rules refuse.

use crate::http::{ApiError, FieldError};

crate::error_codes! {
    /// Tax errors.
    pub enum TaxCode {
        /// A company keeps at most 1,000 tax rates.
        TooManyTaxRates = "too_many_tax_rates", 422,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TaxError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("tax rate not found")]
    NotFound,
    #[error("the tax rate has changed since the version named in If-Match")]
    Stale,
    #[error("a company keeps at most {max} tax rates")]
    TooMany { max: usize },
    #[error(transparent)]
    Settings(#[from] crate::settings::errors::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<Vec<FieldError>> for TaxError {
    fn from(errors: Vec<FieldError>) -> Self {
        TaxError::Invalid(errors)
    }
}

impl From<TaxError> for ApiError {
    fn from(error: TaxError) -> Self {
        let detail = error.to_string();
        match error {
            TaxError::Invalid(errors) => ApiError::validation(errors),
            TaxError::NotFound => ApiError::not_found("tax rate"),
            TaxError::Stale => ApiError::precondition_failed(),
            TaxError::TooMany { .. } => ApiError::new(TaxCode::TooManyTaxRates, detail),
            TaxError::Settings(e) => e.into(),
            TaxError::Store(e) => e.into(),
        }
    }
}
