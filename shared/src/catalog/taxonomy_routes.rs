//! `/admin/attributes` and `/admin/categories`.

use super::model::{AttributeDefinition, Category};
use super::taxonomy::{self, AttributeChange, CategoryChange, NewAttribute, NewCategory};
use crate::auth::caller::staff;
use crate::catalog::errors::CatalogCode;
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, HandlerFuture, ListPage, Method, Route, RouteDoc,
};

fn page<T: serde::Serialize>(data: Vec<T>) -> ApiResponse {
    ApiResponse::json(
        200,
        &ListPage {
            data,
            next_cursor: None,
        },
    )
}

// Attributes ---------------------------------------------------------------------------------------

fn list_attributes(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let mut data = taxonomy::read(&ctx.app, tenant).await?.attributes;
        data.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(page(data))
    })
}

pub static LIST_ATTRIBUTES: Route = Route {
    name: "list_attributes",
    method: Method::Get,
    path: "/admin/attributes",
    access: Access::Staff("products.read"),
    summary: "The product attribute definitions",
    tag: "attributes",
    aws: AwsAccess::READ,
    handler: list_attributes,
    doc: || RouteDoc::new().page::<AttributeDefinition>("Every definition (at most 200), by key"),
};

fn create_attribute(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewAttribute = ctx.req.json()?;
        let a = taxonomy::create_attribute(&ctx.app, tenant, user, input).await?;
        Ok(ApiResponse::created(&format!("/admin/attributes/{}", a.id), &a).with_etag(a.version))
    })
}

pub static CREATE_ATTRIBUTE: Route = Route {
    name: "create_attribute",
    method: Method::Post,
    path: "/admin/attributes",
    access: Access::Staff("products.write"),
    summary: "Define a product attribute",
    tag: "attributes",
    aws: AwsAccess::WRITE,
    handler: create_attribute,
    doc: || {
        RouteDoc::new()
            .request::<NewAttribute>()
            .response::<AttributeDefinition>(201, "The definition")
            .error(CatalogCode::KeyTaken)
            .error(CatalogCode::TooManyAttributes)
    },
};

fn get_attribute(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let a = taxonomy::read(&ctx.app, tenant)
            .await?
            .attributes
            .into_iter()
            .find(|a| a.id == ctx.param("id"))
            .ok_or_else(|| ApiError::not_found("attribute"))?;
        Ok(ApiResponse::json(200, &a).with_etag(a.version))
    })
}

pub static GET_ATTRIBUTE: Route = Route {
    name: "get_attribute",
    method: Method::Get,
    path: "/admin/attributes/{id}",
    access: Access::Staff("products.read"),
    summary: "One attribute definition",
    tag: "attributes",
    aws: AwsAccess::READ,
    handler: get_attribute,
    doc: || {
        RouteDoc::new()
            .response::<AttributeDefinition>(200, "The definition")
            .error(HttpCode::NotFound)
    },
};

fn patch_attribute(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: AttributeChange = ctx.req.json()?;
        let a = taxonomy::change_attribute(
            &ctx.app,
            tenant,
            user,
            ctx.param("id"),
            input,
            ctx.req.if_match()?,
        )
        .await?;
        Ok(ApiResponse::json(200, &a).with_etag(a.version))
    })
}

