//! The error codes this module answers (see `http::codes`).

crate::error_codes! {
    /// Catalog errors.
    pub enum CatalogCode {
        /// Another product, or category, of the company has this handle.
        HandleTaken = "handle_taken", 409,
        /// Another variant of the company has this SKU.
        SkuTaken = "sku_taken", 409,
        /// Another variant of the product already has these option values.
        DuplicateCombination = "duplicate_combination", 409,
        /// Removing this option would leave variants with the same option values; delete them first.
        VariantsWouldCollide = "variants_would_collide", 409,
        /// A variant uses this option value; change or delete the variant first.
        ValueInUse = "value_in_use", 409,
        /// The category has children; move them, or delete with `?cascade=true`.
        CategoryHasChildren = "category_has_children", 409,
        /// Another attribute definition has this key.
        KeyTaken = "key_taken", 409,
        /// Variants can only be generated from options with values.
        NoOptions = "no_options", 422,
        /// A product has at most 3 options.
        TooManyOptions = "too_many_options", 422,
        /// A product has at most 100 variants (also: the options make more combinations than that).
        TooManyVariants = "too_many_variants", 422,
        /// A product has at most 50 images.
        TooManyImages = "too_many_images", 422,
        /// The change touches too many SKUs in one request; change fewer variants at once.
        ChangeTooLarge = "change_too_large", 422,
        /// A product is listed in at most 20 categories (counting their ancestors) and collections.
        TooManyPlacements = "too_many_placements", 422,
        /// Deleting the category would delete more than 45 categories in one request (itself and its descendants); delete some of them first.
        SubtreeTooLarge = "subtree_too_large", 422,
        /// A company keeps at most 500 categories.
        TooManyCategories = "too_many_categories", 422,
        /// A company defines at most 200 attributes.
        TooManyAttributes = "too_many_attributes", 422,
    }
}

/// What the taxonomy rules (categories and attribute definitions) refuse. The taxonomy service
/// returns these; the route layer answers each with its code (`From<TaxonomyError> for ApiError`).
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("the request has invalid fields")]
    Invalid(Vec<crate::http::FieldError>),
    /// `category` or `attribute`.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the taxonomy has changed since the version named in If-Match")]
    Stale,
    #[error("the categories or attributes changed meanwhile; retry")]
    ChangedMeanwhile,
    #[error("another category has this handle")]
    HandleTaken,
    #[error("another attribute has this key")]
    KeyTaken,
    #[error("a company keeps at most {max} categories")]
    TooManyCategories { max: usize },
    #[error("a company defines at most {max} attributes")]
    TooManyAttributes { max: usize },
    #[error("this category has children; move them, or delete with ?cascade=true")]
    HasChildren,
    #[error("delete at most {max} categories at once; delete deeper ones first")]
    SubtreeTooLarge { max: usize },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<TaxonomyError> for crate::http::ApiError {
    fn from(error: TaxonomyError) -> Self {
        use crate::http::{ApiError, HttpCode};
        let detail = error.to_string();
        match error {
            TaxonomyError::Invalid(errors) => ApiError::validation(errors),
            TaxonomyError::NotFound(what) => ApiError::not_found(what),
            TaxonomyError::Stale => ApiError::precondition_failed(),
            TaxonomyError::ChangedMeanwhile => ApiError::new(HttpCode::Conflict, detail),
            TaxonomyError::HandleTaken => ApiError::new(CatalogCode::HandleTaken, detail),
            TaxonomyError::KeyTaken => ApiError::new(CatalogCode::KeyTaken, detail),
            TaxonomyError::TooManyCategories { .. } => {
                ApiError::new(CatalogCode::TooManyCategories, detail)
            }
            TaxonomyError::TooManyAttributes { .. } => {
                ApiError::new(CatalogCode::TooManyAttributes, detail)
            }
            TaxonomyError::HasChildren => ApiError::new(CatalogCode::CategoryHasChildren, detail),
            TaxonomyError::SubtreeTooLarge { .. } => {
                ApiError::new(CatalogCode::SubtreeTooLarge, detail)
            }
            TaxonomyError::Store(e) => e.into(),
        }
    }
}

