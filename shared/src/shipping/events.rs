//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Shipping zone events.
    pub enum ShippingEvent {
        /// A shipping zone was created.
        ShippingZoneCreated = "shipping_zone.created", data: "`zone`",
        /// A shipping zone (or one of its methods) changed.
        ShippingZoneUpdated = "shipping_zone.updated", data: "`zone`",
        /// A shipping zone was deleted.
        ShippingZoneDeleted = "shipping_zone.deleted", data: "`zone_id`",
    }
}
