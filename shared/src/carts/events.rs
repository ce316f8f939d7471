//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Cart events.
    pub enum CartEvent {
        /// A cart was created or changed; the cart expiry worker follows it until it expires.
        CartUpdated = "cart.updated", data: "`cart_id`, `version`, `expires_epoch`, `item_count`", queues: [crate::queue::names::CART_EXPIRY],
        /// A cart with an email and items was left unchanged for an hour (for reminders).
        CartAbandoned = "cart.abandoned", data: "`cart_id`, `email`, `customer_id`, `item_count`, `grand_total`, `currency`",
        /// A cart expired after the company's cart lifetime without a change; its reservations were released.
        CartExpired = "cart.expired", data: "`cart_id`",
    }
}
