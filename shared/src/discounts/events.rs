//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Discount events.
    pub enum DiscountEvent {
        /// A discount was created.
        DiscountCreated = "discount.created", data: "`discount`",
        /// A discount changed.
        DiscountUpdated = "discount.updated", data: "`discount`",
        /// A discount was deleted, with its codes.
        DiscountDeleted = "discount.deleted", data: "`discount_id`",
        /// Codes were added to a discount.
        DiscountCodesCreated = "discount_codes.created", data: "`discount_id`, `count`, `codes` (at most the first 100)",
        /// A code was deleted.
        DiscountCodeDeleted = "discount_code.deleted", data: "`discount_id`, `code`",
    }
}
