//! Stock locations: creating, changing and deleting them.
//!
//! A delete first marks the location `closing` (from the version read): from then on no write
//! can add stock or backorder reservations there (those writes check that it is open; any other
//! reservation takes units that exist, which the read below sees), so one strongly consistent
//! read of its levels tells whether it still holds anything. If it does, it opens
//! again and the delete answers 409; otherwise it goes, with its empty levels.
//!
//! Carts read the locations that sell online from a per-container copy ([`selling_cached`]) kept
//! for 30 s (a container forgets it when a location changes through it): a location that stops
//! selling may still give units to carts served by other containers for that long. Reservations
//! made by staff, checkout and publication read the locations as stored.

use super::errors::InventoryError;
use super::events::InventoryEvent;
use super::model::Location;
use super::store;
use crate::app::App;
use crate::clock::rfc3339;
use crate::events::event;
use crate::identity::TenantId;
use crate::ids::{LocationId, ProductId};
use crate::settings::groups::{check_address, Address};
use crate::store::{StoreError, TxOp};
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

/// The locations that sell online, highest priority first, as read at most 30 s ago.
pub async fn selling_cached(
    app: &App,
    tenant: &TenantId,
) -> Result<Arc<Vec<LocationId>>, InventoryError> {
    let table = app.table.as_ref();
    crate::app::lists::company_list(app, tenant, async {
        Ok::<_, InventoryError>(super::availability::selling(
            store::all_locations(table, tenant).await?,
        ))
    })
    .await
}

fn forget_selling(app: &App, tenant: &TenantId) {
    crate::app::lists::forget_company_list::<LocationId>(app, tenant);
}

/// Locations one company keeps.
pub const MAX_LOCATIONS: usize = 50;
const MAX_PRIORITY: i64 = 1_000_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLocation {
    pub name: String,
    pub address: Option<Address>,
    /// Default true.
    pub active: Option<bool>,
    /// Default true.
    pub fulfils_online_orders: Option<bool>,
    /// Higher first; default 0.
    pub priority: Option<i64>,
}

/// A partial change; `address: null` removes the address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationChange {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<Address>)]
    pub address: Option<Option<Address>>,
    pub active: Option<bool>,
    pub fulfils_online_orders: Option<bool>,
    pub priority: Option<i64>,
}

