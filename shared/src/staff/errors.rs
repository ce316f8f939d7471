//! The error codes this module answers (see `http::codes`).

crate::error_codes! {
    /// Staff errors.
    pub enum StaffCode {
        /// This email already belongs to a staff user of the company.
        AlreadyStaff = "already_staff", 409,
        /// An invitation to this email is pending; revoke it or wait until it expires.
        InvitePending = "invite_pending", 409,
        /// The company must keep at least one active owner.
        LastOwner = "last_owner", 409,
        /// The invitation is invalid, used or expired.
        InvalidInvite = "invalid_invite", 404,
        /// A company has at most 100 pending invitations; revoke unused ones or wait until they expire.
        TooManyInvites = "too_many_invites", 422,
    }
}
