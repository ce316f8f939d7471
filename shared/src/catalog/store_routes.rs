//! `/store/products` and `/store/categories`: the catalog as shoppers see it. Only active
//! products exist here: drafts and archived products (and their images) answer 404.

use super::availability::{Availability, StockStatus};
use super::cards;
use super::listing::{self, Filter};
use super::model::{Money, ProductOption, ProductStatus, Seo};
use super::placements::Shelf;
use super::store::{self, Order};
use super::taxonomy::{self, CategoryNode};
use crate::auth::caller::storefront;
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, BlobAccess, Ctx, FieldError, HandlerFuture, ListPage,
    Method, Route, RouteDoc,
};
use crate::secrets::Secret;
use crate::settings::groups::Inventory;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

const TAG: &str = "storefront catalog";

pub use super::cards::ProductCard;

fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, code, message)])
}

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let params = listing::params(&ctx.req.query)?;
        let mut filter = Filter {
            statuses: Some(vec![ProductStatus::Active]),
            ..Filter::default()
        };
        let mut order = (Order::Created, true);
        let (mut limit, mut cursor) = (None, None);
        let mut taxonomy = None;
        let mut category: Option<String> = None;
        let mut collection: Option<super::collections::model::Collection> = None;
        let mut sorted = false;
        let mut unknown = false;
        for (name, value) in &params {
            match name.as_str() {
                "category" => {
                    let t = match &taxonomy {
                        Some(t) => t,
                        None => taxonomy.insert(taxonomy::cached(&ctx.app, tenant).await?),
                    };
                    // The category's own listing holds its descendants' products too; an
                    // unknown category lists nothing.
                    match t.category_by_handle(value) {
                        Some(c) => category = Some(c.id.clone()),
                        None => unknown = true,
                    }
                }
                "collection" => {
                    let collections = super::collections::cached(&ctx.app, tenant).await?;
                    match collections.iter().find(|c| c.handle == *value) {
                        Some(c) => collection = Some(c.clone()),
                        None => unknown = true,
                    }
                }
                "tag" => filter.tag = Some(value.clone()),
                "type" => filter.product_type = Some(value.clone()),
                "price_min" | "price_max" => {
                    let amount: i64 = value
                        .parse()
                        .map_err(|_| invalid(name, "invalid", "an amount in minor units"))?;
                    if name == "price_min" {
                        filter.price_min = Some(amount);
                    } else {
                        filter.price_max = Some(amount);
                    }
                }
                "sort" => {
                    sorted = true;
                    order = match value.as_str() {
                        "newest" => (Order::Created, true),
                        "title" => (Order::Title, false),
                        "price" => (Order::Price, false),
                        "-price" => (Order::Price, true),
                        _ => {
                            return Err(invalid(
                                "sort",
                                "invalid",
                                "newest, title, price or -price",
                            ))
                        }
                    }
                }
                "limit" => limit = Some(value.as_str()),
                "cursor" => cursor = Some(value.as_str()),
                other => match other.strip_prefix("attr.") {
                    Some(key) => {
                        let t = match &taxonomy {
                            Some(t) => t,
                            None => taxonomy.insert(taxonomy::cached(&ctx.app, tenant).await?),
                        };
                        if !t.attribute(key).is_some_and(|a| a.filterable) {
                            return Err(invalid(
                                other,
                                "not_filterable",
                                "not a filterable attribute",
                            ));
                        }
                        filter.attributes.push((key.to_owned(), value.clone()));
                    }
                    None => {
                        return Err(invalid(
                            other,
                            "unknown_parameter",
                            "not a filter of this list",
                        ))
                    }
                },
            }
        }
        let limit = listing::limit(limit)?;
        if unknown {
            let empty: ListPage<ProductCard> = ListPage {
                data: Vec::new(),
                next_cursor: None,
            };
            return Ok(ApiResponse::json(200, &empty));
        }
        // A collection's or category's own listing holds exactly its active products; with both,
        // the collection's is read and the category filters it.
        let shelf = match (&collection, category) {
            (Some(c), category) => {
                if let Some(category) = category {
                    let t = match &taxonomy {
                        Some(t) => t,
                        None => taxonomy.insert(taxonomy::cached(&ctx.app, tenant).await?),
                    };
                    filter.categories = Some(t.subtree(&category));
                }
                if !sorted {
                    order = c.sort_order.listing();
                }
                Shelf::Collection(c.id.to_string())
            }
            (None, Some(category)) => Shelf::Category(category),
            (None, None) => Shelf::Storefront,
        };
        let fingerprint = listing::fingerprint("store-products", &params);
        let page = cards::page(
            &ctx.app,
            tenant,
            cards::CardRequest {
                shelf: &shelf,
                order: order.0,
                descending: order.1,
                filter: &filter,
                limit,
                fingerprint: &fingerprint,
                cursor,
            },
        )
        .await?;
        Ok(ApiResponse::json(
            200,
            &ListPage {
                data: page.cards,
                next_cursor: page.next_cursor,
            },
        ))
    })
}

