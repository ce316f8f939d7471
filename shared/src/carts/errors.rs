//! The error codes carts answer, and what their rules refuse.

use crate::http::{ApiError, FieldError, HttpCode};

crate::error_codes! {
    /// Cart errors.
    pub enum CartCode {
        /// Not enough units are available for the cart's lines; the cart is unchanged and the answer says how many can be had.
        InsufficientStock = "insufficient_stock", 409,
        /// The variant cannot be bought: its product is not active, it has no price in the cart's currency, or it does not exist.
        VariantUnavailable = "variant_unavailable", 422,
        /// The cart expired after a time without changes; start a new one.
        CartExpired = "cart_expired", 409,
        /// The cart was checked out or merged into another; it takes no more changes.
        CartClosed = "cart_closed", 409,
        /// A cart holds at most 100 different lines.
        TooManyLines = "too_many_lines", 422,
        /// Shipping options need the cart's shipping address (or at least its country).
        AddressRequired = "address_required", 422,
        /// The shipping option is not one the cart's destination and lines are offered.
        ShippingOptionUnavailable = "shipping_option_unavailable", 422,
    }
}

/// What the cart rules refuse.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// `cart` or `cart item`.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the cart has changed since the version named in If-Match")]
    Stale,
    #[error("the cart is being changed by other requests; retry")]
    Busy,
    #[error("only {available} of variant {variant_id} can be had; {requested} asked for")]
    InsufficientStock {
        variant_id: String,
        requested: i64,
        available: i64,
    },
    #[error("{0}")]
    VariantUnavailable(String),
    #[error("the cart has expired")]
    Expired,
    #[error("the cart is {0} and takes no more changes")]
    Closed(&'static str),
    #[error("a cart holds at most {max} different lines")]
    TooManyLines { max: usize },
    #[error("shipping options need the cart's shipping address or country")]
    AddressRequired,
    #[error("that shipping option is not offered to this cart")]
    ShippingUnavailable,
    #[error(transparent)]
    Inventory(crate::inventory::errors::InventoryError),
    #[error(transparent)]
    Tax(Box<crate::tax::errors::TaxError>),
    #[error(transparent)]
    Shipping(Box<crate::shipping::errors::ShippingError>),
    #[error(transparent)]
    Discount(Box<crate::discounts::errors::DiscountError>),
    #[error(transparent)]
    Payment(Box<crate::payments::errors::PaymentError>),
    #[error("a cart holds at most {max} discount codes")]
    TooManyCodes { max: usize },
    /// Trying codes too often (per cart or per source address).
    #[error(transparent)]
    Throttled(Box<ApiError>),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::errors::ProductError),
    #[error(transparent)]
    Customer(crate::customers::errors::CustomerError),
    #[error(transparent)]
    Settings(#[from] crate::settings::errors::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl CartError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        CartError::Invalid(vec![FieldError::new(field, code, message)])
    }
}

impl From<Vec<FieldError>> for CartError {
    fn from(errors: Vec<FieldError>) -> Self {
        CartError::Invalid(errors)
    }
}

impl From<crate::discounts::errors::DiscountError> for CartError {
    fn from(error: crate::discounts::errors::DiscountError) -> Self {
        CartError::Discount(Box::new(error))
    }
}

impl From<crate::inventory::errors::InventoryError> for CartError {
    fn from(error: crate::inventory::errors::InventoryError) -> Self {
        use crate::inventory::errors::InventoryError as I;
        match error {
            I::InsufficientStock {
                variant_id,
                requested,
                available,
            } => CartError::InsufficientStock {
                variant_id,
                requested,
                available,
            },
            I::Stale => CartError::Stale,
            I::Busy => CartError::Busy,
            I::Store(e) => CartError::Store(e),
            other => CartError::Inventory(other),
        }
    }
}

impl From<CartError> for ApiError {
    fn from(error: CartError) -> Self {
        let detail = error.to_string();
        match error {
            CartError::Invalid(errors) => ApiError::validation(errors),
            CartError::NotFound(what) => ApiError::not_found(what),
            CartError::Stale => ApiError::precondition_failed(),
            CartError::Busy => ApiError::new(HttpCode::Conflict, detail),
            CartError::InsufficientStock { available, .. } => {
                ApiError::new(CartCode::InsufficientStock, detail).with_available(available)
            }
            CartError::VariantUnavailable(_) => ApiError::new(CartCode::VariantUnavailable, detail),
            CartError::Expired => ApiError::new(CartCode::CartExpired, detail),
            CartError::Closed(_) => ApiError::new(CartCode::CartClosed, detail),
            CartError::TooManyLines { .. } => ApiError::new(CartCode::TooManyLines, detail),
            CartError::AddressRequired => ApiError::new(CartCode::AddressRequired, detail),
            CartError::ShippingUnavailable => {
                ApiError::new(CartCode::ShippingOptionUnavailable, detail)
            }
            CartError::Inventory(e) => e.into(),
            CartError::Tax(e) => (*e).into(),
            CartError::Shipping(e) => (*e).into(),
            CartError::Discount(e) => (*e).into(),
            CartError::Payment(e) => (*e).into(),
            CartError::TooManyCodes { .. } => ApiError::new(
                crate::discounts::errors::DiscountCode::TooManyDiscountCodes,
                detail,
            ),
            CartError::Throttled(e) => *e,
            CartError::Catalog(e) => e.into(),
            CartError::Customer(e) => e.into(),
            CartError::Settings(e) => e.into(),
            CartError::Store(e) => e.into(),
        }
    }
}
