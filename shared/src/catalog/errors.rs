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
        /// The category has more than 45 descendants to delete in one request; delete some of them first.
        SubtreeTooLarge = "subtree_too_large", 422,
        /// A company keeps at most 500 categories.
        TooManyCategories = "too_many_categories", 422,
        /// A company defines at most 200 attributes.
        TooManyAttributes = "too_many_attributes", 422,
    }
}
