//! The route table: every API route, once. The sandbox serves these, the OpenAPI document
//! describes them, and `cargo xtask codegen` derives each route's function binary, infra entry
//! and sample event from them (a test fails when those drift).

use crate::http::{ApiResponse, Ctx, ErrorCode, HandlerFuture, Route};

/// `GET /openapi.json` as the sandbox serves it: the document built from this table. (The
/// deployed function serves the generated copy, `system::routes::OPENAPI_PUBLISHED`.)
pub static OPENAPI: Route = Route {
    handler: openapi,
    ..crate::system::routes::OPENAPI_ROUTE
};

fn openapi(_ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let document = openapi_document();
        Ok(ApiResponse::json(200, &document)
            .header("cache-control", crate::system::routes::CACHE_CONTROL))
    })
}

/// A router for these routes, authenticating requests as `authentication` says.
pub fn router(routes: &[&'static Route]) -> crate::http::route::Router {
    crate::http::route::Router::new(routes, crate::authentication::authenticate)
}

/// The `main` of a route's function: serves that one route.
pub async fn serve(
    route: &'static Route,
    adapters: crate::app::AwsAdapters,
) -> Result<(), lambda_http::Error> {
    crate::http::lambda::serve(router(&[route]), adapters).await
}

/// The OpenAPI document of every route.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let codes: Vec<ErrorCode> = error_codes()
        .into_iter()
        .flat_map(|(_, codes)| codes.iter().copied())
        .collect();
    crate::http::openapi::document(ALL, &codes)
}

/// Declares the table from the routes' paths, so generated code can name each static.
macro_rules! route_table {
    ($( $first:ident $(:: $rest:ident)* ),* $(,)?) => {
        /// Every route.
        pub static ALL: &[&Route] = &[$( &crate::$first $(::$rest)* ),*];

        /// Every route with the path of its static within this crate.
        pub fn named() -> Vec<(&'static str, &'static Route)> {
            vec![$( (concat!(stringify!($first) $(, "::", stringify!($rest))*), &crate::$first $(::$rest)*) ),*]
        }
    };
}

