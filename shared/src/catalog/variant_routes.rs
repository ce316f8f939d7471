//! `/admin/products/{id}/options` and `/admin/products/{id}/variants`.

use super::images::with_urls;
use super::model::{Product, Variant};
use super::service::{self, NewOption, NewVariant, OptionChange, VariantChange};
use super::store;
use crate::auth::caller::staff;
use crate::catalog::errors::CatalogCode;
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, BlobAccess, Ctx, HandlerFuture, ListPage, Method,
    Route, RouteDoc,
};

const TAG: &str = "products";

async fn product_answer(ctx: &Ctx, product: Product, status: u16) -> Result<ApiResponse, ApiError> {
    let version = product.version;
    let product = with_urls(&ctx.app, product).await?;
    Ok(ApiResponse::json(status, &product).with_etag(version))
}

fn add_option(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewOption = ctx.req.json()?;
        let product = service::add_option(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            input,
            ctx.req.if_match()?,
        )
        .await?;
        product_answer(&ctx, product, 201).await
    })
}

pub static ADD_OPTION: Route = Route {
    name: "add_product_option",
    method: Method::Post,
    path: "/admin/products/{id}/options",
    access: Access::Staff("products.write"),
    summary: "Add an option (at most 3); existing variants take its first value",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::ReadWrite,
        ..AwsAccess::WRITE
    },
    handler: add_option,
    doc: || {
        RouteDoc::new()
            .request::<NewOption>()
            .response::<Product>(201, "The product with the option")
            .error(HttpCode::NotFound)
            .error(CatalogCode::TooManyOptions)
            .error(CatalogCode::DuplicateCombination)
            .error(HttpCode::PreconditionFailed)
    },
};

fn patch_option(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: OptionChange = ctx.req.json()?;
        let product = service::change_option(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            ctx.param("option_id"),
            input,
            ctx.req.if_match()?,
        )
        .await?;
        product_answer(&ctx, product, 200).await
    })
}

pub static PATCH_OPTION: Route = Route {
    name: "patch_product_option",
    method: Method::Patch,
    path: "/admin/products/{id}/options/{option_id}",
    access: Access::Staff("products.write"),
    summary: "Rename an option or change its ordered values",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::ReadWrite,
        ..AwsAccess::WRITE
    },
    handler: patch_option,
    doc: || {
        RouteDoc::new()
            .request::<OptionChange>()
            .response::<Product>(200, "The product")
            .error(HttpCode::NotFound)
            .error(CatalogCode::ValueInUse)
            .error(CatalogCode::DuplicateCombination)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete_option(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        service::delete_option(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            ctx.param("option_id"),
            ctx.req.if_match()?,
        )
        .await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_OPTION: Route = Route {
    name: "delete_product_option",
    method: Method::Delete,
    path: "/admin/products/{id}/options/{option_id}",
    access: Access::Staff("products.write"),
    summary: "Remove an option from the product and its variants",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete_option,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Removed")
            .error(HttpCode::NotFound)
            .error(CatalogCode::VariantsWouldCollide)
            .error(HttpCode::PreconditionFailed)
    },
};

fn list_variants(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let product = store::product(ctx.app.table.as_ref(), tenant, &super::product_id(&ctx)?)
            .await?
            .ok_or_else(|| ApiError::not_found("product"))?;
        let mut data = product.variants;
        data.sort_by_key(|v| v.position);
        Ok(ApiResponse::json(
            200,
            &ListPage {
                data,
                next_cursor: None,
            },
        ))
    })
}

pub static LIST_VARIANTS: Route = Route {
    name: "list_variants",
    method: Method::Get,
    path: "/admin/products/{id}/variants",
    access: Access::Staff("products.read"),
    summary: "A product's variants, in order",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: list_variants,
    doc: || {
        RouteDoc::new()
            .page::<Variant>("Every variant (at most 100)")
            .error(HttpCode::NotFound)
    },
};

fn create_variant(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewVariant = ctx.req.json()?;
        let product_id = super::product_id(&ctx)?;
        let variant = service::create_variant(
            &ctx.app,
            tenant,
            user,
            &product_id,
            input,
            ctx.req.if_match()?,
        )
        .await?;
        Ok(ApiResponse::created(
            &format!("/admin/products/{product_id}/variants/{}", variant.id),
            &variant,
        )
        .with_etag(variant.version))
    })
}

pub static CREATE_VARIANT: Route = Route {
    name: "create_variant",
    method: Method::Post,
    path: "/admin/products/{id}/variants",
    access: Access::Staff("products.write"),
    summary: "Add a variant (at most 100 per product)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create_variant,
    doc: || {
        RouteDoc::new()
            .request::<NewVariant>()
            .response::<Variant>(201, "The variant")
            .error(HttpCode::NotFound)
            .error(CatalogCode::SkuTaken)
            .error(CatalogCode::DuplicateCombination)
            .error(CatalogCode::TooManyVariants)
            .error(HttpCode::PreconditionFailed)
    },
};

fn patch_variant(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: VariantChange = ctx.req.json()?;
        let variant = service::change_variant(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            &super::variant_id(&ctx)?,
            input,
            ctx.req.if_match()?,
        )
        .await?;
        Ok(ApiResponse::json(200, &variant).with_etag(variant.version))
    })
}

pub static PATCH_VARIANT: Route = Route {
    name: "patch_variant",
    method: Method::Patch,
    path: "/admin/products/{id}/variants/{variant_id}",
    access: Access::Staff("products.write"),
    summary: "Change a variant (If-Match names the variant's version)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch_variant,
    doc: || {
        RouteDoc::new()
            .request::<VariantChange>()
            .response::<Variant>(200, "The variant")
            .error(HttpCode::NotFound)
            .error(CatalogCode::SkuTaken)
            .error(CatalogCode::DuplicateCombination)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete_variant(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        service::delete_variant(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            &super::variant_id(&ctx)?,
            ctx.req.if_match()?,
        )
        .await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_VARIANT: Route = Route {
    name: "delete_variant",
    method: Method::Delete,
    path: "/admin/products/{id}/variants/{variant_id}",
    access: Access::Staff("products.write"),
    summary: "Delete a variant",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete_variant,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Deleted")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn generate(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let data = service::generate_variants(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            ctx.req.if_match()?,
        )
        .await?;
        Ok(ApiResponse::json(
            200,
            &ListPage {
                data,
                next_cursor: None,
            },
        ))
    })
}

pub static GENERATE_VARIANTS: Route = Route {
    name: "generate_variants",
    method: Method::Post,
    path: "/admin/products/{id}/variants/generate",
    access: Access::Staff("products.write"),
    summary: "Create the variants of every missing combination of option values, in one step",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: generate,
    doc: || {
        RouteDoc::new()
            .error(CatalogCode::NoOptions)
            .error(CatalogCode::TooManyVariants)
            .page::<Variant>("The variants created (none when every combination exists)")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};
