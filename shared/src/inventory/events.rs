//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Stock location and stock events.
    pub enum InventoryEvent {
        /// A stock location was created.
        LocationCreated = "location.created", data: "`location`",
        /// A stock location changed.
        LocationUpdated = "location.updated", data: "`location`",
        /// A stock location was deleted.
        LocationDeleted = "location.deleted", data: "`location_id`",
        /// Units on hand changed at a location (an adjustment, a count, a transfer or a sale).
        StockChanged = "stock.changed", data: "`variant_id`, `location_id`, `delta`, `reason`, `on_hand`, `movement_id`",
        /// Units were reserved for a holder (a cart or an order); its worker releases them when they expire.
        StockReserved = "stock.reserved", data: "`holder`, `expires_at`, `expires_epoch`, `lines` (`variant_id`, `location_id`, `quantity`)", queues: [crate::queue::names::CART_EXPIRY],
        /// A level was split into shards (or merged back) for a flash sale.
        StockSplit = "stock.split", data: "`variant_id`, `location_id`, `shards`",
        /// A holder's reservations were released (given up, or expired).
        StockReleased = "stock.released", data: "`holder`, `expired`, `lines`",
        /// A holder's reservations became sales: the units left stock.
        StockCommitted = "stock.committed", data: "`holder`, `lines`",
    }
}