route_table!(
    system::routes::HEALTH,
    routes::OPENAPI,
    staff::auth_routes::REGISTER,
    staff::auth_routes::LOGIN,
    staff::auth_routes::REFRESH,
    staff::auth_routes::LOGOUT,
    staff::auth_routes::LOGOUT_ALL,
    staff::auth_routes::ME,
    staff::auth_routes::JWKS,
    staff::auth_routes::OPENID_CONFIGURATION,
    staff::auth_routes::PASSWORD_RESET,
    staff::auth_routes::PASSWORD_RESET_CONFIRM,
    staff::auth_routes::CHANGE_PASSWORD,
    staff::auth_routes::LIST_SESSIONS,
    staff::auth_routes::REVOKE_SESSION,
    companies::routes::GET_COMPANY,
    companies::routes::PATCH_COMPANY,
    iam::routes::LIST_PERMISSIONS,
    iam::routes::LIST_ROLES,
    iam::routes::CREATE_ROLE,
    iam::routes::GET_ROLE,
    iam::routes::PATCH_ROLE,
    iam::routes::DELETE_ROLE,
    staff::routes::LIST_STAFF,
    staff::routes::GET_STAFF,
    staff::routes::PATCH_STAFF,
    staff::routes::DELETE_STAFF,
    staff::invites::CREATE_INVITE,
    staff::invites::LIST_INVITES,
    staff::invites::DELETE_INVITE,
    staff::invites::ACCEPT_INVITE,
    settings::routes::LIST_SETTINGS,
    settings::routes::GET_SETTINGS,
    settings::routes::PATCH_SETTINGS,
    settings::routes::SETTINGS_HISTORY,
    settings::routes::STORE_INFO,
    api_keys::routes::CREATE_API_KEY,
    api_keys::routes::LIST_API_KEYS,
    api_keys::routes::GET_API_KEY,
    api_keys::routes::PATCH_API_KEY,
    api_keys::routes::ROTATE_API_KEY,
    api_keys::routes::DELETE_API_KEY,
    customers::admin_routes::LIST_CUSTOMERS,
    customers::admin_routes::GET_CUSTOMER,
    customers::admin_routes::PATCH_CUSTOMER,
    customers::admin_routes::EXPORT_CUSTOMER,
    customers::admin_routes::ERASE_CUSTOMER,
    customers::groups::LIST_GROUPS,
    customers::groups::CREATE_GROUP,
    customers::groups::GET_GROUP,
    customers::groups::PATCH_GROUP,
    customers::groups::DELETE_GROUP,
    customers::routes::REGISTER,
    customers::routes::VERIFY_EMAIL,
    customers::routes::LOGIN,
    customers::routes::REFRESH,
    customers::routes::LOGOUT,
    customers::routes::PASSWORD_RESET,
    customers::routes::PASSWORD_RESET_CONFIRM,
    customers::routes::ME,
    customers::routes::PATCH_ME,
    customers::routes::CHANGE_PASSWORD,
    customers::routes::CHANGE_EMAIL,
    customers::routes::CONFIRM_EMAIL,
    customers::routes::LIST_SESSIONS,
    customers::routes::REVOKE_SESSION,
    customers::routes::LIST_ADDRESSES,
    customers::routes::CREATE_ADDRESS,
    customers::routes::GET_ADDRESS,
    customers::routes::PATCH_ADDRESS,
    customers::routes::DELETE_ADDRESS,
    customers::routes::JWKS,
    catalog::admin_routes::LIST_PRODUCTS,
    catalog::admin_routes::CREATE_PRODUCT,
    catalog::admin_routes::GET_PRODUCT,
    catalog::admin_routes::PATCH_PRODUCT,
    catalog::admin_routes::DELETE_PRODUCT,
    catalog::admin_routes::REBUILD_LISTINGS,
    catalog::variant_routes::ADD_OPTION,
    catalog::variant_routes::PATCH_OPTION,
    catalog::variant_routes::DELETE_OPTION,
    catalog::variant_routes::LIST_VARIANTS,
    catalog::variant_routes::CREATE_VARIANT,
    catalog::variant_routes::PATCH_VARIANT,
    catalog::variant_routes::DELETE_VARIANT,
    catalog::variant_routes::GENERATE_VARIANTS,
    catalog::images::CREATE_UPLOAD,
    catalog::images::ATTACH_IMAGE,
    catalog::images::PATCH_IMAGE,
    catalog::images::DELETE_IMAGE,
    catalog::taxonomy_routes::LIST_ATTRIBUTES,
    catalog::taxonomy_routes::CREATE_ATTRIBUTE,
    catalog::taxonomy_routes::GET_ATTRIBUTE,
    catalog::taxonomy_routes::PATCH_ATTRIBUTE,
    catalog::taxonomy_routes::DELETE_ATTRIBUTE,
    catalog::taxonomy_routes::LIST_CATEGORIES,
    catalog::taxonomy_routes::CREATE_CATEGORY,
    catalog::taxonomy_routes::GET_CATEGORY,
    catalog::taxonomy_routes::PATCH_CATEGORY,
    catalog::taxonomy_routes::DELETE_CATEGORY,
    catalog::store_routes::LIST_PRODUCTS,
    catalog::store_routes::PRODUCT_PAGE,
    catalog::store_routes::CATEGORIES,
    catalog::store_routes::CATEGORY,
    catalog::collections::routes::LIST_COLLECTIONS,
    catalog::collections::routes::CREATE_COLLECTION,
    catalog::collections::routes::GET_COLLECTION,
    catalog::collections::routes::PATCH_COLLECTION,
    catalog::collections::routes::DELETE_COLLECTION,
    catalog::collections::routes::LIST_COLLECTION_PRODUCTS,
    catalog::collections::routes::ADD_COLLECTION_PRODUCTS,
    catalog::collections::routes::REMOVE_COLLECTION_PRODUCT,
    catalog::collections::routes::STORE_COLLECTIONS,
    catalog::collections::routes::STORE_COLLECTION,
    carts::routes::CREATE_CART,
    carts::routes::GET_CART,
    carts::routes::UPDATE_CART,
    carts::routes::ADD_CART_ITEM,
    carts::routes::UPDATE_CART_ITEM,
    carts::routes::REMOVE_CART_ITEM,
    carts::routes::ATTACH_CART,
    carts::routes::MY_CARTS,
    carts::routes::SHIPPING_OPTIONS,
    carts::routes::CHOOSE_SHIPPING,
    carts::routes::ADD_DISCOUNT_CODE,
    carts::routes::REMOVE_DISCOUNT_CODE,
    carts::routes::OPEN_PAYMENT_SESSION,
    carts::routes::ADMIN_LIST_CARTS,
    carts::routes::ADMIN_GET_CART,
    inventory::routes::LIST_LOCATIONS,
    inventory::routes::CREATE_LOCATION,
    inventory::routes::GET_LOCATION,
    inventory::routes::PATCH_LOCATION,
    inventory::routes::DELETE_LOCATION,
    inventory::routes::LIST_LEVELS,
    inventory::routes::VARIANT_LEVELS,
    inventory::routes::ADJUST,
    inventory::routes::SET_LEVEL,
    inventory::routes::TRANSFER,
    inventory::routes::SPLIT_LEVEL,
    inventory::routes::MOVEMENTS,
    inventory::routes::RECONCILE,
    inventory::routes::RESERVATIONS,
    shipping::routes::LIST_SHIPPING_ZONES,
    shipping::routes::CREATE_SHIPPING_ZONE,
    shipping::routes::GET_SHIPPING_ZONE,
    shipping::routes::PATCH_SHIPPING_ZONE,
    shipping::routes::DELETE_SHIPPING_ZONE,
    tax::routes::LIST_TAX_RATES,
    tax::routes::CREATE_TAX_RATE,
    tax::routes::GET_TAX_RATE,
    tax::routes::PATCH_TAX_RATE,
    tax::routes::DELETE_TAX_RATE,
    discounts::routes::LIST_DISCOUNTS,
    discounts::routes::CREATE_DISCOUNT,
    discounts::routes::GET_DISCOUNT,
    discounts::routes::PATCH_DISCOUNT,
    discounts::routes::DELETE_DISCOUNT,
    discounts::routes::CREATE_DISCOUNT_CODES,
    discounts::routes::LIST_DISCOUNT_CODES,
    discounts::routes::DELETE_DISCOUNT_CODE,
    orders::routes::COMPLETE_CART,
    orders::routes::GET_STORE_ORDER,
    orders::routes::MY_ORDERS,
    orders::routes::MY_ORDER,
    orders::routes::LIST_ORDERS,
    orders::routes::GET_ORDER,
    orders::routes::ADD_ORDER_NOTE,
    orders::routes::CAPTURE_ORDER,
    orders::routes::MARK_ORDER_PAID,
    orders::routes::CANCEL_ORDER,
    orders::routes::ARCHIVE_ORDER,
    orders::routes::UNARCHIVE_ORDER,
    orders::routes::FULFIL_ORDER,
    orders::routes::CANCEL_FULFILLMENT,
    orders::routes::REQUEST_RETURN,
    orders::routes::RECEIVE_RETURN,
    orders::routes::REFUND_ORDER,
    http::cors::PREFLIGHT,
);

