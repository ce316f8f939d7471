//! `/store/carts`: carts for guests (the company's key) and signed-in customers (the key and
//! the customer's token). Every change answers the whole cart with its new `ETag`, and takes an
//! optional `If-Match`.

use super::errors::{CartCode, CartError};
use super::model::Cart;
use super::service::{self, CartChange, ItemChange, NewCart, NewItem, Shopper};
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, HandlerFuture, HttpCode, Method, Route, RouteDoc,
};
use crate::identity::{Principal, TenantId};
use crate::ids::CustomerId;

const TAG: &str = "carts";

/// The company and the shopper of a storefront request.
fn shopper(ctx: &Ctx) -> Result<(&TenantId, Shopper), ApiError> {
    match &ctx.principal {
        Principal::Storefront {
            tenant, customer, ..
        } => Ok((
            tenant,
            Shopper {
                customer: customer
                    .as_ref()
                    .and_then(|c| CustomerId::parse(&c.customer_id)),
            },
        )),
        _ => Err(ApiError::unauthorized("a storefront API key is required")),
    }
}

fn answer(status: u16, cart: Cart) -> ApiResponse {
    let version = cart.version;
    ApiResponse::json(status, &cart).with_etag(version)
}

fn err(e: CartError) -> ApiError {
    e.into()
}

fn create(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let input: NewCart = ctx.req.json()?;
        let cart = service::create(&ctx.app, tenant, &shopper, input)
            .await
            .map_err(err)?;
        let location = format!("/store/carts/{}", cart.id);
        let version = cart.version;
        Ok(ApiResponse::created(&location, &cart).with_etag(version))
    })
}

fn with_changes(doc: RouteDoc) -> RouteDoc {
    doc.response::<Cart>(200, "The cart after the change")
        .error(CartCode::InsufficientStock)
        .error(CartCode::VariantUnavailable)
        .error(CartCode::TooManyLines)
        .error(CartCode::CartExpired)
        .error(CartCode::CartClosed)
        .error(HttpCode::PreconditionFailed)
        .error(HttpCode::Conflict)
        .error(HttpCode::NotFound)
}

pub static CREATE_CART: Route = Route {
    name: "create_cart",
    method: Method::Post,
    path: "/store/carts",
    access: Access::StoreShopper("carts.write"),
    summary: "Start a cart (a signed-in customer's belongs to them), optionally with items",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create,
    doc: || {
        RouteDoc::new()
            .request::<NewCart>()
            .response::<Cart>(201, "The cart, with its items reserved")
            .error(CartCode::InsufficientStock)
            .error(CartCode::VariantUnavailable)
    },
};

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let cart = service::get(&ctx.app, tenant, &shopper, ctx.param("id"))
            .await
            .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static GET_CART: Route = Route {
    name: "get_cart",
    method: Method::Get,
    path: "/store/carts/{id}",
    access: Access::StoreShopper("store.read"),
    summary: "A cart, every line priced as the catalog has it now",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: get,
    doc: || {
        RouteDoc::new()
            .response::<Cart>(200, "The cart; a line whose price moved says so")
            .error(HttpCode::NotFound)
    },
};

fn update(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let input: CartChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let cart = service::update(&ctx.app, tenant, &shopper, ctx.param("id"), if_match, input)
            .await
            .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static UPDATE_CART: Route = Route {
    name: "update_cart",
    method: Method::Patch,
    path: "/store/carts/{id}",
    access: Access::StoreShopper("carts.write"),
    summary: "Change a cart's email, country, note or locale",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: update,
    doc: || with_changes(RouteDoc::new().request::<CartChange>()),
};

fn add_item(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let input: NewItem = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let cart = service::add_item(&ctx.app, tenant, &shopper, ctx.param("id"), if_match, input)
            .await
            .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static ADD_CART_ITEM: Route = Route {
    name: "add_cart_item",
    method: Method::Post,
    path: "/store/carts/{id}/items",
    access: Access::StoreShopper("carts.write"),
    summary: "Add units of a variant (to its line when the cart has one), reserving them",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: add_item,
    doc: || with_changes(RouteDoc::new().request::<NewItem>()),
};

fn update_item(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let input: ItemChange = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let cart = service::update_item(
            &ctx.app,
            tenant,
            &shopper,
            ctx.param("id"),
            ctx.param("item_id"),
            if_match,
            input,
        )
        .await
        .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static UPDATE_CART_ITEM: Route = Route {
    name: "update_cart_item",
    method: Method::Patch,
    path: "/store/carts/{id}/items/{item_id}",
    access: Access::StoreShopper("carts.write"),
    summary: "Change a line's quantity (0 removes it); its reservation follows",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: update_item,
    doc: || with_changes(RouteDoc::new().request::<ItemChange>()),
};

fn remove_item(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let if_match = ctx.req.if_match()?;
        let cart = service::remove_item(
            &ctx.app,
            tenant,
            &shopper,
            ctx.param("id"),
            ctx.param("item_id"),
            if_match,
        )
        .await
        .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static REMOVE_CART_ITEM: Route = Route {
    name: "remove_cart_item",
    method: Method::Delete,
    path: "/store/carts/{id}/items/{item_id}",
    access: Access::StoreShopper("carts.write"),
    summary: "Remove a line, releasing its reservation",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: remove_item,
    doc: || with_changes(RouteDoc::new()),
};
