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
        /// Some of an order's units shipped.
        FulfillmentCreated = "fulfillment.created", data: "`order_id`, `fulfillment_id`, `notify`, `email`, `tracking`",
        /// A fulfilment was canceled.
        FulfillmentCanceled = "fulfillment.canceled", data: "`order_id`, `fulfillment_id`",
        /// Units are expected back.
        ReturnRequested = "return.requested", data: "`order_id`, `return_id`",
        /// A return was received (and restocked).
        ReturnReceived = "return.received", data: "`order_id`, `return_id`",
        /// Money was refunded.
        OrderRefunded = "order.refunded", data: "`order_id`, `refund_id`, `amount`, `payment_status`",
        /// A completed or canceled order was archived.
        OrderArchived = "order.archived", data: "`order_id`, `status`",
        /// An archived order was brought back (to `completed` or `canceled`).
        OrderUnarchived = "order.unarchived", data: "`order_id`, `status`",
        /// A note was added to an order.
        OrderNoteAdded = "order.note_added", data: "`order_id`",
    }
}