/// Declares the worker list, so generated code can name each static.
macro_rules! worker_table {
    ($( $first:ident $(:: $rest:ident)* ),* $(,)?) => {
        /// Every queue worker, for the sandbox, the infra template and the drift test. A module
        /// adds its worker here.
        pub static WORKERS: &[&crate::workers::Worker] = &[$( &crate::$first $(::$rest)* ),*];

        /// Every worker with the path of its static within this crate (for generated binaries).
        pub fn named_workers() -> Vec<(&'static str, &'static crate::workers::Worker)> {
            vec![$( (concat!(stringify!($first) $(, "::", stringify!($rest))*), &crate::$first $(::$rest)*) ),*]
        }
    };
}

worker_table!(
    workers::notifications::WORKER,
    carts::expiry::WORKER,
    catalog::collections::worker::WORKER
);

/// Every event kind, by the module that emits it: the catalog `docs/events.md` is generated from
/// (webhooks will publish it). A module adds its enum here.
pub fn event_kinds() -> Vec<(&'static str, &'static [crate::events::kinds::Kind])> {
    vec![
        ("companies", crate::companies::events::CompanyEvent::ALL),
        ("carts", crate::carts::events::CartEvent::ALL),
        ("auth", crate::staff::auth_events::AuthEvent::ALL),
        ("iam", crate::iam::events::RoleEvent::ALL),
        ("staff", crate::staff::events::StaffEvent::ALL),
        ("settings", crate::settings::events::SettingsEvent::ALL),
        ("api_keys", crate::api_keys::events::ApiKeyEvent::ALL),
        ("customers", crate::customers::events::CustomerEvent::ALL),
        ("catalog", crate::catalog::events::CatalogEvent::ALL),
        ("inventory", crate::inventory::events::InventoryEvent::ALL),
        ("shipping", crate::shipping::events::ShippingEvent::ALL),
        ("tax", crate::tax::events::TaxEvent::ALL),
        ("discounts", crate::discounts::events::DiscountEvent::ALL),
        ("orders", crate::orders::events::OrderEvent::ALL),
        ("events", crate::events::email::EmailEvent::ALL),
    ]
}

/// Every error code, by the module that answers it: the `ErrorCode` schema of the OpenAPI
/// document lists them. A module adds its enum here.
pub fn error_codes() -> Vec<(&'static str, &'static [ErrorCode])> {
    vec![
        ("http", crate::http::HttpCode::ALL),
        ("auth", crate::auth::errors::AuthCode::ALL),
        ("companies", crate::companies::errors::CompanyCode::ALL),
        ("iam", crate::iam::errors::IamCode::ALL),
        ("staff", crate::staff::errors::StaffCode::ALL),
        ("api_keys", crate::api_keys::errors::ApiKeyCode::ALL),
        ("customers", crate::customers::errors::CustomerCode::ALL),
        ("catalog", crate::catalog::errors::CatalogCode::ALL),
        ("inventory", crate::inventory::errors::InventoryCode::ALL),
        ("carts", crate::carts::errors::CartCode::ALL),
        ("shipping", crate::shipping::errors::ShippingCode::ALL),
        ("tax", crate::tax::errors::TaxCode::ALL),
        ("discounts", crate::discounts::errors::DiscountCode::ALL),
        ("payments", crate::payments::errors::PaymentCode::ALL),
        ("orders", crate::orders::errors::OrderCode::ALL),
    ]
}
