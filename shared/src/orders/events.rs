//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Order events.
    pub enum OrderEvent {
        /// A cart was checked out: an order was placed.
        OrderPlaced = "order.placed", data: "`order_id`, `number`, `name`, `cart_id`, `customer_id`, `email`, `currency`, `grand_total`, `payment_status`",
        /// An order's payment was captured (in part or in full).
        OrderPaid = "order.paid", data: "`order_id`, `amount`, `payment_status`",
        /// An order was canceled.
        OrderCanceled = "order.canceled", data: "`order_id`, `reason`",
        /// A note was added to an order.
        OrderNoteAdded = "order.note_added", data: "`order_id`",
    }
}
