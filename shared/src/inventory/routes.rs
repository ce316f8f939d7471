//! `/admin/locations` and `/admin/inventory`: stock locations, levels, movements and
//! reservations, for staff.

use super::errors::{InventoryCode, InventoryError};
use super::locations::{self, LocationChange, NewLocation};
use super::model::{Location, Movement, ReservationView, StockLevel};
use super::shards::{self, Split};
use super::stock::{
    self, Adjustment, LevelCount, Reconciliation, StockChange, Transfer, TransferResult,
};
use super::store;
use crate::auth::caller::staff;
use crate::http::cursor::Window;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, HandlerFuture, HttpCode, Method, Route, RouteDoc,
};
use crate::ids::{LocationId, VariantId};
use serde::Deserialize;

const TAG: &str = "inventory";

fn location_id(ctx: &Ctx) -> Result<LocationId, ApiError> {
    LocationId::parse(ctx.param("id")).ok_or_else(|| ApiError::not_found("location"))
}

fn variant_id(ctx: &Ctx) -> Result<VariantId, ApiError> {
    VariantId::parse(ctx.param("variant_id")).ok_or_else(|| ApiError::not_found("variant"))
}

// Locations ----------------------------------------------------------------------------------

fn create_location(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: NewLocation = ctx.req.json()?;
        let location = locations::create(&ctx.app, tenant, user, input).await?;
        Ok(
            ApiResponse::created(&format!("/admin/locations/{}", location.id), &location)
                .with_etag(location.version),
        )
    })
}

pub static CREATE_LOCATION: Route = Route {
    name: "create_location",
    method: Method::Post,
    path: "/admin/locations",
    access: Access::Staff("inventory.write"),
    summary: "Create a stock location",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: create_location,
    doc: || {
        RouteDoc::new()
            .request::<NewLocation>()
            .response::<Location>(201, "The location")
            .error(InventoryCode::TooManyLocations)
    },
};

fn list_locations(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let mut window = Window::of(&ctx, tenant, "locations")?;
        let (data, last) =
            store::location_page(ctx.app.table.as_ref(), tenant, window.limit, window.start())
                .await?;
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static LIST_LOCATIONS: Route = Route {
    name: "list_locations",
    method: Method::Get,
    path: "/admin/locations",
    access: Access::Staff("inventory.read"),
    summary: "The company's stock locations",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list_locations,
    doc: || {
        RouteDoc::new()
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<Location>("A page of locations, oldest first")
    },
};

fn get_location(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let location = locations::get(&ctx.app, tenant, &location_id(&ctx)?).await?;
        Ok(ApiResponse::json(200, &location).with_etag(location.version))
    })
}

pub static GET_LOCATION: Route = Route {
    name: "get_location",
    method: Method::Get,
    path: "/admin/locations/{id}",
    access: Access::Staff("inventory.read"),
    summary: "One stock location",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: get_location,
    doc: || {
        RouteDoc::new()
            .response::<Location>(200, "The location")
            .error(HttpCode::NotFound)
    },
};

fn patch_location(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: LocationChange = ctx.req.json()?;
        let id = location_id(&ctx)?;
        let if_match = ctx.req.if_match()?;
        let location = locations::change(&ctx.app, tenant, user, &id, input, if_match).await?;
        Ok(ApiResponse::json(200, &location).with_etag(location.version))
    })
}

