//! What the settings rules refuse (the codes they answer are platform codes: see `http::codes`).

use crate::http::{ApiError, FieldError, HttpCode};

/// The settings service returns these; the route layer answers each with its code
/// (`From<SettingsError> for ApiError`).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("the group has changed since the version named in If-Match")]
    Stale,
    /// Every attempt met another change of the same group.
    #[error("the group keeps changing; retry")]
    KeepsChanging,
    /// Stored values that no longer parse: a bug or a bad migration, never the caller's fault.
    #[error("the stored `{group}` settings do not parse")]
    Unreadable { group: &'static str },
    #[error(transparent)]
    MissingSecret(#[from] crate::secrets::MissingSecret),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl SettingsError {
    /// One invalid field.
    pub fn field(field: &str, message: &str) -> Self {
        SettingsError::Invalid(vec![FieldError::new(field, "invalid", message)])
    }
}

impl From<SettingsError> for ApiError {
    fn from(error: SettingsError) -> Self {
        let detail = error.to_string();
        match error {
            SettingsError::Invalid(errors) => ApiError::validation(errors),
            SettingsError::Stale => ApiError::precondition_failed(),
            SettingsError::KeepsChanging => ApiError::new(HttpCode::ConcurrentUpdate, detail),
            // Logged with the parse error where it was found.
            SettingsError::Unreadable { .. } => ApiError::internal(),
            SettingsError::MissingSecret(e) => e.into(),
            SettingsError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_answers_its_code_and_status() {
        let answer = |e: SettingsError| {
            let e = ApiError::from(e);
            (e.status, e.code.name)
        };
        assert_eq!(
            answer(SettingsError::field("stripe.secret_key", "too long")),
            (422, "validation_failed")
        );
        assert_eq!(answer(SettingsError::Stale), (412, "precondition_failed"));
        assert_eq!(
            answer(SettingsError::KeepsChanging),
            (409, "concurrent_update")
        );
        assert_eq!(
            answer(SettingsError::Unreadable { group: "tax" }),
            (500, "internal_error")
        );
    }
}
