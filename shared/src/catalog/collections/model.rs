//! Collections and the rules of automated ones.

use crate::catalog::listing::Summary;
use crate::catalog::model::Seo;
use crate::catalog::store::Order;
use crate::catalog::taxonomy::Taxonomy;
use crate::ids::CollectionId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A group of products: manual (staff place products, in order) or automated (products matching
/// its rules, kept current as products change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Collection {
    /// `col_<ULID>`
    #[schema(value_type = String)]
    pub id: CollectionId,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub image: Option<CollectionImage>,
    pub seo: Seo,
    pub sort_order: SortOrder,
    /// Present for an automated collection.
    pub rules: Option<RuleSet>,
    /// `rebuilding` while an automated collection's membership is recomputed after its rules
    /// changed; `ready` otherwise.
    pub state: CollectionState,
    /// Counts rule changes; a rebuild finishes only for the rules it started with.
    pub rules_version: u64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Collection {
    pub fn is_manual(&self) -> bool {
        self.rules.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionImage {
    /// An `https` URL.
    pub url: String,
    #[serde(default)]
    pub alt: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CollectionState {
    Ready,
    Rebuilding,
}

/// How a collection's products are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum SortOrder {
    /// The positions staff give (manual collections only).
    #[serde(rename = "manual")]
    Manual,
    #[serde(rename = "newest")]
    Newest,
    #[serde(rename = "title")]
    Title,
    /// Lowest price first.
    #[serde(rename = "price")]
    Price,
    /// Highest price first.
    #[serde(rename = "-price")]
    PriceDescending,
}

impl SortOrder {
    /// The listing order and direction (descending) it reads.
    pub fn listing(self) -> (Order, bool) {
        match self {
            SortOrder::Manual => (Order::Manual, false),
            SortOrder::Newest => (Order::Created, true),
            SortOrder::Title => (Order::Title, false),
            SortOrder::Price => (Order::Price, false),
            SortOrder::PriceDescending => (Order::Price, true),
        }
    }
}

/// The rules of an automated collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// `all`: a product matches every rule; `any`: at least one.
    #[serde(rename = "match")]
    pub matching: Matching,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Matching {
    All,
    Any,
}

/// One condition on a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "field", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// The product has this tag (exactly).
    Tag { value: String },
    /// The product type equals this (ignoring case).
    ProductType { value: String },
    /// The vendor equals this (ignoring case).
    Vendor { value: String },
    /// Some variant's price (minor units) compares so: `greater_than` or `less_than`.
    Price { relation: Relation, value: i64 },
    /// The attribute `key` has this value (text, number or `true`/`false`).
    Attribute { key: String, value: String },
    /// The product is in this category or one of its descendants (a category id).
    Category { value: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    GreaterThan,
    LessThan,
}

impl RuleSet {
    /// Whether a product (as its listing entry summarises it) matches.
    pub fn matches(&self, product: &Summary, taxonomy: &Taxonomy) -> bool {
        let test = |rule: &Rule| rule.matches(product, taxonomy);
        match self.matching {
            Matching::All => self.rules.iter().all(test),
            Matching::Any => self.rules.iter().any(test),
        }
    }
}

impl Rule {
    pub fn matches(&self, p: &Summary, taxonomy: &Taxonomy) -> bool {
        let same =
            |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
        match self {
            Rule::Tag { value } => p.tags.iter().any(|t| t == value),
            Rule::ProductType { value } => same(&p.product_type, value),
            Rule::Vendor { value } => same(&p.vendor, value),
            Rule::Price {
                relation: Relation::GreaterThan,
                value,
            } => p.price_max.as_ref().is_some_and(|m| m.amount > *value),
            Rule::Price {
                relation: Relation::LessThan,
                value,
            } => p.price_min.as_ref().is_some_and(|m| m.amount < *value),
            Rule::Attribute { key, value } => p.attributes.get(key).is_some_and(|v| match v {
                Value::String(text) => text == value,
                Value::Bool(b) => value == if *b { "true" } else { "false" },
                Value::Number(n) => value.parse::<f64>().ok() == n.as_f64(),
                _ => false,
            }),
            Rule::Category { value } => {
                let within = taxonomy.subtree(value);
                p.category_ids.iter().any(|c| within.contains(c))
            }
        }
    }
}
