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
