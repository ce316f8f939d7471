//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Settings events.
    pub enum SettingsEvent {
        /// A settings group changed (secrets appear masked); an inventory settings change republishes the storefront's availability in the background.
        Updated = "settings.updated", data: "`group`, `version`, `changes`", queues: [crate::queue::names::EVENTS],
    }
}
