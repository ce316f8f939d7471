//! Checkout (`POST /store/carts/{id}/complete`), the shopper's orders (`/store/...`) and the
//! company's orders for staff (`/admin/orders`).

use super::checkout::{self, Completion, Placed};
use super::errors::OrderCode;
use super::fulfillment::{self, NewFulfillment, NewReturn};
use super::model::{CustomerOrder, Order};
use super::refunds::{self, Cancellation, NewRefund};
use super::service::{self, OrderFilter};
use crate::access::AwsAccess;
use crate::auth::caller::staff;
use crate::carts::errors::CartCode;
use crate::carts::service::Shopper;
use crate::http::cursor::Window;
use crate::http::{
    Access, ApiError, ApiResponse, Ctx, HandlerFuture, HttpCode, Method, Route, RouteDoc,
};
use crate::identity::{Principal, TenantId};
use crate::ids::CustomerId;
use serde::Deserialize;
use utoipa::ToSchema;

const TAG: &str = "orders";

/// Storefront reads that page (cursors are signed).
const STORE_READ_LIST: AwsAccess = AwsAccess {
    secrets: &[crate::secrets::Secret::Cursor],
    ..crate::api_keys::STORE_READ
};

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

fn customer(ctx: &Ctx) -> Result<(&TenantId, CustomerId), ApiError> {
    let (tenant, shopper) = shopper(ctx)?;
    let customer = shopper
        .customer
        .ok_or_else(|| ApiError::unauthorized("a customer access token is required"))?;
    Ok((tenant, customer))
}

fn answer(status: u16, order: &Order) -> ApiResponse {
    ApiResponse::json(status, order).with_etag(order.version)
}

// Checkout -----------------------------------------------------------------------------------

fn complete(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        // A malformed body is the more basic fault, so it is reported first.
        let input: Completion = if ctx.req.body.is_empty() {
            Completion::default()
        } else {
            ctx.req.json()?
        };
        if !ctx
            .req
            .headers
            .contains_key(crate::http::idempotency::HEADER)
        {
            return Err(ApiError::new(
                OrderCode::IdempotencyKeyRequired,
                "send an Idempotency-Key header (a fresh random value per checkout attempt) so \
                 that a retry never places a second order",
            ));
        }
        let placed = checkout::complete(&ctx.app, tenant, &shopper, ctx.param("id"), input).await?;
        let location = format!("/store/orders/{}", placed.order.id);
        Ok(ApiResponse::created(&location, &placed))
    })
}

pub static COMPLETE_CART: Route = Route {
    name: "complete_cart",
    method: Method::Post,
    path: "/store/carts/{id}/complete",
    access: Access::StoreShopper("checkout.write"),
    summary: "Check the cart out: authorize its payment and place its order, exactly once",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: complete,
    doc: || {
        RouteDoc::new()
            .request::<Completion>()
            .response::<Placed>(201, "The order placed, with the token that reads it")
            .error(OrderCode::IdempotencyKeyRequired)
            .error(OrderCode::CartCompleted)
            .error(OrderCode::PaymentSessionRequired)
            .error(OrderCode::PaymentDeclined)
            .error(OrderCode::PaymentRequiresAction)
            .error(OrderCode::CartTooLargeForCheckout)
            .error(CartCode::InsufficientStock)
            .error(CartCode::VariantUnavailable)
            .error(CartCode::CartExpired)
            .error(CartCode::CartClosed)
            .error(crate::discounts::errors::DiscountCode::DiscountUsageExhausted)
            .error(crate::payments::errors::PaymentCode::PaymentProviderError)
            .error(HttpCode::Unauthenticated)
            .error(HttpCode::NotFound)
            .error(HttpCode::RequestInProgress)
    },
};

// The shopper's orders -------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn guest_order(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, shopper) = shopper(&ctx)?;
        let query: TokenQuery = ctx.req.query_params()?;
        let customer = shopper.customer.as_ref().map(|c| c.to_string());
        let order = service::shopper_order(
            &ctx.app,
            tenant,
            ctx.param("id"),
            customer.as_deref(),
            query.token.as_deref(),
        )
        .await?;
        Ok(ApiResponse::json(200, &CustomerOrder::of(&order)))
    })
}

pub static GET_STORE_ORDER: Route = Route {
    name: "get_store_order",
    method: Method::Get,
    path: "/store/orders/{id}",
    access: Access::StoreShopper("checkout.write"),
    summary: "An order, for its signed-in customer or with the lookup token checkout gave",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: guest_order,
    doc: || {
        RouteDoc::new()
            .query(
                "token",
                "The lookup_token checkout answered (not needed by the order's signed-in customer)",
                false,
            )
            .response::<CustomerOrder>(200, "The order")
            .error(HttpCode::NotFound)
    },
};