/// What the product rules (products, options, variants, images) refuse. The product service
/// returns these; the route layer answers each with its code (`From<ProductError> for ApiError`).
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    #[error("the request has invalid fields")]
    Invalid(Vec<crate::http::FieldError>),
    /// `product`, `variant`, `option` or `image`.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the resource has changed since the version named in If-Match")]
    Stale,
    #[error("the product is being changed by other requests; retry")]
    Busy,
    #[error("the product could not be created; retry")]
    CreateRaced,
    #[error("another product has this handle")]
    HandleTaken,
    #[error("another variant has the SKU `{0}`")]
    SkuTaken(String),
    #[error("another variant already has these option values")]
    DuplicateCombination,
    #[error("without this option some variants would be the same; delete them first")]
    VariantsWouldCollide,
    #[error("a variant uses `{0}`; change or delete it first")]
    ValueInUse(String),
    #[error("add options with values before generating variants")]
    NoOptions,
    #[error("a product has at most {max} options")]
    TooManyOptions { max: usize },
    #[error("a product has at most {max} variants")]
    TooManyVariants { max: usize },
    #[error("the options make more than {max} combinations, the most a product has")]
    TooManyCombinations { max: usize },
    #[error("a product has at most {max} images")]
    TooManyImages { max: usize },
    #[error("this change touches too many SKUs at once; change fewer variants per request")]
    ChangeTooLarge,
    #[error(
        "a product is listed in at most {max} categories (with their ancestors) and collections"
    )]
    TooManyPlacements { max: usize },
    #[error(transparent)]
    Taxonomy(#[from] TaxonomyError),
    #[error(transparent)]
    Settings(#[from] crate::settings::errors::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<Vec<crate::http::FieldError>> for ProductError {
    fn from(errors: Vec<crate::http::FieldError>) -> Self {
        ProductError::Invalid(errors)
    }
}

impl From<ProductError> for crate::http::ApiError {
    fn from(error: ProductError) -> Self {
        use crate::http::{ApiError, HttpCode};
        let detail = error.to_string();
        let code: crate::http::codes::ErrorCode = match error {
            ProductError::Invalid(errors) => return ApiError::validation(errors),
            ProductError::NotFound(what) => return ApiError::not_found(what),
            ProductError::Taxonomy(e) => return e.into(),
            ProductError::Settings(e) => return e.into(),
            ProductError::Store(e) => return e.into(),
            ProductError::Stale => HttpCode::PreconditionFailed.into(),
            ProductError::Busy | ProductError::CreateRaced => HttpCode::Conflict.into(),
            ProductError::HandleTaken => CatalogCode::HandleTaken.into(),
            ProductError::SkuTaken(_) => CatalogCode::SkuTaken.into(),
            ProductError::DuplicateCombination => CatalogCode::DuplicateCombination.into(),
            ProductError::VariantsWouldCollide => CatalogCode::VariantsWouldCollide.into(),
            ProductError::ValueInUse(_) => CatalogCode::ValueInUse.into(),
            ProductError::NoOptions => CatalogCode::NoOptions.into(),
            ProductError::TooManyOptions { .. } => CatalogCode::TooManyOptions.into(),
            ProductError::TooManyVariants { .. } | ProductError::TooManyCombinations { .. } => {
                CatalogCode::TooManyVariants.into()
            }
            ProductError::TooManyImages { .. } => CatalogCode::TooManyImages.into(),
            ProductError::ChangeTooLarge => CatalogCode::ChangeTooLarge.into(),
            ProductError::TooManyPlacements { .. } => CatalogCode::TooManyPlacements.into(),
        };
        ApiError::new(code, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ApiError;

    #[test]
    fn each_taxonomy_refusal_answers_its_code_and_status() {
        let answer = |e: TaxonomyError| {
            let e = ApiError::from(e);
            (e.status, e.code.name, e.detail)
        };
        assert_eq!(
            answer(TaxonomyError::NotFound("category")),
            (404, "not_found", "category not found".into())
        );
        assert_eq!(answer(TaxonomyError::Stale).1, "precondition_failed");
        assert_eq!(answer(TaxonomyError::ChangedMeanwhile).0, 409);
        assert_eq!(answer(TaxonomyError::HandleTaken).1, "handle_taken");
        assert_eq!(answer(TaxonomyError::KeyTaken).1, "key_taken");
        assert_eq!(
            answer(TaxonomyError::TooManyCategories { max: 500 }),
            (
                422,
                "too_many_categories",
                "a company keeps at most 500 categories".into()
            )
        );
        assert_eq!(
            answer(TaxonomyError::TooManyAttributes { max: 200 }).1,
            "too_many_attributes"
        );
        assert_eq!(
            answer(TaxonomyError::HasChildren).1,
            "category_has_children"
        );
        assert_eq!(
            answer(TaxonomyError::SubtreeTooLarge { max: 45 }),
            (
                422,
                "subtree_too_large",
                "delete at most 45 categories at once; delete deeper ones first".into()
            )
        );
    }

    #[test]
    fn each_product_refusal_answers_its_code_and_status() {
        let answer = |e: ProductError| {
            let e = ApiError::from(e);
            (e.status, e.code.name, e.detail)
        };
        assert_eq!(
            answer(ProductError::NotFound("variant")),
            (404, "not_found", "variant not found".into())
        );
        assert_eq!(answer(ProductError::Stale).0, 412);
        assert_eq!(answer(ProductError::Busy).1, "conflict");
        assert_eq!(answer(ProductError::CreateRaced).0, 409);
        assert_eq!(
            answer(ProductError::SkuTaken("TEE-1".into())),
            (
                409,
                "sku_taken",
                "another variant has the SKU `TEE-1`".into()
            )
        );
        assert_eq!(answer(ProductError::HandleTaken).1, "handle_taken");
        assert_eq!(
            answer(ProductError::ValueInUse("Red".into())).2,
            "a variant uses `Red`; change or delete it first"
        );
        assert_eq!(
            answer(ProductError::TooManyCombinations { max: 100 }),
            (
                422,
                "too_many_variants",
                "the options make more than 100 combinations, the most a product has".into()
            )
        );
        assert_eq!(
            answer(ProductError::TooManyImages { max: 50 }).1,
            "too_many_images"
        );
        assert_eq!(answer(ProductError::ChangeTooLarge).0, 422);
        assert_eq!(
            answer(ProductError::TooManyPlacements { max: 20 }).1,
            "too_many_placements"
        );
        let invalid = ApiError::from(ProductError::from(vec![crate::http::FieldError::new(
            "title",
            "required",
            "give a title",
        )]));
        assert_eq!(
            (invalid.status, invalid.code.name),
            (422, "validation_failed")
        );
    }
}
