//! The events this module emits (see `events::kinds`).

crate::event_kinds! {
    /// Catalog events.
    pub enum CatalogEvent {
        /// A product was created; automated collections consider it.
        ProductCreated = "product.created", data: "`product`", queues: [crate::queue::names::EVENTS],
        /// A product, its options or its images changed; automated collections consider it again.
        ProductUpdated = "product.updated", data: "`product_id`, `handle`, `status`, `version`; for images `image_added`, `image_changed` or `image_removed`", queues: [crate::queue::names::EVENTS],
        /// A product was deleted (it left every collection with it).
        ProductDeleted = "product.deleted", data: "`product_id`, `handle`",
        /// A variant was created (or several, generated from options); its price may move the product into or out of automated collections.
        VariantCreated = "variant.created", data: "`product_id`, and `variant` or `variants`", queues: [crate::queue::names::EVENTS],
        /// A variant changed.
        VariantUpdated = "variant.updated", data: "`product_id`, `variant`", queues: [crate::queue::names::EVENTS],
        /// A variant was deleted.
        VariantDeleted = "variant.deleted", data: "`product_id`, `variant`", queues: [crate::queue::names::EVENTS],
        /// A category was created.
        CategoryCreated = "category.created", data: "`category`",
        /// A category changed (or moved); products are moved to the category listings they now belong in, in the background.
        CategoryUpdated = "category.updated", data: "`category`, `moved` (its parent changed)", queues: [crate::queue::names::EVENTS],
        /// A category and its descendants were deleted; products leave their listings in the background.
        CategoryDeleted = "category.deleted", data: "`category`, `deleted_ids`", queues: [crate::queue::names::EVENTS],
        /// An attribute definition was created.
        AttributeCreated = "attribute.created", data: "`attribute`",
        /// An attribute definition changed.
        AttributeUpdated = "attribute.updated", data: "`attribute`",
        /// An attribute definition was deleted.
        AttributeDeleted = "attribute.deleted", data: "`attribute`",
        /// A collection was created; an automated one then gathers its products in the background.
        CollectionCreated = "collection.created", data: "`collection`", queues: [crate::queue::names::EVENTS],
        /// A collection changed; when its rules changed, its products are gathered again in the background.
        CollectionUpdated = "collection.updated", data: "`collection`, `rules_changed`", queues: [crate::queue::names::EVENTS],
        /// A collection was deleted; its products leave it in the background.
        CollectionDeleted = "collection.deleted", data: "`collection`", queues: [crate::queue::names::EVENTS],
        /// Staff asked for every product's storefront listings to be written again (after an upgrade); done in the background.
        ListingsRebuildRequested = "listings.rebuild_requested", data: "`cursor` while in progress", queues: [crate::queue::names::EVENTS],
        /// Products were placed in, moved within or taken out of a manual collection.
        CollectionProductsChanged = "collection.products_changed", data: "`collection_id`, `added`, `removed`",
    }
}
