//! Shipping an order's units (fulfilments) and taking them back (returns).
//!
//! Checkout took each tracked line's units from stock at the locations its reservation held
//! them (the order's `allocations`). A fulfilment ships from one location: units allocated
//! there ship as they are; units allocated elsewhere come back on hand there and leave the
//! shipping location instead (`fulfilled` movements, both in the fulfilment's transaction, the
//! shipping location needing them unreserved), so stock always leaves the location that ships.
//! Canceling a fulfilment moves no stock: the units stay the order's, at the location they were
//! going to ship from. A received return puts its units back on hand at its restock location.

use super::errors::OrderError;
use super::model::{
    Allocation, Fulfillment, LineQuantity, Order, OrderReturn, ReturnStatus, ShipmentStatus,
    StoredOrder, Tracking,
};
use super::service::{change, entry, settle};
use super::transitions::{self, Action};
use crate::app::App;
use crate::clock::rfc3339;
use crate::identity::TenantId;
use crate::ids::{LocationId, ProductId, VariantId};
use crate::inventory::model::Reason;
use crate::inventory::stock::{self, OrderMove};
use crate::store::TxOp;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// Lines one fulfilment, return or refund names at most.
const MAX_ITEMS: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFulfillment {
    /// The location the units ship from (`loc_…`).
    pub location_id: String,
    pub items: Vec<LineQuantity>,
    pub tracking: Option<Tracking>,
    /// Tell the customer (default true).
    pub notify: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReturn {
    pub items: Vec<LineQuantity>,
    /// Why, at most 500 characters.
    pub reason: Option<String>,
    /// Where the units go back on hand when received (`loc_…`); none: not restocked.
    pub restock_location_id: Option<String>,
}

/// What staff may say when a return arrives (the body is optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnReceipt {
    /// Put the units back on hand here instead of at the location the return named (`loc_…`).
    pub restock_location_id: Option<String>,
    /// Put the units back on hand (default true); false: count them returned only, as for
    /// damaged goods.
    pub restock: Option<bool>,
}

fn field(name: &str, code: &str, message: impl Into<String>) -> OrderError {
    OrderError::field(name, code, message)
}

/// Checks the items a request names against the order: known lines, each once, 1 unit or more,
/// at most `room(line)` units.
pub fn check_items(
    order: &Order,
    items: &[LineQuantity],
    room: &dyn Fn(&super::model::OrderLine) -> i64,
    what: &str,
) -> Result<(), OrderError> {
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(field(
            "items",
            "out_of_range",
            format!("name 1 to {MAX_ITEMS} lines"),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let at = format!("items[{i}]");
        if items[..i].iter().any(|other| other.line_id == item.line_id) {
            return Err(field(
                &format!("{at}.line_id"),
                "duplicate",
                "name each line once",
            ));
        }
        let Some(line) = order.lines.iter().find(|l| l.id == item.line_id) else {
            return Err(field(
                &format!("{at}.line_id"),
                "unknown_line",
                "not a line of this order",
            ));
        };
        let left = room(line);
        if item.quantity < 1 || item.quantity > left {
            return Err(field(
                &format!("{at}.quantity"),
                "out_of_range",
                format!("1 to {left}: the units of the line left to {what}"),
            ));
        }
    }
    Ok(())
}

fn check_text(name: &str, value: &Option<String>, max: usize) -> Result<(), OrderError> {
    if let Some(v) = value {
        if v.trim().is_empty() || v.chars().count() > max || v.chars().any(|c| c.is_control()) {
            return Err(field(
                name,
                "invalid",
                format!("1 to {max} characters, no control characters"),
            ));
        }
    }
    Ok(())
}

fn check_tracking(tracking: &Option<Tracking>) -> Result<(), OrderError> {
    let Some(t) = tracking else { return Ok(()) };
    check_text("tracking.carrier", &t.carrier, 100)?;
    check_text("tracking.number", &t.number, 100)?;
    if let Some(url) = &t.url {
        // A link staff paste from the carrier: https, a host, nothing a page could not hold.
        let host = url
            .strip_prefix("https://")
            .and_then(|rest| rest.split(['/', '?', '#']).next())
            .unwrap_or("");
        let ok = url.len() <= 2000 && !host.is_empty() && url.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(field(
                "tracking.url",
                "invalid",
                "an https address of at most 2,000 characters",
            ));
        }
    }
    Ok(())
}

fn variant_of(line: &super::model::OrderLine) -> Option<(VariantId, ProductId)> {
    Some((
        VariantId::parse(&line.variant_id)?,
        ProductId::parse(&line.product_id)?,
    ))
}

