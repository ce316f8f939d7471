//! `/store/carts`: carts for guests (the company's key) and signed-in customers (the key and
//! the customer's token). Every change answers the whole cart with its new `ETag`, and takes an
//! optional `If-Match`.

use super::admin::{self, CartFilter};
use super::customers;
use super::errors::{CartCode, CartError};
use super::model::Cart;
use super::service::{self, CartChange, ItemChange, NewCart, NewItem, ShippingChoice, Shopper};
use crate::auth::caller::staff;
use crate::http::cursor::Window;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, HandlerFuture, HttpCode, Method, Route, RouteDoc,
};
use crate::identity::{Principal, TenantId};
use crate::ids::CustomerId;
use crate::shipping::model::ShippingOption;

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
    summary: "Change a cart's email, country, note, locale, shipping or billing address",
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

// Customers' carts ---------------------------------------------------------------------------

/// The signed-in customer of a customer route (the pipeline guarantees one).
fn customer(ctx: &Ctx) -> Result<(&TenantId, CustomerId), ApiError> {
    let (tenant, shopper) = shopper(ctx)?;
    let customer = shopper
        .customer
        .ok_or_else(|| ApiError::unauthorized("a customer access token is required"))?;
    Ok((tenant, customer))
}

fn attach(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, customer) = customer(&ctx)?;
        let cart = customers::attach(&ctx.app, tenant, &customer, ctx.param("id"))
            .await
            .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static ATTACH_CART: Route = Route {
    name: "attach_cart",
    method: Method::Post,
    path: "/store/carts/{id}/customer",
    access: Access::StoreCustomer("carts.write"),
    summary: "Give a guest cart to the signed-in customer, merging it with their open cart",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: attach,
    doc: || {
        RouteDoc::new()
            .response::<Cart>(
                200,
                "The cart the customer goes on with (the newer one, when two merged)",
            )
            .error(CartCode::CartExpired)
            .error(CartCode::CartClosed)
            .error(CartCode::TooManyLines)
            .error(HttpCode::ValidationFailed)
            .error(HttpCode::Conflict)
            .error(HttpCode::NotFound)
    },
};

fn my_carts(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, customer) = customer(&ctx)?;
        // A disabled or erased account reads nothing more, whatever its token's lifetime.
        crate::customers::account::load_active(&ctx.app, tenant, customer.as_str()).await?;
        let carts = customers::customer_carts(&ctx.app, tenant, &customer)
            .await
            .map_err(err)?;
        Ok(ApiResponse::json(
            200,
            &crate::http::ListPage {
                data: carts,
                next_cursor: None,
            },
        ))
    })
}

pub static MY_CARTS: Route = Route {
    name: "list_my_carts",
    method: Method::Get,
    path: "/store/customers/me/carts",
    access: Access::StoreCustomer("store.read"),
    summary: "The signed-in customer's open carts, most recently changed first",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: my_carts,
    doc: || RouteDoc::new().page::<Cart>("Open carts"),
};

// Shipping -----------------------------------------------------------------------------------

fn shipping_options(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let options = service::shipping_options(&ctx.app, tenant, &shopper, ctx.param("id"))
            .await
            .map_err(err)?;
        Ok(ApiResponse::json(
            200,
            &crate::http::ListPage {
                data: options,
                next_cursor: None,
            },
        ))
    })
}

pub static SHIPPING_OPTIONS: Route = Route {
    name: "list_cart_shipping_options",
    method: Method::Get,
    path: "/store/carts/{id}/shipping-options",
    access: Access::StoreShopper("store.read"),
    summary: "The shipping options of the cart's address, each priced for the cart",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: shipping_options,
    doc: || {
        RouteDoc::new()
            .page::<ShippingOption>(
                "The methods of the zone the cart's address is in that apply to it, cheapest                  first (none when no zone covers the address)",
            )
            .error(CartCode::AddressRequired)
            .error(HttpCode::NotFound)
    },
};

fn choose_shipping(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let input: ShippingChoice = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let cart =
            service::choose_shipping(&ctx.app, tenant, &shopper, ctx.param("id"), if_match, input)
                .await
                .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static CHOOSE_SHIPPING: Route = Route {
    name: "choose_cart_shipping_method",
    method: Method::Post,
    path: "/store/carts/{id}/shipping-method",
    access: Access::StoreShopper("carts.write"),
    summary: "Choose one of the cart's shipping options; its price joins the cart's totals",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: choose_shipping,
    doc: || {
        with_changes(RouteDoc::new().request::<ShippingChoice>())
            .error(CartCode::AddressRequired)
            .error(CartCode::ShippingOptionUnavailable)
    },
};

// Staff --------------------------------------------------------------------------------------

fn admin_list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let filter: CartFilter = ctx.req.query_params()?;
        let scope = format!(
            "carts:{:?}:{}:{}:{}:{}",
            filter.status,
            filter.customer_id.as_deref().unwrap_or(""),
            filter.updated_after.as_deref().unwrap_or(""),
            filter.updated_before.as_deref().unwrap_or(""),
            filter.abandoned
        );
        let mut window = Window::of(&ctx, tenant, &scope)?;
        let (carts, last) =
            admin::admin_list(&ctx.app, tenant, &filter, window.limit, window.start())
                .await
                .map_err(err)?;
        Ok(ApiResponse::json(200, &window.page(carts, last)))
    })
}

