//! `/admin/products`: the catalog as staff manage it.

use super::images::with_urls;
use super::listing::{self, Filter, Summary};
use super::model::{Product, ProductStatus};
use super::service::{self, NewProduct, ProductChange};
use super::store::{self, Order};
use super::taxonomy;
use crate::app::App;
use crate::auth::caller::staff;
use crate::catalog::errors::CatalogCode;
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, BlobAccess, Ctx, FieldError, HandlerFuture, ListPage,
    Method, Route, RouteDoc,
};
use crate::secrets::Secret;
use time::format_description::well_known::Rfc3339;

const TAG: &str = "products";

/// Fills in the signed URLs of listing thumbnails.
pub async fn thumbnails(app: &App, mut summaries: Vec<Summary>) -> Result<Vec<Summary>, ApiError> {
    for s in &mut summaries {
        if let Some(image) = &mut s.image {
            image.url = app.blobs.published_url(&image.object_key).await?;
            image.object_key.clear();
        }
    }
    Ok(summaries)
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, "invalid", message)])
}

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let params = listing::params(&ctx.req.query)?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let mut filter = Filter::default();
        let mut order = (Order::Created, true);
        let mut limit = None;
        for (name, value) in &params {
            match name.as_str() {
                "status" => {
                    let status: ProductStatus =
                        serde_json::from_value(serde_json::Value::String(value.clone()))
                            .map_err(|_| invalid("status", "draft, active or archived"))?;
                    filter.statuses = Some(vec![status]);
                }
                "category" => {
                    let taxonomy = taxonomy::cached(&ctx.app, tenant).await?;
                    filter.categories = Some(taxonomy.subtree(value));
                }
                "tag" => filter.tag = Some(value.clone()),
                "collection" => filter.collection = Some(value.clone()),
                "product_type" => filter.product_type = Some(value.clone()),
                "updated_since" => {
                    let at = time::OffsetDateTime::parse(value, &Rfc3339)
                        .map_err(|_| invalid("updated_since", "an RFC 3339 instant"))?;
                    filter.updated_since =
                        Some(crate::clock::rfc3339(at.to_offset(time::UtcOffset::UTC)));
                }
                "sort" => {
                    order = match value.as_str() {
                        "created" => (Order::Created, false),
                        "-created" => (Order::Created, true),
                        "updated" => (Order::Updated, false),
                        "-updated" => (Order::Updated, true),
                        "title" => (Order::Title, false),
                        "-title" => (Order::Title, true),
                        _ => {
                            return Err(invalid(
                                "sort",
                                "created, updated or title, `-` first for descending",
                            ))
                        }
                    }
                }
                "limit" => limit = Some(value.as_str()),
                "cursor" => {}
                other => {
                    return Err(ApiError::validation(vec![FieldError::new(
                        other,
                        "unknown_parameter",
                        "not a filter of this list",
                    )]))
                }
            }
        }
        let limit = listing::limit(limit)?;
        let fingerprint = listing::fingerprint("admin-products", &params);
        let (data, next_cursor) = listing::page(
            &ctx.app,
            tenant,
            listing::PageRequest {
                order: order.0,
                descending: order.1,
                filter: &filter,
                limit,
                fingerprint: &fingerprint,
                cursor: get("cursor"),
            },
        )
        .await?;
        let data = thumbnails(&ctx.app, data).await?;
        Ok(ApiResponse::json(200, &ListPage { data, next_cursor }))
    })
}

pub static LIST_PRODUCTS: Route = Route {
    name: "list_products",
    method: Method::Get,
    path: "/admin/products",
    access: Access::Staff("products.read"),
    summary: "Find products",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::Read,
        secrets: &[Secret::Cursor],
        ..AwsAccess::READ
    },
    handler: list,
    doc: || {
        RouteDoc::new()
            .description(
                "One query per page. The sort order (and `updated_since` when sorting by update) \
                 is a key condition; the other filters examine at most 300 products per page, so \
                 a short page with a cursor means more may follow.",
            )
            .query("status", "draft, active or archived", false)
            .query(
                "collection",
                "A collection id: the products it holds, of every status",
                false,
            )
            .query(
                "category",
                "A category id: its products and its descendants'",
                false,
            )
            .query("tag", "Products with this tag", false)
            .query("product_type", "Products of this type", false)
            .query("updated_since", "Changed at or after (RFC 3339)", false)
            .query(
                "sort",
                "created, updated or title; `-` first for descending (default -created)",
                false,
            )
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<Summary>("A page of product summaries")
    },
};