pub static LIST_PRODUCTS: Route =
    Route {
        name: "store_list_products",
        method: Method::Get,
        path: "/store/products",
        access: Access::StoreKey("products.read"),
        summary: "Active products, filtered and sorted",
        tag: TAG,
        aws: AwsAccess {
            blobs: BlobAccess::Read,
            secrets: &[Secret::Cursor],
            ..crate::api_keys::STORE_READ
        },
        handler: list,
        doc: || {
            RouteDoc::new()
            .description(
                "One query per page. A category (with its descendants) or a collection has its \
                 own listing, which this reads, so a page of it reads only what it shows; the \
                 sort order, and a price range when sorting by price, are key conditions. Tag, \
                 type and attribute filters examine at most 300 products per page, so a short \
                 page with a cursor means more may follow. Filter by a filterable attribute with \
                 `attr.<key>=<value>`.",
            )
            .query("category", "A category handle: its products and its descendants'", false)
            .query(
                "collection",
                "A collection handle: its products, in its order unless `sort` is given",
                false,
            )
            .query("tag", "Products with this tag", false)
            .query("type", "Products of this type", false)
            .query("price_min", "Lowest price, in minor units", false)
            .query("price_max", "Highest price, in minor units", false)
            .query("sort", "newest (default), title, price or -price", false)
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<ProductCard>("A page of products")
        },
    };

