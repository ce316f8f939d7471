//! `/admin/collections` and `/store/collections`.

use super::model::{Collection, CollectionImage, SortOrder};
use super::{CollectionChange, NewCollection, Placed, Placing};
use crate::auth::caller::{staff, storefront};
use crate::catalog::cards::{self, CardPage, ProductCard};
use crate::catalog::errors::CatalogCode;
use crate::catalog::listing::{self, Filter};
use crate::catalog::model::Seo;
use crate::catalog::placements::Shelf;
use crate::catalog::store::Order;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, BlobAccess, Ctx, FieldError, HandlerFuture, HttpCode,
    ListPage, Method, Route, RouteDoc,
};
use crate::secrets::Secret;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

const TAG: &str = "collections";
const STORE_TAG: &str = "storefront catalog";

fn all<T: Serialize>(data: Vec<T>) -> ApiResponse {
    ApiResponse::json(
        200,
        &ListPage {
            data,
            next_cursor: None,
        },
    )
}

/// The order a collection page reads: the collection's own, or `?sort=`.
fn order_of(collection: &Collection, sort: Option<&str>) -> Result<(Order, bool), ApiError> {
    let order = match sort {
        None => collection.sort_order,
        Some("manual") if collection.is_manual() => SortOrder::Manual,
        Some("newest") => SortOrder::Newest,
        Some("title") => SortOrder::Title,
        Some("price") => SortOrder::Price,
        Some("-price") => SortOrder::PriceDescending,
        Some(_) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "sort",
                "invalid",
                "newest, title, price or -price (or manual, for a manual collection)",
            )]))
        }
    };
    Ok(order.listing())
}

/// A page of a collection's products (active ones: the collection's own listing), as cards.
async fn products_page(
    ctx: &Ctx,
    tenant: &crate::auth::TenantId,
    collection: &Collection,
    name: &str,
) -> Result<CardPage, ApiError> {
    let params = listing::params(&ctx.req.query)?;
    let (mut sort, mut limit, mut cursor) = (None, None, None);
    for (key, value) in &params {
        match key.as_str() {
            "sort" => sort = Some(value.as_str()),
            "limit" => limit = Some(value.as_str()),
            "cursor" => cursor = Some(value.as_str()),
            other => {
                return Err(ApiError::validation(vec![FieldError::new(
                    other,
                    "unknown_parameter",
                    "not a parameter of this list",
                )]))
            }
        }
    }
    let (order, descending) = order_of(collection, sort)?;
    let shelf = Shelf::Collection(collection.id.to_string());
    let fingerprint = listing::fingerprint(&format!("{name}|{}", collection.id), &params);
    cards::page(
        &ctx.app,
        tenant,
        cards::CardRequest {
            shelf: &shelf,
            order,
            descending,
            filter: &Filter::default(),
            limit: listing::limit(limit)?,
            fingerprint: &fingerprint,
            cursor,
        },
    )
    .await
}

// Admin ------------------------------------------------------------------------------------------

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        Ok(all(super::list(&ctx.app, tenant).await?))
    })
}

pub static LIST_COLLECTIONS: Route = Route {
    name: "list_collections",
    method: Method::Get,
    path: "/admin/collections",
    access: Access::Staff("products.read"),
    summary: "Every collection, by title",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: list,
    doc: || RouteDoc::new().page::<Collection>("Every collection"),
};

fn create(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewCollection = ctx.req.json()?;
        let c = super::create(&ctx.app, tenant, user, input).await?;
        Ok(ApiResponse::created(&format!("/admin/collections/{}", c.id), &c).with_etag(c.version))
    })
}

pub static CREATE_COLLECTION: Route = Route {
    name: "create_collection",
    method: Method::Post,
    path: "/admin/collections",
    access: Access::Staff("categories.write"),
    summary: "Create a manual collection, or an automated one (with `rules`)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create,
    doc: || {
        RouteDoc::new()
            .description(
                "An automated collection answers `state: rebuilding` until its products are \
                 gathered in the background, then `ready`.",
            )
            .request::<NewCollection>()
            .response::<Collection>(201, "The collection")
            .error(CatalogCode::HandleTaken)
    },
};

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let c = super::get(&ctx.app, tenant, ctx.param("id")).await?;
        Ok(ApiResponse::json(200, &c).with_etag(c.version))
    })
}

pub static GET_COLLECTION: Route = Route {
    name: "get_collection",
    method: Method::Get,
    path: "/admin/collections/{id}",
    access: Access::Staff("products.read"),
    summary: "One collection",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: get,
    doc: || {
        RouteDoc::new()
            .response::<Collection>(200, "The collection")
            .error(HttpCode::NotFound)
    },
};

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: CollectionChange = ctx.req.json()?;
        let c = super::update(
            &ctx.app,
            tenant,
            user,
            ctx.param("id"),
            input,
            ctx.req.if_match()?,
        )
        .await?;
        Ok(ApiResponse::json(200, &c).with_etag(c.version))
    })
}

pub static PATCH_COLLECTION: Route = Route {
    name: "patch_collection",
    method: Method::Patch,
    path: "/admin/collections/{id}",
    access: Access::Staff("categories.write"),
    summary: "Change a collection; new rules gather its products again in the background",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch,
    doc: || {
        RouteDoc::new()
            .request::<CollectionChange>()
            .response::<Collection>(200, "The collection")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
            .error(CatalogCode::HandleTaken)
    },
};