fn my_orders(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, customer) = customer(&ctx)?;
        let mut window = Window::of(&ctx, tenant, &format!("my-orders:{customer}"))?;
        // A disabled or erased account reads nothing more, whatever its token's lifetime.
        crate::customers::account::load_active(&ctx.app, tenant, customer.as_str()).await?;
        let (orders, last) =
            service::customer_orders(&ctx.app, tenant, &customer, window.limit, window.start())
                .await?;
        let data: Vec<CustomerOrder> = orders.iter().map(CustomerOrder::of).collect();
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static MY_ORDERS: Route = Route {
    name: "list_my_orders",
    method: Method::Get,
    path: "/store/customers/me/orders",
    access: Access::StoreCustomer("customers.auth"),
    summary: "The signed-in customer's orders, newest first",
    tag: TAG,
    aws: STORE_READ_LIST,
    handler: my_orders,
    doc: || {
        RouteDoc::new()
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<CustomerOrder>("A page of orders")
    },
};

fn my_order(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, customer) = customer(&ctx)?;
        crate::customers::account::load_active(&ctx.app, tenant, customer.as_str()).await?;
        let order = service::shopper_order(
            &ctx.app,
            tenant,
            ctx.param("id"),
            Some(customer.as_str()),
            None,
        )
        .await?;
        Ok(ApiResponse::json(200, &CustomerOrder::of(&order)))
    })
}

pub static MY_ORDER: Route = Route {
    name: "get_my_order",
    method: Method::Get,
    path: "/store/customers/me/orders/{id}",
    access: Access::StoreCustomer("customers.auth"),
    summary: "One of the signed-in customer's orders",
    tag: TAG,
    aws: crate::api_keys::STORE_READ,
    handler: my_order,
    doc: || {
        RouteDoc::new()
            .response::<CustomerOrder>(200, "The order")
            .error(HttpCode::NotFound)
    },
};

// Staff --------------------------------------------------------------------------------------

fn list_orders(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let filter: OrderFilter = ctx.req.query_params()?;
        let mut window = Window::of(&ctx, tenant, &filter.scope())?;
        let (orders, last) =
            service::list(&ctx.app, tenant, &filter, window.limit, window.start()).await?;
        Ok(ApiResponse::json(200, &window.page(orders, last)))
    })
}

pub static LIST_ORDERS: Route = Route {
    name: "list_orders",
    method: Method::Get,
    path: "/admin/orders",
    access: Access::Staff("orders.read"),
    summary: "The company's orders: by status, customer, email, number, time and total",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list_orders,
    doc: || {
        RouteDoc::new()
            .query("status", "open, completed, canceled or archived", false)
            .query(
                "payment_status",
                "pending, authorized, partially_paid, paid, partially_refunded, refunded or voided",
                false,
            )
            .query(
                "fulfillment_status",
                "unfulfilled, partially_fulfilled, fulfilled, partially_returned or returned",
                false,
            )
            .query("customer_id", "One customer's orders", false)
            .query("email", "Orders placed with this email", false)
            .query("number", "The order with this number", false)
            .query("created_after", "Placed at or after (RFC 3339)", false)
            .query("created_before", "Placed at or before (RFC 3339)", false)
            .query("total_min", "Grand total at least (minor units)", false)
            .query("total_max", "Grand total at most (minor units)", false)
            .query(
                "sort",
                "newest (the default), oldest, or total (largest first)",
                false,
            )
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<Order>(
                "A page of orders; a filtered page may be short while more follow (follow \
                 next_cursor)",
            )
    },
};

fn get_order(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let order = service::load(&ctx.app, tenant, ctx.param("id")).await?;
        Ok(answer(200, &order.order))
    })
}

pub static GET_ORDER: Route = Route {
    name: "get_order",
    method: Method::Get,
    path: "/admin/orders/{id}",
    access: Access::Staff("orders.read"),
    summary: "An order, with its timeline: everything that happened to it, who and when",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: get_order,
    doc: || {
        RouteDoc::new()
            .response::<Order>(200, "The order")
            .error(HttpCode::NotFound)
    },
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// 1 to 2,000 characters.
    pub text: String,
}

fn add_note(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewNote = ctx.req.json()?;
        let order = service::add_note(&ctx.app, tenant, user, ctx.param("id"), &input.text).await?;
        Ok(answer(201, &order))
    })
}