/// The stock moves a fulfilment of `items` from `location` needs, and the allocations after it:
/// each tracked line's units ship from what is allocated at `location` first, then are moved
/// there from the other allocations.
fn shipping_moves(
    order: &Order,
    items: &[LineQuantity],
    location: &LocationId,
) -> (Vec<OrderMove>, Vec<Allocation>) {
    let mut allocations = order.allocations.clone();
    let mut moves = Vec::new();
    for item in items {
        let Some(line) = order.lines.iter().find(|l| l.id == item.line_id) else {
            continue;
        };
        let Some((variant, product)) = variant_of(line).filter(|_| line.track_inventory) else {
            continue;
        };
        // Units of this variant allocated at the location and not yet shipped from it.
        let shipped_here: i64 = order
            .fulfillments
            .iter()
            .filter(|f| f.status == ShipmentStatus::Fulfilled && f.location_id == location.as_str())
            .flat_map(|f| f.items.iter())
            .filter(|i| {
                order
                    .lines
                    .iter()
                    .any(|l| l.id == i.line_id && l.variant_id == line.variant_id)
            })
            .map(|i| i.quantity)
            .sum();
        let here = allocations
            .iter()
            .find(|a| a.variant_id == line.variant_id && a.location_id == location.as_str())
            .map_or(0, |a| a.quantity);
        let mut short = item.quantity - (here - shipped_here).max(0);
        for a in allocations.iter_mut() {
            if short <= 0 {
                break;
            }
            if a.variant_id != line.variant_id || a.location_id == location.as_str() {
                continue;
            }
            let taken = a.quantity.min(short);
            if taken == 0 {
                continue;
            }
            a.quantity -= taken;
            short -= taken;
            let Some(from) = LocationId::parse(&a.location_id) else {
                continue;
            };
            moves.push(OrderMove {
                variant: variant.clone(),
                product: product.clone(),
                location: from,
                delta: taken,
                reason: Reason::Fulfilled,
            });
            moves.push(OrderMove {
                variant: variant.clone(),
                product: product.clone(),
                location: location.clone(),
                delta: -taken,
                reason: Reason::Fulfilled,
            });
        }
        let moved: i64 = moves
            .iter()
            .filter(|m| m.variant == variant && m.location == *location)
            .map(|m| -m.delta)
            .sum();
        if moved > 0 {
            match allocations
                .iter_mut()
                .find(|a| a.variant_id == line.variant_id && a.location_id == location.as_str())
            {
                Some(a) => a.quantity += moved,
                None => allocations.push(Allocation {
                    variant_id: line.variant_id.clone(),
                    location_id: location.to_string(),
                    quantity: moved,
                }),
            }
        }
    }
    allocations.retain(|a| a.quantity > 0);
    (moves, allocations)
}

/// Ships some of an order's units from one location.
pub async fn fulfil(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: NewFulfillment,
) -> Result<(Order, String), OrderError> {
    check_tracking(&input.tracking)?;
    let location = stock::named_location(app, tenant, &input.location_id, "location_id").await?;
    if !location.active {
        return Err(field(
            "location_id",
            "inactive",
            "the location is not active",
        ));
    }
    let fulfillment_id = app.ids.new_id("ful");
    let first = super::service::load(app, tenant, id).await?;
    transitions::check(first.order.standing(), Action::Fulfil)?;
    check_items(
        &first.order,
        &input.items,
        &|l| l.quantity - l.fulfilled_quantity,
        "fulfil",
    )?;
    // The levels the moves touch, read once (movements' `on_hand_after`).
    let (moves, _) = shipping_moves(&first.order, &input.items, &location.id);
    let levels = stock::levels_for(app, tenant, &moves).await?;
    let notify = input.notify.unwrap_or(true);
    let order = change(app, tenant, id, None, &|order: &mut StoredOrder| {
        transitions::check(order.order.standing(), Action::Fulfil)?;
        check_items(
            &order.order,
            &input.items,
            &|l| l.quantity - l.fulfilled_quantity,
            "fulfil",
        )?;
        let (moves, allocations) = shipping_moves(&order.order, &input.items, &location.id);
        let now = rfc3339(app.clock.now());
        for item in &input.items {
            if let Some(line) = order.order.line_mut(&item.line_id) {
                line.fulfilled_quantity += item.quantity;
            }
        }
        order.order.allocations = allocations;
        order.order.fulfillments.push(Fulfillment {
            id: fulfillment_id.clone(),
            status: ShipmentStatus::Fulfilled,
            location_id: location.id.to_string(),
            items: input.items.clone(),
            tracking: input.tracking.clone(),
            notify,
            created_at: now,
            canceled_at: None,
        });
        let units: i64 = input.items.iter().map(|i| i.quantity).sum();
        order.order.log(entry(
            "fulfillment.created",
            &format!("staff:{actor}"),
            format!("{} shipped from {}", units_of(units), location.name),
            json!({"fulfillment_id": fulfillment_id, "location_id": location.id}),
            app,
        ));
        settle(&mut order.order);
        let mut ops: Vec<TxOp> = stock::order_move_ops(app, tenant, actor, &moves, &levels);
        ops.push(crate::events::event(
            app,
            tenant,
            super::events::OrderEvent::FulfillmentCreated,
            Some(actor),
            json!({
                "order_id": order.order.id,
                "fulfillment_id": fulfillment_id,
                "notify": notify,
                "email": order.order.email,
                "tracking": input.tracking,
            }),
        ));
        Ok(ops)
    })
    .await
    .map_err(|e| match e {
        // The shipping location lacks the units to stand in for those allocated elsewhere.
        OrderError::Store(crate::store::StoreError::TransactionCancelled { .. }) => field(
            "location_id",
            "insufficient_stock",
            "the location does not have the units to ship unreserved; ship from where they \
             were taken or receive stock there first",
        ),
        other => other,
    })?;
    publish(app, tenant, &moves).await;
    Ok((order.order, fulfillment_id))
}

