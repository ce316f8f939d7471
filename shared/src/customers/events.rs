//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Customer and customer group events.
    pub enum CustomerEvent {
        /// A shopper registered.
        Created = "customer.created", data: "`customer_id`, `accepts_marketing`",
        /// A shopper confirmed their email address.
        EmailVerified = "customer.email_verified", data: "`customer_id`",
        /// A customer refresh token was used twice (possibly stolen): its session was revoked.
        RefreshTokenReused = "customer.refresh_token_reused", data: "`customer_id`, `session_id`",
        /// A customer password reset was requested for an existing account.
        PasswordResetRequested = "customer.password_reset_requested", data: "`customer_id`",
        /// A customer password was reset with an emailed token.
        PasswordReset = "customer.password_reset", data: "`customer_id`",
        /// A shopper changed their password.
        PasswordChanged = "customer.password_changed", data: "`customer_id`",
        /// A shopper asked to change their email address.
        EmailChangeRequested = "customer.email_change_requested", data: "`customer_id`",
        /// A shopper confirmed their new email address.
        EmailChanged = "customer.email_changed", data: "`customer_id`",
        /// A customer profile changed, by the shopper or by staff.
        Updated = "customer.updated", data: "`customer_id`, `by` (`customer` or `staff`), `status` (staff changes)",
        /// A shopper added an address.
        AddressCreated = "customer.address_created", data: "`customer_id`, `address_id`",
        /// A shopper changed an address.
        AddressUpdated = "customer.address_updated", data: "`customer_id`, `address_id`",
        /// A shopper removed an address.
        AddressDeleted = "customer.address_deleted", data: "`customer_id`, `address_id`",
        /// A customer's personal data was erased.
        Erased = "customer.erased", data: "`customer_id`",
        /// An erasure's last step (sessions) finished.
        ErasureCompleted = "customer.erasure_completed", data: "`customer_id`",
        /// A customer group was created.
        GroupCreated = "customer_group.created", data: "`group`",
        /// A customer group changed.
        GroupUpdated = "customer_group.updated", data: "`group_id`, `name`",
        /// A customer group was deleted.
        GroupDeleted = "customer_group.deleted", data: "`group_id`",
    }
}