pub static ADD_ORDER_NOTE: Route = Route {
    name: "add_order_note",
    method: Method::Post,
    path: "/admin/orders/{id}/notes",
    access: Access::Staff("orders.write"),
    summary: "Add a staff note to an order's timeline",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: add_note,
    doc: || {
        RouteDoc::new()
            .request::<NewNote>()
            .response::<Order>(201, "The order, with the note on its timeline")
            .error(HttpCode::NotFound)
    },
};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    /// Minor units; all that is authorized and not captured yet when absent.
    pub amount: Option<i64>,
}

fn capture(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: CaptureRequest = if ctx.req.body.is_empty() {
            CaptureRequest::default()
        } else {
            ctx.req.json()?
        };
        let actor = format!("staff:{user}");
        let order =
            service::capture(&ctx.app, tenant, &actor, ctx.param("id"), input.amount).await?;
        Ok(answer(200, &order))
    })
}

pub static CAPTURE_ORDER: Route = Route {
    name: "capture_order",
    method: Method::Post,
    path: "/admin/orders/{id}/capture",
    access: Access::Staff("orders.write"),
    summary: "Capture an order's authorized payment, in full or in part",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: capture,
    doc: || {
        RouteDoc::new()
            .request::<CaptureRequest>()
            .response::<Order>(200, "The order")
            .error(OrderCode::InvalidTransition)
            .error(OrderCode::AmountTooLarge)
            .error(crate::payments::errors::PaymentCode::PaymentProviderError)
            .error(HttpCode::Conflict)
            .error(HttpCode::NotFound)
    },
};

fn mark_paid(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let actor = format!("staff:{user}");
        let order = service::mark_paid(&ctx.app, tenant, &actor, ctx.param("id")).await?;
        Ok(answer(200, &order))
    })
}

pub static MARK_ORDER_PAID: Route = Route {
    name: "mark_order_paid",
    method: Method::Post,
    path: "/admin/orders/{id}/mark-paid",
    access: Access::Staff("orders.write"),
    summary: "Record that a manual payment (bank transfer, cash on delivery) arrived",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: mark_paid,
    doc: || {
        RouteDoc::new()
            .response::<Order>(200, "The order, paid")
            .error(OrderCode::InvalidTransition)
            .error(HttpCode::ValidationFailed)
            .error(HttpCode::Conflict)
            .error(HttpCode::NotFound)
    },
};

fn cancel(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: Cancellation = if ctx.req.body.is_empty() {
            Cancellation::default()
        } else {
            ctx.req.json()?
        };
        let actor = format!("staff:{user}");
        let order = refunds::cancel(&ctx.app, tenant, &actor, ctx.param("id"), input).await?;
        Ok(answer(200, &order))
    })
}

pub static CANCEL_ORDER: Route = Route {
    name: "cancel_order",
    method: Method::Post,
    path: "/admin/orders/{id}/cancel",
    access: Access::Staff("orders.cancel"),
    summary: "Cancel an order that shipped nothing: void or refund its payment, restock its units, give its discount uses back",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: cancel,
    doc: || {
        RouteDoc::new()
            .request::<Cancellation>()
            .response::<Order>(200, "The order, canceled")
            .error(OrderCode::InvalidTransition)
            .error(crate::payments::errors::PaymentCode::PaymentProviderError)
            .error(HttpCode::Conflict)
            .error(HttpCode::NotFound)
    },
};

fn archive(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let order = service::archive(&ctx.app, tenant, user, ctx.param("id"), true).await?;
        Ok(answer(200, &order))
    })
}

pub static ARCHIVE_ORDER: Route = Route {
    name: "archive_order",
    method: Method::Post,
    path: "/admin/orders/{id}/archive",
    access: Access::Staff("orders.write"),
    summary:
        "File a completed or canceled order away (`archived`); its money and units stay as they are",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: archive,
    doc: || {
        RouteDoc::new()
            .response::<Order>(200, "The order, archived")
            .error(OrderCode::InvalidTransition)
            .error(HttpCode::NotFound)
    },
};

fn unarchive(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let order = service::archive(&ctx.app, tenant, user, ctx.param("id"), false).await?;
        Ok(answer(200, &order))
    })
}

pub static UNARCHIVE_ORDER: Route = Route {
    name: "unarchive_order",
    method: Method::Post,
    path: "/admin/orders/{id}/unarchive",
    access: Access::Staff("orders.write"),
    summary: "Bring an archived order back to `completed` (or `canceled`, when it was canceled)",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: unarchive,
    doc: || {
        RouteDoc::new()
            .response::<Order>(200, "The order, no longer archived")
            .error(OrderCode::InvalidTransition)
            .error(HttpCode::NotFound)
    },
};

fn fulfil(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewFulfillment = ctx.req.json()?;
        let (order, fulfillment) =
            fulfillment::fulfil(&ctx.app, tenant, user, ctx.param("id"), input).await?;
        let location = format!("/admin/orders/{}#{fulfillment}", order.id);
        Ok(ApiResponse::created(&location, &order).with_etag(order.version))
    })
}

