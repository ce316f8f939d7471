//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Settings events.
    pub enum SettingsEvent {
        /// A settings group changed (secrets appear masked).
        Updated = "settings.updated", data: "`group`, `version`, `changes`",
    }
}
