//! The error codes this module answers (see `http::codes`).

crate::error_codes! {
    /// Company errors.
    pub enum CompanyCode {
        /// Another company has this handle.
        HandleTaken = "handle_taken", 409,
    }
}
