//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Storefront API key events.
    pub enum ApiKeyEvent {
        /// A publishable key was created.
        Created = "api_key.created", data: "`api_key` (never its secret)",
        /// A key's name, scopes or origins changed.
        Updated = "api_key.updated", data: "`api_key`",
        /// A key's secret was replaced.
        Rotated = "api_key.rotated", data: "`api_key`",
        /// A key was revoked.
        Revoked = "api_key.revoked", data: "`api_key`",
    }
}
