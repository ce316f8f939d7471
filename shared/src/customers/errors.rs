//! The error codes this module answers (see `http::codes`).

crate::error_codes! {
    /// Customer errors.
    pub enum CustomerCode {
        /// Another account of this shop uses this email; sign in or reset the password.
        EmailTaken = "email_taken", 409,
        /// The customer's data was erased; the record keeps only what the law requires.
        CustomerErased = "customer_erased", 409,
        /// Customers still belong to this group; take them out first.
        GroupInUse = "group_in_use", 409,
        /// A verification, reset or email-change token is invalid, used or expired.
        InvalidToken = "invalid_token", 400,
        /// A customer keeps at most 50 addresses.
        TooManyAddresses = "too_many_addresses", 422,
    }
}
