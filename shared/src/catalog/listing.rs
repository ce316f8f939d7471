//! Product listings, for staff and for storefronts, from the listing entries: one query per page.
//!
//! Each product has one entry per sort order in one partition, summarising it. The order and a
//! range on it (`updated_since` when sorting by update, a price range when sorting by price) are
//! key conditions. Every other filter (status, category with its descendants, tag, type,
//! attribute values) is applied to the entries the query returns, examining at most
//! [`MAX_EXAMINED`] per page: a page may come back short, with a cursor, when matches are rare.

use super::availability::Availability;
use super::model::{Money, Product, ProductStatus};
use super::store::{self, Order};
use super::taxonomy::Taxonomy;
use crate::app::App;
use crate::auth::TenantId;
use crate::http::{cursor, ApiError, FieldError};
use crate::store::{key_projection, Index, Item, SortKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use utoipa::ToSchema;

/// Entries one filtered page examines at most (one query; entries are about half a kilobyte).
pub const MAX_EXAMINED: u32 = 300;

/// The first image of a product, as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Thumbnail {
    pub id: String,
    /// A signed URL, the same all day.
    #[serde(default)]
    pub url: String,
    pub alt: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    #[schema(ignore)]
    pub object_key: String,
}

/// A product as a listing shows it (staff see every status; storefronts only active products).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub status: ProductStatus,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    pub category_ids: Vec<String>,
    pub attributes: BTreeMap<String, Value>,
    pub price_min: Option<Money>,
    pub price_max: Option<Money>,
    pub variant_count: u32,
    pub image: Option<Thumbnail>,
    pub created_at: String,
    pub updated_at: String,
    /// The product's version.
    pub version: u64,
    /// Each variant's availability, by variant id (see `catalog::availability`).
    #[serde(default)]
    pub stock: BTreeMap<String, Availability>,
    /// The collections holding the product.
    #[serde(default)]
    pub collection_ids: Vec<String>,
}

impl Summary {
    pub fn of(p: &Product) -> Summary {
        let range = p.price_range();
        let first = p.images.iter().min_by_key(|i| i.position);
        Summary {
            id: p.id.to_string(),
            handle: p.handle.clone(),
            title: p.title.clone(),
            status: p.status,
            vendor: p.vendor.clone(),
            product_type: p.product_type.clone(),
            tags: p.tags.clone(),
            category_ids: p.category_ids.clone(),
            attributes: p.attributes.clone(),
            price_min: range.as_ref().map(|r| r.0.clone()),
            price_max: range.map(|r| r.1),
            variant_count: p.variants.len() as u32,
            image: first.map(|i| Thumbnail {
                id: i.id.clone(),
                url: String::new(),
                alt: i.alt.clone(),
                object_key: i.object_key.clone(),
            }),
            created_at: p.created_at.clone(),
            updated_at: p.updated_at.clone(),
            version: p.version,
            stock: BTreeMap::new(),
            collection_ids: Vec::new(),
        }
    }

    /// The summary of `p` showing `stock`.
    pub fn with_stock(p: &Product, stock: BTreeMap<String, Availability>) -> Summary {
        Summary {
            stock,
            ..Summary::of(p)
        }
    }

    /// The title as it sorts: lower case, at most 100 characters.
    pub fn title_key(&self) -> String {
        self.title.to_lowercase().chars().take(100).collect()
    }
}

/// What to list and in which order.
#[derive(Debug, Default)]
pub struct Filter {
    pub statuses: Option<Vec<ProductStatus>>,
    /// Categories whose products match (a category and its descendants).
    pub categories: Option<HashSet<String>>,
    pub tag: Option<String>,
    /// A collection holding the product.
    pub collection: Option<String>,
    pub product_type: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub updated_since: Option<String>,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
}

impl Filter {
    pub(crate) fn matches(&self, s: &Summary) -> bool {
        self.statuses
            .as_ref()
            .is_none_or(|st| st.contains(&s.status))
            && self
                .categories
                .as_ref()
                .is_none_or(|cats| s.category_ids.iter().any(|c| cats.contains(c)))
            && self.tag.as_ref().is_none_or(|t| s.tags.contains(t))
            && self
                .collection
                .as_ref()
                .is_none_or(|c| s.collection_ids.contains(c))
            && self
                .product_type
                .as_ref()
                .is_none_or(|t| s.product_type.as_ref() == Some(t))
            && self.attributes.iter().all(|(key, wanted)| {
                s.attributes.get(key).is_some_and(|v| match v {
                    Value::String(text) => text == wanted,
                    Value::Bool(b) => wanted == if *b { "true" } else { "false" },
                    Value::Number(n) => wanted.parse::<f64>().ok() == n.as_f64(),
                    _ => false,
                })
            })
            && self
                .updated_since
                .as_ref()
                .is_none_or(|since| &s.updated_at >= since)
            && self
                .price_min
                .is_none_or(|min| s.price_max.as_ref().is_some_and(|p| p.amount >= min))
            && self
                .price_max
                .is_none_or(|max| s.price_min.as_ref().is_some_and(|p| p.amount <= max))
    }
}