/// A product page.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreProduct {
    pub id: String,
    pub handle: String,
    pub title: String,
    /// Sanitised HTML, safe to render.
    pub description_html: String,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    pub seo: Seo,
    pub options: Vec<ProductOption>,
    pub variants: Vec<StoreVariant>,
    pub images: Vec<StoreImage>,
    /// The visible attributes: key → {label, value}.
    pub attributes: BTreeMap<String, StoreAttribute>,
    pub categories: Vec<StoreCategoryRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreVariant {
    pub id: String,
    pub sku: Option<String>,
    pub price: Option<Money>,
    pub compare_at_price: Option<Money>,
    pub options: BTreeMap<String, String>,
    pub image_id: Option<String>,
    pub weight: Option<f64>,
    /// Whether it can be bought now: it has a price and is not out of stock.
    pub available: bool,
    /// Stock status (and the quantity, when the company shows it), as of this read.
    pub availability: Availability,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreImage {
    pub id: String,
    pub url: String,
    pub alt: String,
    pub position: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreAttribute {
    pub label: String,
    /// Text, a number or true/false, as the attribute's type says.
    pub value: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreCategoryRef {
    pub id: String,
    pub handle: String,
    pub title: String,
}

fn product_page(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let stock = store::product_by_handle(ctx.app.table.as_ref(), tenant, ctx.param("handle"))
            .await?
            .filter(|s| s.product.status == ProductStatus::Active)
            .ok_or_else(|| ApiError::not_found("product"))?;
        let taxonomy = taxonomy::cached(&ctx.app, tenant).await?;
        let settings = crate::settings::service::typed::<Inventory>(&ctx.app, tenant).await?;
        let mut availability = stock.page(&settings);
        let product = stock.product;
        let mut images = Vec::new();
        let mut sorted = product.images.clone();
        sorted.sort_by_key(|i| i.position);
        for i in sorted {
            images.push(StoreImage {
                url: ctx.app.blobs.published_url(&i.object_key).await?,
                id: i.id,
                alt: i.alt,
                position: i.position,
            });
        }
        let mut variants = product.variants.clone();
        variants.sort_by_key(|v| v.position);
        let page = StoreProduct {
            description_html: product.description_html.clone(),
            variants: variants
                .into_iter()
                .map(|v| {
                    let availability = availability.remove(v.id.as_str()).unwrap_or(Availability {
                        status: StockStatus::OutOfStock,
                        quantity: None,
                    });
                    StoreVariant {
                        available: v.price.is_some() && availability.purchasable(),
                        availability,
                        id: v.id.into(),
                        sku: v.sku,
                        price: v.price,
                        compare_at_price: v.compare_at_price,
                        options: v.options,
                        image_id: v.image_id,
                        weight: v.weight,
                    }
                })
                .collect(),
            images,
            attributes: product
                .attributes
                .iter()
                .filter_map(|(key, value)| {
                    let definition = taxonomy.attribute(key).filter(|a| a.visible)?;
                    Some((
                        key.clone(),
                        StoreAttribute {
                            label: definition.label.clone(),
                            value: value.clone(),
                        },
                    ))
                })
                .collect(),
            categories: product
                .category_ids
                .iter()
                .filter_map(|id| taxonomy.category(id))
                .map(|c| StoreCategoryRef {
                    id: c.id.clone(),
                    handle: c.handle.clone(),
                    title: c.title.clone(),
                })
                .collect(),
            id: product.id.into(),
            handle: product.handle,
            title: product.title,
            vendor: product.vendor,
            product_type: product.product_type,
            tags: product.tags,
            seo: product.seo,
            options: product.options,
        };
        Ok(ApiResponse::json(200, &page))
    })
}

pub static PRODUCT_PAGE: Route = Route {
    name: "store_get_product",
    method: Method::Get,
    path: "/store/products/{handle}",
    access: Access::StoreKey("products.read"),
    summary: "An active product by its handle, with options, variants, images and attributes",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::Read,
        ..crate::api_keys::STORE_READ
    },
    handler: product_page,
    doc: || {
        RouteDoc::new()
            .description("Two reads: the handle, then the product (the taxonomy is cached).")
            .response::<StoreProduct>(200, "The product")
            .error(HttpCode::NotFound)
    },
};

fn categories(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let taxonomy = taxonomy::cached(&ctx.app, tenant).await?;
        Ok(ApiResponse::json(
            200,
            &ListPage {
                data: taxonomy.tree(),
                next_cursor: None,
            },
        ))
    })
}

pub static CATEGORIES: Route = Route {
    name: "store_list_categories",
    method: Method::Get,
    path: "/store/categories",
    access: Access::StoreKey("categories.read"),
    summary: "The category tree",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: categories,
    doc: || RouteDoc::new().page::<CategoryNode>("The top-level categories with their children"),
};

/// A category page: the category with its subtree and its path from the root.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreCategory {
    #[serde(flatten)]
    pub category: CategoryNode,
    /// From the root down to the parent.
    pub ancestors: Vec<StoreCategoryRef>,
}

fn category(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let taxonomy = taxonomy::cached(&ctx.app, tenant).await?;
        let found = taxonomy
            .category_by_handle(ctx.param("handle"))
            .ok_or_else(|| ApiError::not_found("category"))?;
        let mut path = taxonomy.path(&found.id);
        path.pop();
        let page = StoreCategory {
            category: taxonomy.subtree_node(&found.id).expect("found"),
            ancestors: path
                .into_iter()
                .map(|c| StoreCategoryRef {
                    id: c.id.clone(),
                    handle: c.handle.clone(),
                    title: c.title.clone(),
                })
                .collect(),
        };
        Ok(ApiResponse::json(200, &page))
    })
}

pub static CATEGORY: Route = Route {
    name: "store_get_category",
    method: Method::Get,
    path: "/store/categories/{handle}",
    access: Access::StoreKey("categories.read"),
    summary: "A category by its handle, with its children and ancestors",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: category,
    doc: || {
        RouteDoc::new()
            .response::<StoreCategory>(200, "The category")
            .error(HttpCode::NotFound)
    },
};
