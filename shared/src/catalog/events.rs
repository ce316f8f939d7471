//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Catalog events.
    pub enum CatalogEvent {
        /// A product was created.
        ProductCreated = "product.created", data: "`product`",
        /// A product, its options or its images changed.
        ProductUpdated = "product.updated", data: "`product_id`, `handle`, `status`, `version`; for images `image_added`, `image_changed` or `image_removed`",
        /// A product was deleted.
        ProductDeleted = "product.deleted", data: "`product_id`, `handle`",
        /// A variant was created (or several, generated from options).
        VariantCreated = "variant.created", data: "`product_id`, and `variant` or `variants`",
        /// A variant changed.
        VariantUpdated = "variant.updated", data: "`product_id`, `variant`",
        /// A variant was deleted.
        VariantDeleted = "variant.deleted", data: "`product_id`, `variant`",
        /// A category was created.
        CategoryCreated = "category.created", data: "`category`",
        /// A category changed (or moved).
        CategoryUpdated = "category.updated", data: "`category`",
        /// A category and its descendants were deleted.
        CategoryDeleted = "category.deleted", data: "`category`, `deleted_ids`",
        /// An attribute definition was created.
        AttributeCreated = "attribute.created", data: "`attribute`",
        /// An attribute definition changed.
        AttributeUpdated = "attribute.updated", data: "`attribute`",
        /// An attribute definition was deleted.
        AttributeDeleted = "attribute.deleted", data: "`attribute`",
    }
}
