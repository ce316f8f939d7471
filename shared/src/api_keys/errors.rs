//! The error codes this module answers (see `http::codes`).

crate::error_codes! {
    /// API key errors.
    pub enum ApiKeyCode {
        /// The key is revoked; it can no longer be changed or rotated.
        KeyRevoked = "key_revoked", 409,
        /// A company holds at most 100 API keys; delete unused ones.
        TooManyKeys = "too_many_keys", 422,
    }
}

/// What the API key rules refuse. The service returns these; the route layer answers each with
/// its code (`From<ApiKeyError> for ApiError`).
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("the request has invalid fields")]
    Invalid(Vec<crate::http::FieldError>),
    #[error("API key not found")]
    NotFound,
    #[error("a company holds at most {max} API keys; delete unused ones")]
    TooManyKeys { max: usize },
    #[error("this API key is revoked")]
    Revoked,
    #[error("the key has changed since the version named in If-Match")]
    Stale,
    #[error("the key is being changed by another request; retry")]
    Busy,
    #[error("a storefront API key is required in X-Api-Key")]
    KeyRequired,
    #[error("the API key is invalid or revoked")]
    InvalidKey,
    #[error("this API key lacks the `{0}` scope")]
    MissingScope(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<ApiKeyError> for crate::http::ApiError {
    fn from(error: ApiKeyError) -> Self {
        use crate::http::{ApiError, HttpCode};
        let detail = error.to_string();
        match error {
            ApiKeyError::Invalid(errors) => ApiError::validation(errors),
            ApiKeyError::NotFound => ApiError::not_found("API key"),
            ApiKeyError::TooManyKeys { .. } => ApiError::new(ApiKeyCode::TooManyKeys, detail),
            ApiKeyError::Revoked => ApiError::new(ApiKeyCode::KeyRevoked, detail),
            ApiKeyError::Stale => ApiError::precondition_failed(),
            ApiKeyError::Busy => ApiError::new(HttpCode::Conflict, detail),
            ApiKeyError::KeyRequired => {
                ApiError::unauthorized(detail).with_code(HttpCode::ApiKeyRequired)
            }
            ApiKeyError::InvalidKey => {
                ApiError::unauthorized(detail).with_code(HttpCode::InvalidApiKey)
            }
            ApiKeyError::MissingScope(_) => ApiError::new(HttpCode::MissingScope, detail),
            ApiKeyError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ApiError;

    #[test]
    fn each_refusal_answers_its_code_and_status() {
        let answer = |e: ApiKeyError| {
            let e = ApiError::from(e);
            (e.status, e.code.name)
        };
        assert_eq!(
            answer(ApiKeyError::TooManyKeys { max: 100 }),
            (422, "too_many_keys")
        );
        assert_eq!(answer(ApiKeyError::Revoked), (409, "key_revoked"));
        assert_eq!(answer(ApiKeyError::NotFound), (404, "not_found"));
        assert_eq!(answer(ApiKeyError::Stale), (412, "precondition_failed"));
        assert_eq!(answer(ApiKeyError::Busy), (409, "conflict"));
        assert_eq!(answer(ApiKeyError::KeyRequired), (401, "api_key_required"));
        assert_eq!(answer(ApiKeyError::InvalidKey), (401, "invalid_api_key"));
        assert_eq!(
            answer(ApiKeyError::MissingScope("store.read".into())),
            (403, "missing_scope")
        );
        assert_eq!(
            answer(ApiKeyError::Invalid(vec![])),
            (422, "validation_failed")
        );
        let scope = ApiError::from(ApiKeyError::MissingScope("carts.write".into()));
        assert!(scope.detail.contains("`carts.write`"));
    }
}