/// Cancels a fulfilment: its units count as not shipped again (no stock moves).
pub async fn cancel_fulfillment(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    fulfillment_id: &str,
) -> Result<Order, OrderError> {
    let order = change(app, tenant, id, None, &|order: &mut StoredOrder| {
        let o = &mut order.order;
        let Some(index) = o.fulfillments.iter().position(|f| f.id == fulfillment_id) else {
            return Err(OrderError::NotFound("fulfillment"));
        };
        transitions::check(o.standing(), Action::CancelFulfilment)?;
        if o.fulfillments[index].status == ShipmentStatus::Canceled {
            return Err(OrderError::InvalidTransition(
                transitions::InvalidTransition {
                    action: "cancel_fulfilment",
                    order: "fulfilment already canceled".into(),
                    payment: String::new(),
                    fulfillment: "canceled".into(),
                },
            ));
        }
        let items = o.fulfillments[index].items.clone();
        for item in &items {
            let Some(line) = o.lines.iter().find(|l| l.id == item.line_id) else {
                continue;
            };
            if line.fulfilled_quantity - item.quantity < line.returning_quantity {
                return Err(field(
                    "fulfillment_id",
                    "returning",
                    "units of this fulfilment are being returned; receive or keep the return \
                     instead",
                ));
            }
        }
        for item in &items {
            if let Some(line) = o.line_mut(&item.line_id) {
                line.fulfilled_quantity -= item.quantity;
            }
        }
        let now = rfc3339(app.clock.now());
        o.fulfillments[index].status = ShipmentStatus::Canceled;
        o.fulfillments[index].canceled_at = Some(now);
        o.log(entry(
            "fulfillment.canceled",
            &format!("staff:{actor}"),
            "Fulfilment canceled".into(),
            json!({"fulfillment_id": fulfillment_id}),
            app,
        ));
        settle(o);
        Ok(vec![crate::events::event(
            app,
            tenant,
            super::events::OrderEvent::FulfillmentCanceled,
            Some(actor),
            json!({"order_id": o.id, "fulfillment_id": fulfillment_id}),
        )])
    })
    .await?;
    Ok(order.order)
}

/// Expects units back from the customer.
pub async fn request_return(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: NewReturn,
) -> Result<(Order, String), OrderError> {
    check_text("reason", &input.reason, 500)?;
    let restock = match &input.restock_location_id {
        Some(raw) => Some(
            stock::named_location(app, tenant, raw, "restock_location_id")
                .await?
                .id,
        ),
        None => None,
    };
    let return_id = app.ids.new_id("ret");
    let order = change(app, tenant, id, None, &|order: &mut StoredOrder| {
        let o = &mut order.order;
        transitions::check(o.standing(), Action::Return)?;
        check_items(
            o,
            &input.items,
            &|l| l.fulfilled_quantity - l.returning_quantity,
            "return",
        )?;
        for item in &input.items {
            if let Some(line) = o.line_mut(&item.line_id) {
                line.returning_quantity += item.quantity;
            }
        }
        o.returns.push(OrderReturn {
            id: return_id.clone(),
            status: ReturnStatus::Requested,
            items: input.items.clone(),
            reason: input.reason.clone(),
            restock_location_id: restock.as_ref().map(|l| l.to_string()),
            created_at: rfc3339(app.clock.now()),
            received_at: None,
        });
        let units: i64 = input.items.iter().map(|i| i.quantity).sum();
        o.log(entry(
            "return.requested",
            &format!("staff:{actor}"),
            format!("{} to come back", units_of(units)),
            json!({"return_id": return_id, "reason": input.reason}),
            app,
        ));
        Ok(vec![crate::events::event(
            app,
            tenant,
            super::events::OrderEvent::ReturnRequested,
            Some(actor),
            json!({"order_id": o.id, "return_id": return_id}),
        )])
    })
    .await?;
    Ok((order.order, return_id))
}

