//! The error codes this module answers (see `http::codes`), and what its rules refuse.

use crate::http::{ApiError, FieldError, HttpCode};

crate::error_codes! {
    /// Inventory errors.
    pub enum InventoryCode {
        /// Not enough units are available (on hand, less reserved and safety stock) for the change.
        InsufficientStock = "insufficient_stock", 409,
        /// The location still holds stock or reservations; move or release them first.
        LocationInUse = "location_in_use", 409,
        /// The location is inactive, or being deleted: it takes no new stock or reservations.
        LocationInactive = "location_inactive", 409,
        /// A company keeps at most 50 stock locations.
        TooManyLocations = "too_many_locations", 422,
        /// A shard the level would lose still holds reservations; split again once they are released or sold.
        ShardInUse = "shard_in_use", 409,
    }
}

/// What the inventory rules refuse. The services return these; the routes answer each with its
/// code (`From<InventoryError> for ApiError`).
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// `location`, `variant`, `stock level` or `reservation`.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the resource has changed since the version named in If-Match")]
    Stale,
    #[error("the stock is being changed by other requests; retry")]
    Busy,
    #[error("only {available} of variant {variant_id} can be taken; {requested} asked for")]
    InsufficientStock {
        variant_id: String,
        requested: i64,
        available: i64,
    },
    #[error("the location still holds stock or reservations; move or release them first")]
    LocationInUse,
    #[error("the location is inactive or being deleted; it takes no new stock")]
    LocationInactive,
    #[error("a company keeps at most {max} stock locations")]
    TooManyLocations { max: usize },
    #[error("shard {shard} of the level still holds reservations; split again once they are released or sold")]
    ShardInUse { shard: u32 },
    #[error("a reservation holds at most {max} variants")]
    TooManyLines { max: usize },
    #[error("one change of a reservation changes at most {max} lines; make it in smaller steps")]
    TooManyChanges { max: usize },
    #[error(transparent)]
    Catalog(#[from] crate::catalog::errors::ProductError),
    #[error(transparent)]
    Settings(#[from] crate::settings::errors::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl InventoryError {
    /// A field error for `field`.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        InventoryError::Invalid(vec![FieldError::new(field, code, message)])
    }
}

impl From<Vec<FieldError>> for InventoryError {
    fn from(errors: Vec<FieldError>) -> Self {
        InventoryError::Invalid(errors)
    }
}

impl From<InventoryError> for ApiError {
    fn from(error: InventoryError) -> Self {
        let detail = error.to_string();
        match error {
            InventoryError::Invalid(errors) => ApiError::validation(errors),
            InventoryError::NotFound(what) => ApiError::not_found(what),
            InventoryError::Stale => ApiError::precondition_failed(),
            InventoryError::Busy => ApiError::new(HttpCode::Conflict, detail),
            InventoryError::InsufficientStock { available, .. } => {
                ApiError::new(InventoryCode::InsufficientStock, detail).with_available(available)
            }
            InventoryError::LocationInUse => ApiError::new(InventoryCode::LocationInUse, detail),
            InventoryError::LocationInactive => {
                ApiError::new(InventoryCode::LocationInactive, detail)
            }
            InventoryError::TooManyLocations { .. } => {
                ApiError::new(InventoryCode::TooManyLocations, detail)
            }
            InventoryError::ShardInUse { .. } => ApiError::new(InventoryCode::ShardInUse, detail),
            InventoryError::TooManyLines { .. } | InventoryError::TooManyChanges { .. } => {
                ApiError::validation(vec![FieldError::new("lines", "too_many", detail)])
            }
            InventoryError::Catalog(e) => e.into(),
            InventoryError::Settings(e) => e.into(),
            InventoryError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_inventory_refusal_answers_its_code_and_status() {
        let answer = |e: InventoryError| {
            let e = ApiError::from(e);
            (e.status, e.code.name, e.detail)
        };
        assert_eq!(
            answer(InventoryError::InsufficientStock {
                variant_id: "var_1".into(),
                requested: 3,
                available: 2
            }),
            (
                409,
                "insufficient_stock",
                "only 2 of variant var_1 can be taken; 3 asked for".into()
            )
        );
        assert_eq!(answer(InventoryError::LocationInUse).0, 409);
        assert_eq!(answer(InventoryError::LocationInUse).1, "location_in_use");
        assert_eq!(
            answer(InventoryError::LocationInactive).1,
            "location_inactive"
        );
        assert_eq!(
            answer(InventoryError::ShardInUse { shard: 3 }),
            (
                409,
                "shard_in_use",
                "shard 3 of the level still holds reservations; split again once they are released or sold".into()
            )
        );
        assert_eq!(answer(InventoryError::NotFound("location")).0, 404);
        assert_eq!(answer(InventoryError::Stale).0, 412);
        assert_eq!(answer(InventoryError::Busy).1, "conflict");
        assert_eq!(
            answer(InventoryError::TooManyLocations { max: 50 }).1,
            "too_many_locations"
        );
        assert_eq!(
            answer(InventoryError::TooManyLines { max: 30 }),
            (
                422,
                "validation_failed",
                "the request has invalid fields".into()
            )
        );
        assert_eq!(
            answer(InventoryError::field("delta", "out_of_range", "x")).1,
            "validation_failed"
        );
    }
}
