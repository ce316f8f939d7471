//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Staff membership events.
    pub enum StaffEvent {
        /// Someone was invited to join the company.
        Invited = "staff.invited", data: "`invite_id`, `email`, `role_ids`, `replaced_invite_id`",
        /// A pending invitation was revoked.
        InviteRevoked = "staff.invite_revoked", data: "`invite_id`",
        /// A pending invitation expired.
        InviteExpired = "staff.invite_expired", data: "`invite_id`",
        /// An invitation was accepted: a new member joined.
        Joined = "staff.joined", data: "`user_id`, `invite_id`",
        /// A member's name, roles or status changed.
        Updated = "staff.updated", data: "`user_id`, `before`, `after`",
        /// A member was removed.
        Removed = "staff.removed", data: "`user_id`, `email`",
    }
}
