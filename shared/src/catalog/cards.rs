//! Product cards: a product as a storefront listing shows it, rendered once when the product (or
//! its availability, or its collections) changes, and stored as text in the storefront listing
//! entries (the storefront's, each category's and each collection's; see `placements`).
//!
//! A storefront page then reads each entry's card as it is and writes it into the answer without
//! decoding it: a page costs about fifteen allocations per product instead of the hundred that
//! decoding a whole summary and encoding it again took. The image URL, signed per request, is the
//! one part filled in on reading. Filters other than the listing's own (tag, type, attribute, a
//! price range across the sort, a category within a collection) decode what they test.

use super::availability::Availability;
use super::listing::{Filter, Summary, MAX_EXAMINED};
use super::model::{Money, ProductStatus};
use super::placements::Shelf;
use super::store::{self, Order};
use crate::app::App;
use crate::auth::TenantId;
use crate::http::{cursor, ApiError};
use crate::store::{key_projection, Index, Item, SortKey};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A product in a storefront listing.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductCard {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    pub price_min: Option<Money>,
    pub price_max: Option<Money>,
    pub image: Option<CardImage>,
    /// Whether any variant can be bought now.
    pub available: bool,
    /// Each variant's availability, by variant id, with quantities when the company shows them.
    pub availability: BTreeMap<String, Availability>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CardImage {
    /// A signed URL, the same all day.
    pub url: String,
    pub alt: String,
}

impl ProductCard {
    pub fn of(s: &Summary) -> ProductCard {
        ProductCard {
            id: s.id.clone(),
            handle: s.handle.clone(),
            title: s.title.clone(),
            vendor: s.vendor.clone(),
            product_type: s.product_type.clone(),
            tags: s.tags.clone(),
            price_min: s.price_min.clone(),
            price_max: s.price_max.clone(),
            image: s.image.as_ref().map(|i| CardImage {
                url: i.url.clone(),
                alt: i.alt.clone(),
            }),
            available: s.price_min.is_some() && s.stock.values().any(Availability::purchasable),
            availability: s.stock.clone(),
        }
    }
}

/// What only filters read: kept beside the card, decoded only by a filtered page.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Facets {
    #[serde(default)]
    attributes: BTreeMap<String, Value>,
    #[serde(default)]
    category_ids: Vec<String>,
}

/// The attributes of a storefront listing entry for `summary`: `card` (the card as JSON text,
/// its image URL empty), `image_key` (the image's object key, when it has one) and `facets`.
pub fn entry_attributes(summary: &Summary) -> Vec<(&'static str, Value)> {
    let mut card = ProductCard::of(summary);
    if let Some(image) = &mut card.image {
        image.url.clear();
    }
    let facets = Facets {
        attributes: summary.attributes.clone(),
        category_ids: summary.category_ids.clone(),
    };
    let mut attributes = vec![
        (
            "card",
            Value::String(serde_json::to_string(&card).expect("cards serialise")),
        ),
        (
            "facets",
            Value::String(serde_json::to_string(&facets).expect("facets serialise")),
        ),
    ];
    if let Some(image) = &summary.image {
        attributes.push(("image_key", Value::String(image.object_key.clone())));
    }
    attributes
}

/// The text a card holds where its image URL goes.
const EMPTY_IMAGE_URL: &str = r#""image":{"url":"""#;

/// A page of a storefront listing (the storefront's, a category's or a collection's), its cards
/// ready to be written into the answer.
pub struct CardPage {
    pub cards: Vec<Box<RawValue>>,
    pub next_cursor: Option<String>,
}

/// One page a storefront listing asks for.
pub struct CardRequest<'a> {
    pub shelf: &'a Shelf,
    pub order: Order,
    pub descending: bool,
    /// Filters beyond the listing's own (its status filter is ignored: a storefront listing
    /// holds active products only).
    pub filter: &'a Filter,
    pub limit: u32,
    pub fingerprint: &'a str,
    pub cursor: Option<&'a str>,
}

fn filters(filter: &Filter) -> bool {
    filter.categories.is_some()
        || filter.tag.is_some()
        || filter.product_type.is_some()
        || !filter.attributes.is_empty()
        || filter.price_min.is_some()
        || filter.price_max.is_some()
}

/// Whether a card (with its facets) passes the filters.
fn passes(filter: &Filter, card: &str, facets: Option<&str>) -> Result<bool, ApiError> {
    let card: ProductCard = serde_json::from_str(card)
        .map_err(|e| crate::store::StoreError::Invalid(format!("a stored card: {e}")))?;
    let facets: Facets = facets
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| crate::store::StoreError::Invalid(format!("stored facets: {e}")))?
        .unwrap_or_default();
    let summary = Summary {
        id: card.id,
        handle: card.handle,
        title: card.title,
        status: ProductStatus::Active,
        vendor: card.vendor,
        product_type: card.product_type,
        tags: card.tags,
        category_ids: facets.category_ids,
        attributes: facets.attributes,
        price_min: card.price_min,
        price_max: card.price_max,
        variant_count: 0,
        image: None,
        created_at: String::new(),
        updated_at: String::new(),
        version: 0,
        stock: BTreeMap::new(),
        collection_ids: Vec::new(),
    };
    Ok(filter.matches(&summary))
}

fn text(item: &mut Item, name: &str) -> Option<String> {
    match item.remove(name) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Reads one page of cards: one query of the listing's partition.
pub async fn page(
    app: &App,
    tenant: &TenantId,
    request: CardRequest<'_>,
) -> Result<CardPage, ApiError> {
    let CardRequest {
        shelf,
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
        Order::Price if filter.price_min.is_some() || filter.price_max.is_some() => {
            let lo = filter.price_min.unwrap_or(0).max(0);
            let hi = filter.price_max.unwrap_or(i64::MAX - 1).max(0);
            SortKey::Between(format!("{prefix}{lo:019}"), format!("{prefix}{hi:019}~"))
        }
        _ => SortKey::Any,
    };
    let filtered = filters(filter);
    let examine = if filtered { MAX_EXAMINED } else { limit };
    let (items, last) = store::entries(
        app.table.as_ref(),
        tenant,
        Some(shelf),
        order,
        range,
        descending,
        examine,
        after,
    )
    .await?;
    let count = items.len();
    let mut cards = Vec::with_capacity(limit as usize);
    let mut stopped_at: Option<Item> = None;
    for (i, mut item) in items.into_iter().enumerate() {
        let projection = (cards.len() + 1 == limit as usize && i + 1 < count)
            .then(|| key_projection(&item, Index::Table));
        let Some(mut card) = text(&mut item, "card") else {
            continue;
        };
        if filtered && !passes(filter, &card, item.get("facets").and_then(Value::as_str))? {
            continue;
        }
        if let Some(object_key) = text(&mut item, "image_key") {
            let url = app.blobs.published_url(&object_key).await?;
            let signed = format!(
                r#""image":{{"url":{}"#,
                serde_json::to_string(&url).expect("a URL serialises")
            );
            card = card.replacen(EMPTY_IMAGE_URL, &signed, 1);
        }
        let raw = RawValue::from_string(card)
            .map_err(|e| crate::store::StoreError::Invalid(format!("a stored card: {e}")))?;
        cards.push(raw);
        if cards.len() == limit as usize {
            stopped_at = projection;
            break;
        }
    }
    let next = stopped_at.or(last);
    Ok(CardPage {
        cards,
        next_cursor: next.map(|k| cursor::seal(&key, tenant.as_str(), fingerprint, &k)),
    })
}
