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

/// What the customer account and address-book rules refuse (staff's and the customer's own
/// changes). The services return these; the routes answer each with its code
/// (`From<CustomerError> for ApiError`). The sign-in flows (`customers::auth`) answer through the
/// shared credential machinery instead, whose refusals are HTTP by nature (401, 429).
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("the request has invalid fields")]
    Invalid(Vec<crate::http::FieldError>),
    /// `customer` or `address`.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The signed-in customer's account is disabled or erased.
    #[error("the account is disabled or no longer exists")]
    Unavailable,
    /// The access token's session ended (logged out, or cut off by a password change or reset).
    #[error("this session has ended; sign in again")]
    SessionEnded,
    #[error("the resource has changed since the version named in If-Match")]
    Stale,
    #[error("the customer changed meanwhile; retry")]
    ChangedMeanwhile,
    #[error("the customer is being changed by another request; retry")]
    Busy,
    #[error("the address book is being changed by another request; retry")]
    BookBusy,
    #[error("this customer's data was erased")]
    Erased,
    #[error("a customer keeps at most {max} addresses")]
    TooManyAddresses { max: usize },
    #[error(transparent)]
    Settings(#[from] crate::settings::errors::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<Vec<crate::http::FieldError>> for CustomerError {
    fn from(errors: Vec<crate::http::FieldError>) -> Self {
        CustomerError::Invalid(errors)
    }
}

impl From<CustomerError> for crate::http::ApiError {
    fn from(error: CustomerError) -> Self {
        use crate::http::{ApiError, HttpCode};
        let detail = error.to_string();
        match error {
            CustomerError::Invalid(errors) => ApiError::validation(errors),
            CustomerError::NotFound(what) => ApiError::not_found(what),
            CustomerError::Unavailable => {
                ApiError::unauthorized(detail).with_code(HttpCode::AccountUnavailable)
            }
            CustomerError::SessionEnded => ApiError::unauthorized(detail),
            CustomerError::Stale => ApiError::precondition_failed(),
            CustomerError::ChangedMeanwhile | CustomerError::Busy | CustomerError::BookBusy => {
                ApiError::new(HttpCode::Conflict, detail)
            }
            CustomerError::Erased => ApiError::new(CustomerCode::CustomerErased, detail),
            CustomerError::TooManyAddresses { .. } => {
                ApiError::new(CustomerCode::TooManyAddresses, detail)
            }
            CustomerError::Settings(e) => e.into(),
            CustomerError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ApiError;

    #[test]
    fn each_customer_refusal_answers_its_code_and_status() {
        let answer = |e: CustomerError| {
            let e = ApiError::from(e);
            (e.status, e.code.name, e.detail)
        };
        assert_eq!(
            answer(CustomerError::NotFound("address")),
            (404, "not_found", "address not found".into())
        );
        assert_eq!(
            answer(CustomerError::Unavailable),
            (
                401,
                "account_unavailable",
                "the account is disabled or no longer exists".into()
            )
        );
        assert_eq!(answer(CustomerError::Stale).0, 412);
        assert_eq!(answer(CustomerError::BookBusy).1, "conflict");
        assert_eq!(
            answer(CustomerError::Erased),
            (
                409,
                "customer_erased",
                "this customer's data was erased".into()
            )
        );
        assert_eq!(
            answer(CustomerError::TooManyAddresses { max: 50 }),
            (
                422,
                "too_many_addresses",
                "a customer keeps at most 50 addresses".into()
            )
        );
    }
}
