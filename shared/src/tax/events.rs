//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Tax rate events.
    pub enum TaxEvent {
        /// A tax rate was created.
        TaxRateCreated = "tax_rate.created", data: "`tax_rate`",
        /// A tax rate changed.
        TaxRateUpdated = "tax_rate.updated", data: "`tax_rate`",
        /// A tax rate was deleted.
        TaxRateDeleted = "tax_rate.deleted", data: "`tax_rate_id`",
    }
}