/// One page a listing asks for.
pub struct PageRequest<'a> {
    pub order: Order,
    pub descending: bool,
    pub filter: &'a Filter,
    pub limit: u32,
    /// Names the list and its filters; cursors are bound to it.
    pub fingerprint: &'a str,
    /// The caller's `?cursor=`.
    pub cursor: Option<&'a str>,
}

/// Reads one page of summaries.
pub async fn page(
    app: &App,
    tenant: &TenantId,
    request: PageRequest<'_>,
) -> Result<(Vec<Summary>, Option<String>), ApiError> {
    let PageRequest {
        order,
        descending,
        filter,
        limit,
        fingerprint,
        cursor: cursor_text,
    } = request;
    let key = app.config.key(crate::secrets::Secret::Cursor, "cursor")?;
    let after = cursor_text
        .map(|c| cursor::open(&key, tenant.as_str(), fingerprint, c))
        .transpose()?;
    let prefix = order.prefix();
    let range = match order {
        Order::Updated => filter
            .updated_since
            .as_ref()
            .map(|since| SortKey::Ge(format!("{prefix}{}", store::sortable_instant(since)))),
        Order::Price if filter.price_min.is_some() || filter.price_max.is_some() => {
            let lo = filter.price_min.unwrap_or(0).max(0);
            let hi = filter.price_max.unwrap_or(i64::MAX - 1).max(0);
            Some(SortKey::Between(
                format!("{prefix}{lo:019}"),
                format!("{prefix}{hi:019}~"),
            ))
        }
        _ => None,
    }
    .unwrap_or(SortKey::Any);
    let selective = filter.categories.is_some()
        || filter.tag.is_some()
        || filter.collection.is_some()
        || filter.product_type.is_some()
        || !filter.attributes.is_empty()
        || (filter.updated_since.is_some() && order != Order::Updated)
        || ((filter.price_min.is_some() || filter.price_max.is_some()) && order != Order::Price);
    // A status filter alone rarely skips much.
    let examine = if selective {
        MAX_EXAMINED
    } else if filter.statuses.is_some() {
        (limit * 2 + 10).min(MAX_EXAMINED)
    } else {
        limit
    };
    let (items, last) = store::entries(
        app.table.as_ref(),
        tenant,
        None,
        order,
        range,
        descending,
        examine,
        after,
    )
    .await?;
    let mut found = Vec::new();
    let mut stopped_at: Option<Item> = None;
    let count = items.len();
    for (i, item) in items.into_iter().enumerate() {
        // Only the entry that fills the page can be where the next one starts.
        let projection = (found.len() + 1 == limit as usize && i + 1 < count)
            .then(|| key_projection(&item, Index::Table));
        let summary: Summary = crate::store::from_item(item)?;
        if filter.matches(&summary) {
            found.push(summary);
            if found.len() == limit as usize {
                stopped_at = projection;
                break;
            }
        }
    }
    let next = stopped_at.or(last);
    Ok((
        found,
        next.map(|k| cursor::seal(&key, tenant.as_str(), fingerprint, &k)),
    ))
}

/// Parses `?key=value` pairs of a listing, refusing names it does not know.
pub fn params(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map_err(|e| ApiError::validation(vec![FieldError::new("query", "invalid", e.to_string())]))
}

pub fn limit(value: Option<&str>) -> Result<u32, ApiError> {
    crate::http::ListParams {
        limit: value
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::validation(vec![FieldError::new("limit", "invalid", "a number")])
                })
            })
            .transpose()?,
        cursor: None,
    }
    .limit()
}

/// The fingerprint of a listing query: its name and every parameter but the cursor.
pub fn fingerprint(name: &str, params: &[(String, String)]) -> String {
    let mut parts: Vec<String> = params
        .iter()
        .filter(|(k, _)| k != "cursor")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    parts.sort();
    format!("{name}|{}", parts.join("&"))
}

/// Resolves `category` to the category and its descendants in the taxonomy.
pub fn category_subtree(taxonomy: &Taxonomy, id: &str) -> HashSet<String> {
    taxonomy.subtree(id)
}