pub static PATCH_LOCATION: Route = Route {
    name: "patch_location",
    method: Method::Patch,
    path: "/admin/locations/{id}",
    access: Access::Staff("inventory.write"),
    summary: "Change a stock location",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: patch_location,
    doc: || {
        RouteDoc::new()
            .request::<LocationChange>()
            .response::<Location>(200, "The changed location")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete_location(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let id = location_id(&ctx)?;
        let if_match = ctx.req.if_match()?;
        locations::delete(&ctx.app, tenant, user, &id, if_match).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_LOCATION: Route = Route {
    name: "delete_location",
    method: Method::Delete,
    path: "/admin/locations/{id}",
    access: Access::Staff("inventory.write"),
    summary: "Delete a stock location that holds no stock and no reservations",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: delete_location,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Deleted")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
            .error(InventoryCode::LocationInUse)
    },
};

// Levels -------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct LevelFilter {
    variant_id: Option<String>,
    location_id: Option<String>,
    #[serde(default)]
    low_stock: bool,
}

fn list_levels(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let filter: LevelFilter = ctx.req.query_params()?;
        let invalid = |field: &str| {
            ApiError::from(InventoryError::field(
                field,
                "invalid",
                "not an id of this kind",
            ))
        };
        let variant = filter
            .variant_id
            .as_deref()
            .map(|v| VariantId::parse(v).ok_or_else(|| invalid("variant_id")))
            .transpose()?;
        let location = filter
            .location_id
            .as_deref()
            .map(|l| LocationId::parse(l).ok_or_else(|| invalid("location_id")))
            .transpose()?;
        let scope = format!(
            "inventory:{}:{}:{}",
            variant.as_ref().map_or("", |v| v.as_str()),
            location.as_ref().map_or("", |l| l.as_str()),
            filter.low_stock
        );
        let mut window = Window::of(&ctx, tenant, &scope)?;
        let table = ctx.app.table.as_ref();
        let (levels, last) = match &location {
            Some(location) => {
                let (levels, last) =
                    store::levels_at(table, tenant, location, window.limit, window.start()).await?;
                let levels = levels
                    .into_iter()
                    .filter(|l| variant.as_ref().is_none_or(|v| l.variant_id == *v))
                    .collect();
                (levels, last)
            }
            None => {
                store::level_page(
                    table,
                    tenant,
                    variant.as_ref(),
                    window.limit,
                    window.start(),
                )
                .await?
            }
        };
        let data = stock::listed(&ctx.app, tenant, levels, filter.low_stock).await?;
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static LIST_LEVELS: Route = Route {
    name: "list_stock_levels",
    method: Method::Get,
    path: "/admin/inventory",
    access: Access::Staff("inventory.read"),
    summary: "Stock levels, by variant or at a location",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: list_levels,
    doc: || {
        RouteDoc::new()
            .query("variant_id", "Only this variant's levels", false)
            .query("location_id", "Only the levels at this location", false)
            .query(
                "low_stock",
                "`true`: only levels with at most the inventory settings' `low_stock_threshold` \
                 available (a page may then hold fewer than `limit`; follow `next_cursor`)",
                false,
            )
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<StockLevel>("A page of levels, by variant")
    },
};

fn variant_levels(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let levels = stock::levels_of(&ctx.app, tenant, &variant_id(&ctx)?).await?;
        Ok(ApiResponse::json(
            200,
            &crate::http::ListPage {
                data: levels,
                next_cursor: None,
            },
        ))
    })
}

pub static VARIANT_LEVELS: Route = Route {
    name: "get_variant_stock",
    method: Method::Get,
    path: "/admin/inventory/{variant_id}",
    access: Access::Staff("inventory.read"),
    summary: "A variant's stock at every location",
    tag: TAG,
    aws: AwsAccess::READ,
    handler: variant_levels,
    doc: || {
        RouteDoc::new()
            .page::<StockLevel>("The variant's level at each location")
            .error(HttpCode::NotFound)
    },
};

fn adjust(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: Adjustment = ctx.req.json()?;
        let change = stock::adjust(&ctx.app, tenant, user, input).await?;
        Ok(ApiResponse::json(201, &change).with_etag(change.level.version))
    })
}

pub static ADJUST: Route = Route {
    name: "adjust_stock",
    method: Method::Post,
    path: "/admin/inventory/adjustments",
    access: Access::Staff("inventory.write"),
    summary: "Add or take away units at a location, with a reason",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: adjust,
    doc: || {
        RouteDoc::new()
            .request::<Adjustment>()
            .response::<StockChange>(201, "The level after the change and its movement")
            .error(InventoryCode::InsufficientStock)
            .error(InventoryCode::LocationInactive)
            .error(HttpCode::Conflict)
    },
};

fn count(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: LevelCount = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let change = stock::count(&ctx.app, tenant, user, input, if_match).await?;
        Ok(ApiResponse::json(200, &change).with_etag(change.level.version))
    })
}

pub static SET_LEVEL: Route = Route {
    name: "set_stock_level",
    method: Method::Put,
    path: "/admin/inventory/levels",
    access: Access::Staff("inventory.write"),
    summary: "Set the units on hand at a location to a count",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: count,
    doc: || {
        RouteDoc::new()
            .request::<LevelCount>()
            .response::<StockChange>(200, "The level after the count and its movement")
            .error(HttpCode::PreconditionFailed)
            .error(InventoryCode::InsufficientStock)
            .error(InventoryCode::LocationInactive)
            .error(HttpCode::Conflict)
    },
};

fn split(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: Split = ctx.req.json()?;
        let level = shards::split(&ctx.app, tenant, user, input).await?;
        Ok(ApiResponse::json(200, &level).with_etag(level.version))
    })
}

pub static SPLIT_LEVEL: Route = Route {
    name: "split_stock_level",
    method: Method::Put,
    path: "/admin/inventory/shards",
    access: Access::Staff("inventory.write"),
    summary: "Split a level into shards for a flash sale, or merge it back",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: split,
    doc: || {
        RouteDoc::new()
            .request::<Split>()
            .response::<StockLevel>(200, "The level after the split, with its shard count")
            .error(InventoryCode::ShardInUse)
            .error(HttpCode::Conflict)
    },
};