fn delete(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        super::delete(&ctx.app, tenant, user, ctx.param("id"), ctx.req.if_match()?).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_COLLECTION: Route = Route {
    name: "delete_collection",
    method: Method::Delete,
    path: "/admin/collections/{id}",
    access: Access::Staff("categories.write"),
    summary: "Delete a collection (its products stay; they leave it in the background)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Deleted")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn list_products(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let c = super::get(&ctx.app, tenant, ctx.param("id")).await?;
        let page = products_page(&ctx, tenant, &c, "admin-collection").await?;
        Ok(ApiResponse::json(
            200,
            &ListPage {
                data: page.cards,
                next_cursor: page.next_cursor,
            },
        ))
    })
}

pub static LIST_COLLECTION_PRODUCTS: Route = Route {
    name: "list_collection_products",
    method: Method::Get,
    path: "/admin/collections/{id}/products",
    access: Access::Staff("products.read"),
    summary: "A collection's active products, in its order (one query per page)",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::Read,
        secrets: &[Secret::Cursor],
        ..AwsAccess::READ
    },
    handler: list_products,
    doc: || {
        RouteDoc::new()
            .description(
                "Draft and archived products a collection holds are listed by \
                 `GET /admin/products?collection=<id>`.",
            )
            .query("sort", "newest, title, price, -price, or manual (manual collections); default: the collection's order", false)
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<ProductCard>("A page of products, as the storefront shows them")
            .error(HttpCode::NotFound)
    },
};

fn add_products(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: Placing = ctx.req.json()?;
        let placed = super::place_products(&ctx.app, tenant, user, ctx.param("id"), input).await?;
        Ok(all(placed))
    })
}

pub static ADD_COLLECTION_PRODUCTS: Route = Route {
    name: "add_collection_products",
    method: Method::Post,
    path: "/admin/collections/{id}/products",
    access: Access::Staff("categories.write"),
    summary: "Place products in a manual collection at a position, or move them there",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: add_products,
    doc: || {
        RouteDoc::new()
            .request::<Placing>()
            .page::<Placed>("The products placed, with their positions")
            .error(HttpCode::NotFound)
            .error(CatalogCode::TooManyPlacements)
    },
};

fn remove_product(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        super::remove_product(
            &ctx.app,
            tenant,
            user,
            ctx.param("id"),
            ctx.param("product_id"),
        )
        .await?;
        Ok(ApiResponse::no_content())
    })
}

pub static REMOVE_COLLECTION_PRODUCT: Route = Route {
    name: "remove_collection_product",
    method: Method::Delete,
    path: "/admin/collections/{id}/products/{product_id}",
    access: Access::Staff("categories.write"),
    summary: "Take a product out of a manual collection",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: remove_product,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Taken out")
            .error(HttpCode::NotFound)
    },
};

// Storefront -------------------------------------------------------------------------------------

/// A collection as shoppers see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreCollection {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub image: Option<CollectionImage>,
    pub seo: Seo,
    pub sort_order: SortOrder,
}

impl From<&Collection> for StoreCollection {
    fn from(c: &Collection) -> Self {
        StoreCollection {
            id: c.id.to_string(),
            handle: c.handle.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            image: c.image.clone(),
            seo: c.seo.clone(),
            sort_order: c.sort_order,
        }
    }
}

/// A collection with a page of its products.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreCollectionPage {
    pub collection: StoreCollection,
    #[schema(value_type = Vec<ProductCard>)]
    pub products: Vec<Box<RawValue>>,
    /// Pass as `cursor` for the next page of products.
    pub next_cursor: Option<String>,
}

fn store_list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let mut data: Vec<StoreCollection> = super::cached(&ctx.app, tenant)
            .await?
            .iter()
            .map(StoreCollection::from)
            .collect();
        data.sort_by_key(|c| c.title.to_lowercase());
        Ok(all(data))
    })
}

pub static STORE_COLLECTIONS: Route = Route {
    name: "store_list_collections",
    method: Method::Get,
    path: "/store/collections",
    access: Access::StoreKey("products.read"),
    summary: "Every collection, by title",
    tag: STORE_TAG,
    aws: crate::api_keys::STORE_READ,
    handler: store_list,
    doc: || RouteDoc::new().page::<StoreCollection>("Every collection"),
};

fn store_get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let tenant = storefront(&ctx)?;
        let collections = super::cached(&ctx.app, tenant).await?;
        let c = collections
            .iter()
            .find(|c| c.handle == ctx.param("handle"))
            .ok_or_else(|| ApiError::not_found("collection"))?;
        let page = products_page(&ctx, tenant, c, "store-collection").await?;
        Ok(ApiResponse::json(
            200,
            &StoreCollectionPage {
                collection: c.into(),
                products: page.cards,
                next_cursor: page.next_cursor,
            },
        ))
    })
}

pub static STORE_COLLECTION: Route = Route {
    name: "store_get_collection",
    method: Method::Get,
    path: "/store/collections/{handle}",
    access: Access::StoreKey("products.read"),
    summary: "A collection by its handle, with a page of its active products",
    tag: STORE_TAG,
    aws: AwsAccess {
        blobs: BlobAccess::Read,
        secrets: &[Secret::Cursor],
        ..crate::api_keys::STORE_READ
    },
    handler: store_get,
    doc: || {
        RouteDoc::new()
            .description(
                "One query per page of products (the collection itself comes from a \
                 per-container cache of the company's collections, refreshed every 30 s).",
            )
            .query("sort", "newest, title, price or -price (or manual, for a manual collection); default: the collection's order", false)
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .response::<StoreCollectionPage>(200, "The collection and a page of products")
            .error(HttpCode::NotFound)
    },
};
