//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Role events.
    pub enum RoleEvent {
        /// A custom role was created.
        Created = "role.created", data: "`role`",
        /// A role changed.
        Updated = "role.updated", data: "`role` (after the change)",
        /// A custom role was deleted.
        Deleted = "role.deleted", data: "`role`",
    }
}
