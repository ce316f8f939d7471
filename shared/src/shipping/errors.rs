//! The error codes shipping answers, and what its rules refuse.

use crate::http::{ApiError, FieldError};

crate::error_codes! {
    /// Shipping errors.
    pub enum ShippingCode {
        /// A company keeps at most 100 shipping zones.
        TooManyZones = "too_many_zones", 422,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ShippingError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("shipping zone not found")]
    NotFound,
    #[error("the zone has changed since the version named in If-Match")]
    Stale,
    #[error("a company keeps at most {max} shipping zones")]
    TooMany { max: usize },
    #[error(transparent)]
    Settings(#[from] crate::settings::errors::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<Vec<FieldError>> for ShippingError {
    fn from(errors: Vec<FieldError>) -> Self {
        ShippingError::Invalid(errors)
    }
}

impl From<ShippingError> for ApiError {
    fn from(error: ShippingError) -> Self {
        let detail = error.to_string();
        match error {
            ShippingError::Invalid(errors) => ApiError::validation(errors),
            ShippingError::NotFound => ApiError::not_found("shipping zone"),
            ShippingError::Stale => ApiError::precondition_failed(),
            ShippingError::TooMany { .. } => ApiError::new(ShippingCode::TooManyZones, detail),
            ShippingError::Settings(e) => e.into(),
            ShippingError::Store(e) => e.into(),
        }
    }
}