fn transfer(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: Transfer = ctx.req.json()?;
        let result = stock::transfer(&ctx.app, tenant, user, input).await?;
        Ok(ApiResponse::json(201, &result))
    })
}

pub static TRANSFER: Route = Route {
    name: "transfer_stock",
    method: Method::Post,
    path: "/admin/inventory/transfers",
    access: Access::Staff("inventory.write"),
    summary: "Move units from one location to another, in one transaction",
    tag: TAG,
    aws: AwsAccess::WRITE,
    handler: transfer,
    doc: || {
        RouteDoc::new()
            .request::<Transfer>()
            .response::<TransferResult>(201, "Both levels after the move, and both movements")
            .error(InventoryCode::InsufficientStock)
            .error(InventoryCode::LocationInactive)
            .error(HttpCode::Conflict)
    },
};

#[derive(Debug, Deserialize)]
struct MovementFilter {
    location_id: Option<String>,
}

fn movements(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let variant = variant_id(&ctx)?;
        let filter: MovementFilter = ctx.req.query_params()?;
        let location = filter
            .location_id
            .as_deref()
            .map(|l| {
                LocationId::parse(l).ok_or_else(|| {
                    ApiError::from(InventoryError::field(
                        "location_id",
                        "invalid",
                        "not a location id",
                    ))
                })
            })
            .transpose()?;
        let scope = format!(
            "movements:{variant}:{}",
            location.as_ref().map_or("", |l| l.as_str())
        );
        let mut window = Window::of(&ctx, tenant, &scope)?;
        let (data, last) = store::movement_page(
            ctx.app.table.as_ref(),
            tenant,
            &variant,
            location.as_ref(),
            window.limit,
            window.start(),
        )
        .await?;
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static MOVEMENTS: Route = Route {
    name: "list_stock_movements",
    method: Method::Get,
    path: "/admin/inventory/{variant_id}/movements",
    access: Access::Staff("inventory.read"),
    summary: "A variant's stock movements, newest first",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: movements,
    doc: || {
        RouteDoc::new()
            .query("location_id", "Only the movements at this location", false)
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<Movement>("A page of movements, newest first")
    },
};

#[derive(Debug, Deserialize)]
struct ReservationFilter {
    variant_id: Option<String>,
}

fn reservations(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let filter: ReservationFilter = ctx.req.query_params()?;
        let variant = filter
            .variant_id
            .as_deref()
            .and_then(VariantId::parse)
            .ok_or_else(|| {
                ApiError::from(InventoryError::field(
                    "variant_id",
                    "required",
                    "name the variant whose reservations to list",
                ))
            })?;
        let mut window = Window::of(&ctx, tenant, &format!("reservations:{variant}"))?;
        let (data, last) = store::reserved_lines(
            ctx.app.table.as_ref(),
            tenant,
            &variant,
            None,
            window.limit,
            window.start(),
        )
        .await?;
        let (data, _) = store::with_holder_expiry(ctx.app.table.as_ref(), tenant, data).await?;
        let now = ctx.app.clock.epoch_seconds();
        let data: Vec<ReservationView> = data
            .into_iter()
            .map(|line| ReservationView {
                expired: line.expires_epoch <= now,
                line,
            })
            .collect();
        Ok(ApiResponse::json(200, &window.page(data, last)))
    })
}

pub static RESERVATIONS: Route = Route {
    name: "list_reservations",
    method: Method::Get,
    path: "/admin/inventory/reservations",
    access: Access::Staff("inventory.read"),
    summary: "Who holds a variant's units, lines changed longest ago first",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: reservations,
    doc: || {
        RouteDoc::new()
            .query("variant_id", "The variant", true)
            .query("limit", "Page size, 1 to 100 (default 20)", false)
            .query("cursor", "The next_cursor of the previous page", false)
            .page::<ReservationView>("A page of reservation lines, each with its holder's expiry")
    },
};

fn reconcile(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let data = stock::reconcile(&ctx.app, tenant, &variant_id(&ctx)?).await?;
        Ok(ApiResponse::json(
            200,
            &crate::http::ListPage {
                data,
                next_cursor: None,
            },
        ))
    })
}

pub static RECONCILE: Route = Route {
    name: "reconcile_stock",
    method: Method::Get,
    path: "/admin/inventory/{variant_id}/reconciliation",
    access: Access::Staff("inventory.read"),
    summary: "Check a variant's levels against their movements and reservations",
    tag: TAG,
    aws: AwsAccess::READ_LIST,
    handler: reconcile,
    doc: || {
        RouteDoc::new()
            .page::<Reconciliation>("Each location's level beside the sums of its records")
            .error(HttpCode::NotFound)
    },
};
