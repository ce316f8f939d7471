//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Company events.
    pub enum CompanyEvent {
        /// A company signed up.
        Created = "company.created", data: "`company_id`, `handle`, `owner_id`",
        /// The company profile or handle changed.
        Updated = "company.updated", data: "`company_id`, `before`, `after` (the profiles)",
    }
}