fn create(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewProduct = ctx.req.json()?;
        let product = service::create(&ctx.app, tenant, user, input).await?;
        Ok(
            ApiResponse::created(&format!("/admin/products/{}", product.id), &product)
                .with_etag(product.version),
        )
    })
}

pub static CREATE_PRODUCT: Route = Route {
    name: "create_product",
    method: Method::Post,
    path: "/admin/products",
    access: Access::Staff("products.write"),
    summary: "Create a product (a draft unless a status is given)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create,
    doc: || {
        RouteDoc::new()
            .request::<NewProduct>()
            .response::<Product>(201, "The product")
            .error(CatalogCode::HandleTaken)
            .error(CatalogCode::SkuTaken)
            .error(CatalogCode::DuplicateCombination)
            .error(CatalogCode::TooManyVariants)
            .error(CatalogCode::ChangeTooLarge)
    },
};

async fn answer(ctx: &Ctx, product: Product, status: u16) -> Result<ApiResponse, ApiError> {
    let version = product.version;
    let product = with_urls(&ctx.app, product).await?;
    Ok(ApiResponse::json(status, &product).with_etag(version))
}

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let product = store::product(ctx.app.table.as_ref(), tenant, &super::product_id(&ctx)?)
            .await?
            .ok_or_else(|| ApiError::not_found("product"))?;
        answer(&ctx, product, 200).await
    })
}

pub static GET_PRODUCT: Route = Route {
    name: "get_product",
    method: Method::Get,
    path: "/admin/products/{id}",
    access: Access::Staff("products.read"),
    summary: "One product with its options, variants and images",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::Read,
        ..AwsAccess::READ
    },
    handler: get,
    doc: || {
        RouteDoc::new()
            .response::<Product>(200, "The product")
            .error(HttpCode::NotFound)
    },
};

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: ProductChange = ctx.req.json()?;
        let product = service::update(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            input,
            ctx.req.if_match()?,
        )
        .await?;
        answer(&ctx, product, 200).await
    })
}

pub static PATCH_PRODUCT: Route = Route {
    name: "patch_product",
    method: Method::Patch,
    path: "/admin/products/{id}",
    access: Access::Staff("products.write"),
    summary: "Change a product",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::ReadWrite,
        ..AwsAccess::WRITE
    },
    handler: patch,
    doc: || {
        RouteDoc::new()
            .request::<ProductChange>()
            .response::<Product>(200, "The changed product")
            .error(HttpCode::NotFound)
            .error(CatalogCode::HandleTaken)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        service::delete(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            ctx.req.if_match()?,
        )
        .await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_PRODUCT: Route = Route {
    name: "delete_product",
    method: Method::Delete,
    path: "/admin/products/{id}",
    access: Access::Staff("products.write"),
    summary: "Delete a product with its variants and images",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::ReadWrite,
        ..AwsAccess::WRITE
    },
    handler: delete,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Deleted")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn rebuild_listings(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        ctx.app
            .table
            .transact(vec![crate::events::event(
                &ctx.app,
                tenant,
                crate::catalog::events::CatalogEvent::ListingsRebuildRequested,
                Some(user),
                serde_json::json!({}),
            )])
            .await?;
        Ok(ApiResponse::new(202))
    })
}

pub static REBUILD_LISTINGS: Route = Route {
    name: "rebuild_listings",
    method: Method::Post,
    path: "/admin/listings/rebuild",
    access: Access::Staff("products.write"),
    summary: "Write every product's storefront, category and collection listing entries again",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: rebuild_listings,
    doc: || {
        RouteDoc::new()
            .description(
                "For products saved before an upgrade that adds listings (their entries are \
                 written at their next change otherwise). Runs in the background, a page of \
                 products at a time; products already listed where they belong are left as \
                 they are.",
            )
            .empty_response(202, "Accepted: the listings are being rebuilt")
    },
};