pub static PATCH_ATTRIBUTE: Route = Route {
    name: "patch_attribute",
    method: Method::Patch,
    path: "/admin/attributes/{id}",
    access: Access::Staff("products.write"),
    summary: "Change an attribute's label, values or visibility (the key and type stay)",
    tag: "attributes",
    aws: AwsAccess::WRITE,
    handler: patch_attribute,
    doc: || {
        RouteDoc::new()
            .request::<AttributeChange>()
            .response::<AttributeDefinition>(200, "The definition")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete_attribute(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        taxonomy::delete_attribute(&ctx.app, tenant, user, ctx.param("id"), ctx.req.if_match()?)
            .await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_ATTRIBUTE: Route = Route {
    name: "delete_attribute",
    method: Method::Delete,
    path: "/admin/attributes/{id}",
    access: Access::Staff("products.write"),
    summary: "Delete an attribute definition (products keep their values, unshown)",
    tag: "attributes",
    aws: AwsAccess::WRITE,
    handler: delete_attribute,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Deleted")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

// Categories -------------------------------------------------------------------------------------

fn list_categories(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let mut data = taxonomy::read(&ctx.app, tenant).await?.categories;
        data.sort_by(|a, b| {
            a.parent_id
                .cmp(&b.parent_id)
                .then(a.position.cmp(&b.position))
                .then(a.title.cmp(&b.title))
        });
        Ok(page(data))
    })
}

pub static LIST_CATEGORIES: Route = Route {
    name: "list_categories",
    method: Method::Get,
    path: "/admin/categories",
    access: Access::Staff("products.read"),
    summary: "Every category (a flat list; parent_id gives the tree)",
    tag: "categories",
    aws: AwsAccess::READ,
    handler: list_categories,
    doc: || RouteDoc::new().page::<Category>("Every category (at most 500)"),
};

fn create_category(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewCategory = ctx.req.json()?;
        let c = taxonomy::create_category(&ctx.app, tenant, user, input).await?;
        Ok(ApiResponse::created(&format!("/admin/categories/{}", c.id), &c).with_etag(c.version))
    })
}

pub static CREATE_CATEGORY: Route = Route {
    name: "create_category",
    method: Method::Post,
    path: "/admin/categories",
    access: Access::Staff("categories.write"),
    summary: "Create a category",
    tag: "categories",
    aws: AwsAccess::WRITE,
    handler: create_category,
    doc: || {
        RouteDoc::new()
            .request::<NewCategory>()
            .response::<Category>(201, "The category")
            .error(CatalogCode::HandleTaken)
            .error(CatalogCode::TooManyCategories)
    },
};

fn get_category(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let c = taxonomy::read(&ctx.app, tenant)
            .await?
            .category(ctx.param("id"))
            .cloned()
            .ok_or_else(|| ApiError::not_found("category"))?;
        Ok(ApiResponse::json(200, &c).with_etag(c.version))
    })
}

pub static GET_CATEGORY: Route = Route {
    name: "get_category",
    method: Method::Get,
    path: "/admin/categories/{id}",
    access: Access::Staff("products.read"),
    summary: "One category",
    tag: "categories",
    aws: AwsAccess::READ,
    handler: get_category,
    doc: || {
        RouteDoc::new()
            .response::<Category>(200, "The category")
            .error(HttpCode::NotFound)
    },
};

fn patch_category(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: CategoryChange = ctx.req.json()?;
        let c = taxonomy::change_category(
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

pub static PATCH_CATEGORY: Route = Route {
    name: "patch_category",
    method: Method::Patch,
    path: "/admin/categories/{id}",
    access: Access::Staff("categories.write"),
    summary: "Change or move a category (never below itself)",
    tag: "categories",
    aws: AwsAccess::WRITE,
    handler: patch_category,
    doc: || {
        RouteDoc::new()
            .request::<CategoryChange>()
            .response::<Category>(200, "The category")
            .error(HttpCode::NotFound)
            .error(CatalogCode::HandleTaken)
            .error(HttpCode::PreconditionFailed)
    },
};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteParams {
    #[serde(default)]
    cascade: bool,
}

fn delete_category(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let params: DeleteParams = ctx.req.query_params()?;
        taxonomy::delete_category(
            &ctx.app,
            tenant,
            user,
            ctx.param("id"),
            params.cascade,
            ctx.req.if_match()?,
        )
        .await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_CATEGORY: Route = Route {
    name: "delete_category",
    method: Method::Delete,
    path: "/admin/categories/{id}",
    access: Access::Staff("categories.write"),
    summary: "Delete a category; one with children only with ?cascade=true",
    tag: "categories",
    aws: AwsAccess::WRITE,
    handler: delete_category,
    doc: || {
        RouteDoc::new()
            .query(
                "cascade",
                "true deletes the category's whole subtree",
                false,
            )
            .empty_response(204, "Deleted")
            .error(HttpCode::NotFound)
            .error(CatalogCode::CategoryHasChildren)
            .error(CatalogCode::SubtreeTooLarge)
            .error(HttpCode::PreconditionFailed)
    },
};