fn check(errors: &mut Errors, location: &Location) {
    errors.check(validate::text("name", &location.name, 100));
    if let Some(address) = &location.address {
        check_address(errors, "address", address);
    }
    if !(-MAX_PRIORITY..=MAX_PRIORITY).contains(&location.priority) {
        errors.push(crate::http::FieldError::new(
            "priority",
            "out_of_range",
            format!("from -{MAX_PRIORITY} to {MAX_PRIORITY}"),
        ));
    }
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    input: NewLocation,
) -> Result<Location, InventoryError> {
    let now = rfc3339(app.clock.now());
    let location = Location {
        id: LocationId::generate(app.ids.as_ref()),
        name: input.name.trim().to_owned(),
        address: input.address,
        active: input.active.unwrap_or(true),
        fulfils_online_orders: input.fulfils_online_orders.unwrap_or(true),
        priority: input.priority.unwrap_or(0),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let mut errors = Errors::new();
    check(&mut errors, &location);
    errors.into_result()?;
    let created = app
        .table
        .transact(vec![
            store::location_count_op(tenant, 1, MAX_LOCATIONS),
            store::location_create_op(tenant, &location),
            event(
                app,
                tenant,
                InventoryEvent::LocationCreated,
                Some(actor),
                json!({"location": location}),
            ),
        ])
        .await;
    forget_selling(app, tenant);
    match created {
        Ok(()) => Ok(location),
        Err(e) if e.failed_at(0) => Err(InventoryError::TooManyLocations { max: MAX_LOCATIONS }),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(
    app: &App,
    tenant: &TenantId,
    id: &LocationId,
) -> Result<Location, InventoryError> {
    store::location(app.table.as_ref(), tenant, id)
        .await?
        .ok_or(InventoryError::NotFound("location"))
}

pub async fn change(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &LocationId,
    input: LocationChange,
    if_match: Option<u64>,
) -> Result<Location, InventoryError> {
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(InventoryError::Stale);
    }
    let mut location = current.clone();
    if let Some(name) = input.name {
        location.name = name.trim().to_owned();
    }
    if let Some(address) = input.address {
        location.address = address;
    }
    if let Some(active) = input.active {
        location.active = active;
    }
    if let Some(fulfils) = input.fulfils_online_orders {
        location.fulfils_online_orders = fulfils;
    }
    if let Some(priority) = input.priority {
        location.priority = priority;
    }
    let mut errors = Errors::new();
    check(&mut errors, &location);
    errors.into_result()?;
    if location == current {
        return Ok(current);
    }
    location.version += 1;
    location.updated_at = rfc3339(app.clock.now());
    match app
        .table
        .transact(vec![
            store::location_update_op(tenant, &location, current.version),
            event(
                app,
                tenant,
                InventoryEvent::LocationUpdated,
                Some(actor),
                json!({"location": location}),
            ),
        ])
        .await
    {
        Ok(()) => {
            forget_selling(app, tenant);
            let selling = |l: &Location| l.active && l.fulfils_online_orders;
            if selling(&location) != selling(&current) {
                republish_stocked_at(app, tenant, id).await?;
            }
            Ok(location)
        }
        // Changed, or being deleted, since the read.
        Err(e) if e.failed_at(0) => Err(InventoryError::Stale),
        Err(e) => Err(e.into()),
    }
}

/// Publishes the storefront availability of every product with stock at a location that starts
/// or stops selling online.
async fn republish_stocked_at(
    app: &App,
    tenant: &TenantId,
    id: &LocationId,
) -> Result<(), InventoryError> {
    let selling =
        super::availability::selling(store::all_locations(app.table.as_ref(), tenant).await?);
    let mut after = None;
    loop {
        let (levels, last) = store::levels_at(app.table.as_ref(), tenant, id, PAGE, after).await?;
        let mut products: Vec<ProductId> = levels.into_iter().map(|l| l.product_id).collect();
        products.dedup();
        super::availability::publish(app, tenant, &products, Some(&selling)).await;
        match last {
            Some(last) => after = Some(last),
            None => return Ok(()),
        }
    }
}

/// How many levels a delete reads per page, and clears per transaction.
const PAGE: u32 = 90;

pub async fn delete(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &LocationId,
    if_match: Option<u64>,
) -> Result<(), InventoryError> {
    let current = get(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(InventoryError::Stale);
    }
    let closing =
        store::set_location_state(app.table.as_ref(), tenant, id, current.version, true).await;
    forget_selling(app, tenant);
    match closing {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Err(InventoryError::Stale),
        Err(e) => return Err(e.into()),
    }
    let mut empty = Vec::new();
    let mut after = None;
    loop {
        let (levels, last) = store::levels_at(app.table.as_ref(), tenant, id, PAGE, after).await?;
        if levels.iter().any(|l| l.on_hand != 0 || l.reserved != 0) {
            store::set_location_state(app.table.as_ref(), tenant, id, current.version, false)
                .await?;
            return Err(InventoryError::LocationInUse);
        }
        empty.extend(levels);
        match last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    app.table
        .transact(vec![
            store::location_delete_op(tenant, id, current.version),
            store::location_count_op(tenant, -1, MAX_LOCATIONS),
            event(
                app,
                tenant,
                InventoryEvent::LocationDeleted,
                Some(actor),
                json!({"location_id": id}),
            ),
        ])
        .await?;
    // The empty levels go after the location: nothing can fill them once it is closing, and
    // left behind they would only show in listings.
    for chunk in empty.chunks(PAGE as usize) {
        let ops: Vec<TxOp> = chunk
            .iter()
            .map(|l| store::level_delete_empty(tenant, l))
            .collect();
        app.table.transact(ops).await?;
    }
    Ok(())
}
