//! Catalog records.

use crate::ids::{ProductId, VariantId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// An amount in minor units of a currency: `{"amount": 1999, "currency": "EUR"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    pub amount: i64,
    /// ISO 4217, the company's default currency.
    pub currency: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    Draft,
    Active,
    Archived,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionFormat {
    #[default]
    Html,
    Markdown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Seo {
    pub title: Option<String>,
    pub description: Option<String>,
}

/// An option such as Size, with its ordered values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProductOption {
    /// `opt_<ULID>`
    pub id: String,
    pub name: String,
    pub values: Vec<String>,
}

/// What stock, carts and orders point at: one buyable combination of option values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Variant {
    /// `var_<ULID>`
    #[schema(value_type = String)]
    pub id: VariantId,
    /// Unique within the company.
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub price: Option<Money>,
    pub compare_at_price: Option<Money>,
    /// What the company pays; never shown to shoppers.
    pub cost: Option<Money>,
    /// In the company's weight unit.
    pub weight: Option<f64>,
    /// Its tax class (`standard`, `reduced`, `zero`, `exempt` or one of the tax settings'
    /// `custom_classes`); absent: the tax settings' `default_tax_class`.
    #[serde(default)]
    pub tax_class: Option<String>,
    /// Option name → value, one entry per product option.
    pub options: BTreeMap<String, String>,
    /// One of the product's images.
    pub image_id: Option<String>,
    pub position: u32,
    /// Whether stock is counted (false: always available, never reserved).
    #[serde(default = "counted")]
    pub track_inventory: bool,
    /// Whether it may be sold beyond the stock on hand.
    #[serde(default)]
    pub allow_backorder: bool,
    /// Units kept back at every location: available = on hand − reserved − safety stock.
    #[serde(default)]
    pub safety_stock: i64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

fn counted() -> bool {
    true
}

impl Variant {
    /// A variant with nothing but its id and options: no SKU, price or weight, stock counted
    /// without backorder or safety stock, at version 1.
    pub fn bare(
        id: VariantId,
        options: BTreeMap<String, String>,
        position: u32,
        now: &str,
    ) -> Self {
        Variant {
            id,
            sku: None,
            barcode: None,
            price: None,
            compare_at_price: None,
            cost: None,
            weight: None,
            tax_class: None,
            options,
            image_id: None,
            position,
            track_inventory: true,
            allow_backorder: false,
            safety_stock: 0,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        }
    }
}

/// An image of a product, uploaded straight to the file store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Image {
    /// `img_<ULID>`
    pub id: String,
    /// Where to fetch it: a signed URL, valid for days and the same all day (filled in when
    /// answering; not stored).
    #[serde(default)]
    pub url: String,
    pub alt: String,
    pub position: u32,
    pub content_type: String,
    pub size: u64,
    /// Where the file store keeps it.
    pub object_key: String,
    pub created_at: String,
}

/// A product as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Product {
    /// `prod_<ULID>`
    #[schema(value_type = String)]
    pub id: ProductId,
    /// Unique within the company; the storefront's address of the product.
    pub handle: String,
    pub title: String,
    pub description: String,
    pub description_format: DescriptionFormat,
    /// The description as the storefront serves it: Markdown rendered, then scripts, event
    /// handlers, styles and unsafe URLs removed. Derived from the two fields above on every
    /// write, so that reading a product page never parses HTML.
    #[serde(default)]
    pub description_html: String,
    pub status: ProductStatus,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    pub seo: Seo,
    /// Attribute key → value, checked against the attribute definitions.
    pub attributes: BTreeMap<String, Value>,
    pub category_ids: Vec<String>,
    pub options: Vec<ProductOption>,
    pub variants: Vec<Variant>,
    pub images: Vec<Image>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Product {
    /// The lowest and highest variant price, if any variant has one.
    pub fn price_range(&self) -> Option<(Money, Money)> {
        let prices: Vec<&Money> = self
            .variants
            .iter()
            .filter_map(|v| v.price.as_ref())
            .collect();
        let min = prices.iter().min_by_key(|m| m.amount)?;
        let max = prices.iter().max_by_key(|m| m.amount)?;
        Some(((*min).clone(), (*max).clone()))
    }

    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.id == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    Text,
    Number,
    Boolean,
    Select,
}

/// The definition of a product attribute: what values it takes and where it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttributeDefinition {
    /// `attr_<ULID>`
    pub id: String,
    /// The key products use, e.g. `material`; unique within the company.
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// The allowed values of a `select` attribute.
    pub values: Vec<String>,
    /// Shown on the storefront's product page.
    pub visible: bool,
    /// Usable as a storefront listing filter (`?attr.<key>=<value>`).
    pub filterable: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// A category in the company's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    /// `cat_<ULID>`
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub parent_id: Option<String>,
    pub position: u32,
    pub seo: Seo,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}
