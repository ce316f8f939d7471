//! The error codes checkout and orders answer.

use super::transitions::InvalidTransition;
use crate::carts::errors::CartError;
use crate::http::{ApiError, FieldError, HttpCode};

crate::error_codes! {
    /// Checkout and order errors.
    pub enum OrderCode {
        /// The cart was checked out already; `order_id` names its order.
        CartCompleted = "cart_completed", 409,
        /// Checking out needs an `Idempotency-Key` header, so that a retry never places a second order.
        IdempotencyKeyRequired = "idempotency_key_required", 400,
        /// The cart has no usable payment session (none opened, or its payment was voided or authorized for another amount): open one.
        PaymentSessionRequired = "payment_session_required", 422,
        /// The payment provider declined the payment; nothing was charged and the cart is unchanged.
        PaymentDeclined = "payment_declined", 402,
        /// The shopper must confirm the payment with the provider (3-D Secure) before checking out again.
        PaymentRequiresAction = "payment_requires_action", 402,
        /// The cart holds stock in more places than one checkout can sell at once.
        CartTooLargeForCheckout = "cart_too_large_for_checkout", 422,
        /// The order's statuses do not allow this action (see the transition table).
        InvalidTransition = "invalid_transition", 409,
        /// The amount is more than what is left to capture or refund.
        AmountTooLarge = "amount_too_large", 409,
        /// The return was received already: its units were counted back (and restocked) then.
        ReturnAlreadyReceived = "return_already_received", 409,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the order has changed since the version named in If-Match")]
    Stale,
    #[error("the order is being changed by other requests; retry")]
    Busy,
    #[error("sign in to check out: this shop has no guest checkout")]
    SignInRequired,
    #[error("the cart was checked out already: order {0}")]
    CartCompleted(String),
    #[error("{0}")]
    PaymentSessionRequired(String),
    #[error("{0}")]
    PaymentDeclined(String),
    #[error("{0}")]
    PaymentRequiresAction(String),
    #[error("the cart holds stock in {lines} places; one checkout sells from at most {max}")]
    TooLarge { lines: usize, max: usize },
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    #[error("{0}")]
    AmountTooLarge(String),
    #[error("the return was received already")]
    ReturnAlreadyReceived,
    #[error(transparent)]
    Cart(Box<CartError>),
    #[error(transparent)]
    Payment(Box<crate::payments::errors::PaymentError>),
    #[error(transparent)]
    Discount(Box<crate::discounts::errors::DiscountError>),
    #[error(transparent)]
    Inventory(Box<crate::inventory::errors::InventoryError>),
    #[error(transparent)]
    Settings(#[from] crate::settings::errors::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl OrderError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        OrderError::Invalid(vec![FieldError::new(field, code, message)])
    }
}

impl From<CartError> for OrderError {
    fn from(error: CartError) -> Self {
        OrderError::Cart(Box::new(error))
    }
}

impl From<crate::payments::errors::PaymentError> for OrderError {
    fn from(error: crate::payments::errors::PaymentError) -> Self {
        OrderError::Payment(Box::new(error))
    }
}

impl From<crate::payments::provider::ProviderError> for OrderError {
    fn from(error: crate::payments::provider::ProviderError) -> Self {
        crate::payments::errors::PaymentError::from(error).into()
    }
}

impl From<crate::discounts::errors::DiscountError> for OrderError {
    fn from(error: crate::discounts::errors::DiscountError) -> Self {
        OrderError::Discount(Box::new(error))
    }
}

impl From<crate::inventory::errors::InventoryError> for OrderError {
    fn from(error: crate::inventory::errors::InventoryError) -> Self {
        OrderError::Inventory(Box::new(error))
    }
}

impl From<OrderError> for ApiError {
    fn from(error: OrderError) -> Self {
        let detail = error.to_string();
        match error {
            OrderError::Invalid(errors) => ApiError::validation(errors),
            OrderError::NotFound(what) => ApiError::not_found(what),
            OrderError::Stale => ApiError::precondition_failed(),
            OrderError::Busy => ApiError::new(HttpCode::Conflict, detail),
            OrderError::SignInRequired => ApiError::unauthorized(detail),
            OrderError::CartCompleted(order_id) => {
                ApiError::new(OrderCode::CartCompleted, detail).with_order_id(order_id)
            }
            OrderError::PaymentSessionRequired(_) => {
                ApiError::new(OrderCode::PaymentSessionRequired, detail)
            }
            OrderError::PaymentDeclined(_) => ApiError::new(OrderCode::PaymentDeclined, detail),
            OrderError::PaymentRequiresAction(_) => {
                ApiError::new(OrderCode::PaymentRequiresAction, detail)
            }
            OrderError::TooLarge { .. } => {
                ApiError::new(OrderCode::CartTooLargeForCheckout, detail)
            }
            OrderError::InvalidTransition(_) => ApiError::new(OrderCode::InvalidTransition, detail),
            OrderError::AmountTooLarge(_) => ApiError::new(OrderCode::AmountTooLarge, detail),
            OrderError::ReturnAlreadyReceived => {
                ApiError::new(OrderCode::ReturnAlreadyReceived, detail)
            }
            OrderError::Cart(e) => (*e).into(),
            OrderError::Payment(e) => (*e).into(),
            OrderError::Discount(e) => (*e).into(),
            OrderError::Inventory(e) => (*e).into(),
            OrderError::Settings(e) => e.into(),
            OrderError::Store(e) => e.into(),
        }
    }
}
