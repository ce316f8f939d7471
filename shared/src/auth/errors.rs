//! The error codes this module answers (see `http::codes`).

crate::error_codes! {
    /// Sign-in and session errors, for staff and customers alike.
    pub enum AuthCode {
        /// The email or password is wrong (or the account is locked or disabled).
        InvalidCredentials = "invalid_credentials", 401,
        /// The refresh token is invalid, expired or its session was ended; sign in again.
        InvalidRefreshToken = "invalid_refresh_token", 401,
        /// The refresh token was already used: its session is revoked, in case it was stolen.
        RefreshTokenReused = "refresh_token_reused", 401,
        /// The password reset token is invalid, used or expired.
        InvalidResetToken = "invalid_reset_token", 400,
        /// A staff member cannot grant permissions they do not hold.
        PermissionEscalation = "permission_escalation", 403,
    }
}