/// Receives a return: its units count as returned and go back on hand at its restock location
/// (or the one the receipt names), which must still exist: a location deleted since answers 422
/// `unknown_location`, nothing written, and staff name another or receive without restocking.
pub async fn receive_return(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    return_id: &str,
    receipt: ReturnReceipt,
) -> Result<Order, OrderError> {
    let first = super::service::load(app, tenant, id).await?;
    let ret = first
        .order
        .returns
        .iter()
        .find(|r| r.id == return_id)
        .ok_or(OrderError::NotFound("return"))?;
    let location = match (receipt.restock, &receipt.restock_location_id) {
        (Some(false), _) => None,
        (_, Some(raw)) => Some(raw.as_str()),
        (_, None) => ret.restock_location_id.as_deref(),
    };
    let location = match location {
        Some(raw) => Some(
            stock::named_location(app, tenant, raw, "restock_location_id")
                .await
                .map_err(|_| {
                    field(
                        "restock_location_id",
                        "unknown_location",
                        "no such location (deleted since the return was requested?): name \
                         another, or receive with restock false",
                    )
                })?
                .id,
        ),
        None => None,
    };
    let moves = restock_moves(&first.order, return_id, location.as_ref())?;
    let levels = stock::levels_for(app, tenant, &moves).await?;
    let order = change(app, tenant, id, None, &|order: &mut StoredOrder| {
        let o = &mut order.order;
        let moves = restock_moves(o, return_id, location.as_ref())?;
        let Some(index) = o.returns.iter().position(|r| r.id == return_id) else {
            return Err(OrderError::NotFound("return"));
        };
        if o.returns[index].status != ReturnStatus::Requested {
            return Err(OrderError::ReturnAlreadyReceived);
        }
        let items = o.returns[index].items.clone();
        for item in &items {
            if let Some(line) = o.line_mut(&item.line_id) {
                line.returned_quantity += item.quantity;
            }
        }
        o.returns[index].status = ReturnStatus::Received;
        o.returns[index].received_at = Some(rfc3339(app.clock.now()));
        o.returns[index].restock_location_id = location.as_ref().map(|l| l.to_string());
        let units: i64 = items.iter().map(|i| i.quantity).sum();
        o.log(entry(
            "return.received",
            &format!("staff:{actor}"),
            format!("{} received back", units_of(units)),
            json!({"return_id": return_id, "restocked": !moves.is_empty()}),
            app,
        ));
        settle(o);
        let mut ops = stock::order_move_ops(app, tenant, actor, &moves, &levels);
        if let Some(location) = location.as_ref().filter(|_| !moves.is_empty()) {
            // Not deleted between the check above and this transaction.
            ops.push(stock::location_is_open(tenant, location));
        }
        ops.push(crate::events::event(
            app,
            tenant,
            super::events::OrderEvent::ReturnReceived,
            Some(actor),
            json!({"order_id": o.id, "return_id": return_id}),
        ));
        Ok(ops)
    })
    .await?;
    publish(app, tenant, &moves).await;
    Ok(order.order)
}

/// Tells the storefront's availability about units moved on hand.
pub(super) async fn publish(app: &App, tenant: &TenantId, moves: &[OrderMove]) {
    if !moves.is_empty() {
        let products: Vec<ProductId> = moves.iter().map(|m| m.product.clone()).collect();
        crate::inventory::availability::publish(app, tenant, &products, None).await;
    }
}

/// What receiving a return puts back on hand at `location`: its tracked lines' units.
fn restock_moves(
    order: &Order,
    return_id: &str,
    location: Option<&LocationId>,
) -> Result<Vec<OrderMove>, OrderError> {
    let ret = order
        .returns
        .iter()
        .find(|r| r.id == return_id)
        .ok_or(OrderError::NotFound("return"))?;
    let Some(location) = location else {
        return Ok(Vec::new());
    };
    Ok(ret
        .items
        .iter()
        .filter_map(|item| {
            let line = order.lines.iter().find(|l| l.id == item.line_id)?;
            let (variant, product) = variant_of(line).filter(|_| line.track_inventory)?;
            Some(OrderMove {
                variant,
                product,
                location: location.clone(),
                delta: item.quantity,
                reason: Reason::Restocked,
            })
        })
        .collect())
}

/// "1 unit", "3 units": for the timeline's messages.
fn units_of(count: i64) -> String {
    if count == 1 {
        "1 unit".to_owned()
    } else {
        format!("{count} units")
    }
}
