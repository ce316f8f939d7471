//! The error codes discounts answer, and what their rules refuse.

use super::engine::Refusal;
use crate::http::{ApiError, FieldError};

crate::error_codes! {
    /// Discount errors.
    pub enum DiscountCode {
        /// No discount has this code (or it is switched off).
        DiscountNotFound = "discount_not_found", 422,
        /// The discount's end date has passed.
        DiscountExpired = "discount_expired", 422,
        /// The discount's start date is still ahead.
        DiscountNotStarted = "discount_not_started", 422,
        /// The discount's uses (in all, per customer or per code) are used up.
        DiscountUsageExhausted = "discount_usage_exhausted", 422,
        /// The cart does not reach the discount's minimum subtotal or quantity.
        DiscountMinimumNotMet = "discount_minimum_not_met", 422,
        /// The discount cannot apply together with the discounts the cart already has.
        DiscountNotCombinable = "discount_not_combinable", 422,
        /// The discount is for other products, another currency or other customers.
        DiscountNotApplicable = "discount_not_applicable", 422,
        /// A cart holds at most 5 discount codes.
        TooManyDiscountCodes = "too_many_discount_codes", 422,
        /// A company keeps at most 1,000 discounts.
        TooManyDiscounts = "too_many_discounts", 422,
        /// A discount keeps at most 100,000 codes.
        TooManyCodes = "too_many_codes", 422,
        /// The company already has this code (codes are unique in any case).
        CodeTaken = "code_taken", 409,
        /// Codes belong to discounts whose method is `code`.
        NotACodeDiscount = "not_a_code_discount", 409,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscountError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the discount has changed since the version named in If-Match")]
    Stale,
    #[error("a company keeps at most {max} discounts")]
    TooMany { max: usize },
    #[error("a discount keeps at most {max} codes")]
    TooManyCodes { max: i64 },
    #[error("the code {0} is taken")]
    CodeTaken(String),
    #[error("codes belong to discounts whose method is code; this one applies automatically")]
    NotACodeDiscount,
    /// A code a shopper entered does not apply (see the message for why).
    #[error("{message}")]
    Refused { refusal: Refusal, message: String },
    #[error(transparent)]
    Settings(#[from] crate::settings::errors::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<Vec<FieldError>> for DiscountError {
    fn from(errors: Vec<FieldError>) -> Self {
        DiscountError::Invalid(errors)
    }
}

/// What a shopper is told when a code does not apply.
pub fn refusal_message(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::NotFound => "This discount code is not valid.",
        Refusal::NotStarted => "This discount code is not active yet.",
        Refusal::Expired => "This discount code has expired.",
        Refusal::NotApplicable => "This discount code does not apply to this cart.",
        Refusal::MinimumNotMet => "The cart does not reach this discount code's minimum.",
        Refusal::NotCombinable => {
            "This discount code cannot be combined with the discounts already applied."
        }
        Refusal::UsageExhausted => "This discount code has been used up.",
    }
}

/// The error code of a refusal.
pub fn refusal_code(refusal: Refusal) -> DiscountCode {
    match refusal {
        Refusal::NotFound => DiscountCode::DiscountNotFound,
        Refusal::NotStarted => DiscountCode::DiscountNotStarted,
        Refusal::Expired => DiscountCode::DiscountExpired,
        Refusal::NotApplicable => DiscountCode::DiscountNotApplicable,
        Refusal::MinimumNotMet => DiscountCode::DiscountMinimumNotMet,
        Refusal::NotCombinable => DiscountCode::DiscountNotCombinable,
        Refusal::UsageExhausted => DiscountCode::DiscountUsageExhausted,
    }
}

impl DiscountError {
    pub fn refused(refusal: Refusal) -> Self {
        DiscountError::Refused {
            refusal,
            message: refusal_message(refusal).to_owned(),
        }
    }
}

impl From<DiscountError> for ApiError {
    fn from(error: DiscountError) -> Self {
        let detail = error.to_string();
        match error {
            DiscountError::Invalid(errors) => ApiError::validation(errors),
            DiscountError::NotFound(what) => ApiError::not_found(what),
            DiscountError::Stale => ApiError::precondition_failed(),
            DiscountError::TooMany { .. } => ApiError::new(DiscountCode::TooManyDiscounts, detail),
            DiscountError::TooManyCodes { .. } => ApiError::new(DiscountCode::TooManyCodes, detail),
            DiscountError::CodeTaken(_) => ApiError::new(DiscountCode::CodeTaken, detail),
            DiscountError::NotACodeDiscount => {
                ApiError::new(DiscountCode::NotACodeDiscount, detail)
            }
            DiscountError::Refused { refusal, message } => {
                ApiError::new(refusal_code(refusal), message)
            }
            DiscountError::Settings(e) => e.into(),
            DiscountError::Store(e) => e.into(),
        }
    }
}