pub static ADMIN_LIST_CARTS: Route = Route {
    name: "list_carts",
    method: Method::Get,
    path: "/admin/carts",
    access: Access::Staff("carts.read"),
    summary: "The company's carts, most recently changed first: by status, customer, time of change, or abandoned with an email",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: admin_list,
    doc: || {
        RouteDoc::new()
            .query("status", "open, completed, merged or expired", false)
            .query("customer_id", "One customer's carts", false)
            .query("updated_after", "Changed at or after (RFC 3339)", false)
            .query("updated_before", "Changed at or before (RFC 3339)", false)
            .query(
                "abandoned",
                "true: carts with an email and items, open but unchanged for an hour, or expired",
                false,
            )
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<Cart>("A page of carts; a filtered page may be short while more follow")
    },
};

fn admin_get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let cart = admin::admin_get(&ctx.app, tenant, ctx.param("id"))
            .await
            .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static ADMIN_GET_CART: Route = Route {
    name: "admin_get_cart",
    method: Method::Get,
    path: "/admin/carts/{id}",
    access: Access::Staff("carts.read"),
    summary: "A cart, as last priced",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: admin_get,
    doc: || {
        RouteDoc::new()
            .response::<Cart>(200, "The cart")
            .error(HttpCode::NotFound)
    },
};

fn add_discount_code(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let input: service::CodeEntry = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let ip = ctx.req.source_ip.clone();
        let cart = service::add_discount_code(
            &ctx.app,
            tenant,
            &shopper,
            ctx.param("id"),
            if_match,
            input,
            ip.as_deref(),
        )
        .await
        .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static ADD_DISCOUNT_CODE: Route = Route {
    name: "add_cart_discount_code",
    method: Method::Post,
    path: "/store/carts/{id}/discount-codes",
    access: Access::StoreShopper("carts.write"),
    summary: "Enter a discount code: it applies now, or is refused with the reason",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: add_discount_code,
    doc: || {
        use crate::discounts::errors::DiscountCode as D;
        with_changes(RouteDoc::new().request::<service::CodeEntry>())
            .error(D::DiscountNotFound)
            .error(D::DiscountExpired)
            .error(D::DiscountNotStarted)
            .error(D::DiscountUsageExhausted)
            .error(D::DiscountMinimumNotMet)
            .error(D::DiscountNotCombinable)
            .error(D::DiscountNotApplicable)
            .error(D::TooManyDiscountCodes)
            .error(HttpCode::TooManyRequests)
    },
};

fn remove_discount_code(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let if_match = ctx.req.if_match()?;
        let cart = service::remove_discount_code(
            &ctx.app,
            tenant,
            &shopper,
            ctx.param("id"),
            if_match,
            ctx.param("code"),
        )
        .await
        .map_err(err)?;
        Ok(answer(200, cart))
    })
}

pub static REMOVE_DISCOUNT_CODE: Route = Route {
    name: "remove_cart_discount_code",
    method: Method::Delete,
    path: "/store/carts/{id}/discount-codes/{code}",
    access: Access::StoreShopper("carts.write"),
    summary: "Take a discount code off the cart",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: remove_discount_code,
    doc: || with_changes(RouteDoc::new()),
};

fn open_payment_session(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let input: service::NewPaymentSession = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let session = service::open_payment_session(
            &ctx.app,
            tenant,
            &shopper,
            ctx.param("id"),
            if_match,
            input,
        )
        .await
        .map_err(err)?;
        let version = session.cart.version;
        let location = format!("/store/carts/{}", session.cart.id);
        Ok(ApiResponse::created(&location, &session).with_etag(version))
    })
}

pub static OPEN_PAYMENT_SESSION: Route = Route {
    name: "open_cart_payment_session",
    method: Method::Post,
    path: "/store/carts/{id}/payment-sessions",
    access: Access::StoreShopper("checkout.write"),
    summary: "Open a payment session for the cart with one of the company's payment providers",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: open_payment_session,
    doc: || {
        RouteDoc::new()
            .request::<service::NewPaymentSession>()
            .response::<service::PaymentSessionView>(201, "The session, with the cart")
            .error(CartCode::CartExpired)
            .error(CartCode::CartClosed)
            .error(HttpCode::PreconditionFailed)
            .error(HttpCode::Conflict)
            .error(HttpCode::NotFound)
            .error(crate::payments::errors::PaymentCode::PaymentProviderUnavailable)
            .error(crate::payments::errors::PaymentCode::PaymentProviderError)
    },
};
