//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Staff sign-in and session events.
    pub enum AuthEvent {
        /// A staff member signed in.
        LoggedIn = "auth.logged_in", data: "`user_id`, `session_id`, `ip`",
        /// A staff sign-in failed (wrong password, unknown email, locked).
        LoginFailed = "auth.login_failed", data: "`email`, `ip`, `user_id` (null for an unknown email)",
        /// A staff member signed out of one session.
        LoggedOut = "auth.logged_out", data: "`user_id`, `session_id`",
        /// A staff member ended every session.
        LoggedOutEverywhere = "auth.logged_out_everywhere", data: "`user_id`",
        /// A staff member revoked one of their sessions.
        SessionRevoked = "auth.session_revoked", data: "`user_id`, `session_id`",
        /// A staff refresh token was used twice (possibly stolen): its session was revoked.
        RefreshTokenReused = "auth.refresh_token_reused", data: "`user_id`, `session_id`",
        /// A staff password reset was requested for an existing account.
        PasswordResetRequested = "auth.password_reset_requested", data: "`user_id`, `ip`",
        /// A staff password was reset with an emailed token.
        PasswordReset = "auth.password_reset", data: "`user_id`",
        /// A staff member changed their password.
        PasswordChanged = "auth.password_changed", data: "`user_id`",
    }
}
