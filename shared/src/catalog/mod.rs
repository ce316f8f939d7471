//! The catalog: products with their options, variants and images; attribute definitions; the
//! category tree; and the storefront's view of them.
//!
//! A product is one item holding its options, variants (at most 100) and images, so the product
//! page is one read after the handle lookup and every change to a product is one conditional
//! write. Listing entries (one per sort order) summarise each product in one partition, so a
//! listing page is one query. Categories and attribute definitions are the company's taxonomy:
//! one small partition, cached per container.

pub mod admin_routes;
pub mod availability;
pub mod cards;
pub mod collections;
pub mod errors;
pub mod events;
pub mod image_formats;
pub mod images;
pub mod listing;
pub mod model;
pub mod placements;
pub mod service;
pub mod store;
pub mod store_routes;
pub mod taxonomy;
pub mod taxonomy_routes;
pub mod text;
pub mod variant_routes;

use crate::http::{ApiError, Ctx};
use crate::ids::{ProductId, VariantId};

/// The product a route's `{id}` names; an id that is not a product id names nothing (404).
pub(crate) fn product_id(ctx: &Ctx) -> Result<ProductId, ApiError> {
    ProductId::parse(ctx.param("id")).ok_or_else(|| ApiError::not_found("product"))
}

/// The variant a route's `{variant_id}` names; anything else names nothing (404).
pub(crate) fn variant_id(ctx: &Ctx) -> Result<VariantId, ApiError> {
    VariantId::parse(ctx.param("variant_id")).ok_or_else(|| ApiError::not_found("variant"))
}