pub static FULFIL_ORDER: Route = Route {
    name: "create_fulfillment",
    method: Method::Post,
    path: "/admin/orders/{id}/fulfillments",
    access: Access::Staff("orders.fulfill"),
    summary: "Ship some of an order's units from one location, with tracking",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: fulfil,
    doc: || {
        RouteDoc::new()
            .request::<NewFulfillment>()
            .response::<Order>(201, "The order, with the fulfilment")
            .error(OrderCode::InvalidTransition)
            .error(HttpCode::ValidationFailed)
            .error(HttpCode::NotFound)
    },
};

fn cancel_fulfillment(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let order = fulfillment::cancel_fulfillment(
            &ctx.app,
            tenant,
            user,
            ctx.param("id"),
            ctx.param("fid"),
        )
        .await?;
        Ok(answer(200, &order))
    })
}

pub static CANCEL_FULFILLMENT: Route = Route {
    name: "cancel_fulfillment",
    method: Method::Post,
    path: "/admin/orders/{id}/fulfillments/{fid}/cancel",
    access: Access::Staff("orders.fulfill"),
    summary: "Cancel a fulfilment: its units count as not shipped again",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: cancel_fulfillment,
    doc: || {
        RouteDoc::new()
            .response::<Order>(200, "The order")
            .error(OrderCode::InvalidTransition)
            .error(HttpCode::ValidationFailed)
            .error(HttpCode::NotFound)
    },
};

fn request_return(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewReturn = ctx.req.json()?;
        let (order, return_id) =
            fulfillment::request_return(&ctx.app, tenant, user, ctx.param("id"), input).await?;
        let location = format!("/admin/orders/{}#{return_id}", order.id);
        Ok(ApiResponse::created(&location, &order).with_etag(order.version))
    })
}

pub static REQUEST_RETURN: Route = Route {
    name: "create_return",
    method: Method::Post,
    path: "/admin/orders/{id}/returns",
    access: Access::Staff("orders.fulfill"),
    summary: "Expect shipped units back, with the reason and where to restock them",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: request_return,
    doc: || {
        RouteDoc::new()
            .request::<NewReturn>()
            .response::<Order>(201, "The order, with the return")
            .error(OrderCode::InvalidTransition)
            .error(HttpCode::ValidationFailed)
            .error(HttpCode::NotFound)
    },
};

fn receive_return(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let receipt: fulfillment::ReturnReceipt = if ctx.req.body.is_empty() {
            fulfillment::ReturnReceipt::default()
        } else {
            ctx.req.json()?
        };
        let order = fulfillment::receive_return(
            &ctx.app,
            tenant,
            user,
            ctx.param("id"),
            ctx.param("rid"),
            receipt,
        )
        .await?;
        Ok(answer(200, &order))
    })
}

pub static RECEIVE_RETURN: Route = Route {
    name: "receive_return",
    method: Method::Post,
    path: "/admin/orders/{id}/returns/{rid}/receive",
    access: Access::Staff("orders.fulfill"),
    summary: "Receive a return: its units count as returned and go back on hand",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: receive_return,
    doc: || {
        RouteDoc::new()
            .request::<fulfillment::ReturnReceipt>()
            .response::<Order>(200, "The order")
            .error(OrderCode::ReturnAlreadyReceived)
            .error(HttpCode::ValidationFailed)
            .error(HttpCode::NotFound)
    },
};

fn refund(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewRefund = ctx.req.json()?;
        let actor = format!("staff:{user}");
        let (order, refund_id) =
            refunds::refund(&ctx.app, tenant, &actor, ctx.param("id"), input).await?;
        let location = format!("/admin/orders/{}#{refund_id}", order.id);
        Ok(ApiResponse::created(&location, &order).with_etag(order.version))
    })
}

pub static REFUND_ORDER: Route = Route {
    name: "create_refund",
    method: Method::Post,
    path: "/admin/orders/{id}/refunds",
    access: Access::Staff("orders.refund"),
    summary:
        "Refund an amount, or lines and shipping; never more than was captured less earlier refunds",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: refund,
    doc: || {
        RouteDoc::new()
            .request::<NewRefund>()
            .response::<Order>(201, "The order, with the refund")
            .error(OrderCode::InvalidTransition)
            .error(OrderCode::AmountTooLarge)
            .error(crate::payments::errors::PaymentCode::PaymentProviderError)
            .error(HttpCode::Conflict)
            .error(HttpCode::ValidationFailed)
            .error(HttpCode::NotFound)
    },
};
