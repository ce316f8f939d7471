//! Giving money back: refunds (an amount, or lines and shipping), and canceling an order
//! (voiding or refunding its payment, restocking its units, giving its discount uses back).
//!
//! Both are money steps (see `service`): the payment is held while the provider is asked, so two
//! refunds racing cannot together exceed what was captured: one is paid out, the other answers
//! 409 (`conflict` while the first holds the payment, `amount_too_large` after it).

use super::errors::OrderError;
use super::fulfillment::check_items;
use super::model::{LineQuantity, Order, Refund, StoredOrder};
use super::service::{self, entry, move_money, Money};
use super::transitions::{self, Action, OrderStatus};
use crate::app::App;
use crate::clock::rfc3339;
use crate::identity::TenantId;
use crate::ids::{LocationId, ProductId, VariantId};
use crate::inventory::model::Reason;
use crate::inventory::stock::{self, OrderMove};
use crate::payments::model::PaymentStatus;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    /// Minor units: an amount to give back (or name `items` and `shipping` instead).
    pub amount: Option<i64>,
    /// Lines to refund: each line's total shared by unit (the last unit takes the remainder).
    pub items: Option<Vec<LineQuantity>>,
    /// Refund what is left of the shipping too.
    pub shipping: Option<bool>,
    /// Why, at most 500 characters.
    pub reason: Option<String>,
}

/// What a refund by items gives back of one line: its share of the line's total, the last unit
/// taking what is left so that refunding every unit refunds the total to the cent.
fn line_share(line: &super::model::OrderLine, quantity: i64) -> i64 {
    let left_units = line.quantity - line.refunded_quantity;
    if quantity >= left_units {
        line.total - line.refunded_amount
    } else {
        (i128::from(line.total) * i128::from(quantity) / i128::from(line.quantity)) as i64
    }
}

/// The amount a refund asks for, with the shipping part of it.
fn amount_of(order: &Order, input: &NewRefund) -> Result<(i64, i64), OrderError> {
    let by_items = input.items.is_some() || input.shipping == Some(true);
    match (input.amount, by_items) {
        (Some(_), true) => Err(OrderError::field(
            "amount",
            "conflict",
            "give an amount, or items and shipping, not both",
        )),
        (None, false) => Err(OrderError::field(
            "amount",
            "required",
            "give an amount, or items and shipping",
        )),
        (Some(amount), false) => {
            if amount < 1 {
                return Err(OrderError::field("amount", "out_of_range", "at least 1"));
            }
            Ok((amount, 0))
        }
        (None, true) => {
            let mut amount = 0;
            if let Some(items) = &input.items {
                check_items(
                    order,
                    items,
                    &|l| l.quantity - l.refunded_quantity,
                    "refund",
                )?;
                for item in items {
                    let line = order
                        .lines
                        .iter()
                        .find(|l| l.id == item.line_id)
                        .expect("checked");
                    amount += line_share(line, item.quantity);
                }
            }
            let shipping = if input.shipping == Some(true) {
                order.shipping_total - order.shipping_refunded
            } else {
                0
            };
            amount += shipping;
            if amount < 1 {
                return Err(OrderError::field(
                    "items",
                    "nothing_to_refund",
                    "what is named was refunded already",
                ));
            }
            Ok((amount, shipping))
        }
    }
}

fn check_reason(reason: &Option<String>) -> Result<(), OrderError> {
    if let Some(r) = reason {
        if r.trim().is_empty() || r.chars().count() > 500 || r.chars().any(char::is_control) {
            return Err(OrderError::field(
                "reason",
                "invalid",
                "1 to 500 characters, no control characters",
            ));
        }
    }
    Ok(())
}

/// Refunds money of a captured payment.
pub async fn refund(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: NewRefund,
) -> Result<(Order, String), OrderError> {
    check_reason(&input.reason)?;
    let refund_id = app.ids.new_id("ref");
    let order = move_money(
        app,
        tenant,
        id,
        &|order, _| {
            transitions::check(order.order.standing(), Action::Refund)?;
            let (amount, _) = amount_of(&order.order, &input)?;
            Ok(Money::Refund(amount))
        },
        &|order, payment, _| {
            let o = &mut order.order;
            let (amount, shipping) = amount_of(o, &input)?;
            let items = input.items.clone().unwrap_or_default();
            for item in &items {
                let share = o
                    .lines
                    .iter()
                    .find(|l| l.id == item.line_id)
                    .map_or(0, |l| line_share(l, item.quantity));
                if let Some(line) = o.line_mut(&item.line_id) {
                    line.refunded_quantity += item.quantity;
                    line.refunded_amount += share;
                }
            }
            o.shipping_refunded += shipping;
            o.refunds.push(Refund {
                id: refund_id.clone(),
                amount,
                items,
                shipping,
                reason: input.reason.clone(),
                created_at: rfc3339(app.clock.now()),
            });
            o.log(entry(
                "payment.refunded",
                actor,
                format!("{amount} refunded"),
                json!({"refund_id": refund_id, "amount": amount, "reason": input.reason}),
                app,
            ));
            Ok(vec![crate::events::event(
                app,
                tenant,
                super::events::OrderEvent::OrderRefunded,
                Some(actor),
                json!({
                    "order_id": o.id,
                    "refund_id": refund_id,
                    "amount": amount,
                    "payment_status": payment.status,
                }),
            )])
        },
    )
    .await?;
    Ok((order.order, refund_id))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cancellation {
    /// Why, at most 500 characters.
    pub reason: Option<String>,
    /// Put the units back on hand where they were taken (default true).
    pub restock: Option<bool>,
}

/// The units a canceled order puts back: every allocation, where it was taken, but for the
/// locations deleted since (`gone`): stock put there could never be reached again.
fn restock_all(order: &Order, gone: &[String]) -> Vec<OrderMove> {
    order
        .allocations
        .iter()
        .filter(|a| !gone.contains(&a.location_id))
        .filter_map(|a| {
            let line = order.lines.iter().find(|l| l.variant_id == a.variant_id)?;
            Some(OrderMove {
                variant: VariantId::parse(&a.variant_id)?,
                product: ProductId::parse(&line.product_id)?,
                location: LocationId::parse(&a.location_id)?,
                delta: a.quantity,
                reason: Reason::Restocked,
            })
        })
        .collect()
}

/// Cancels an order that shipped nothing: its payment is voided (or refunded, when captured),
/// its units go back on hand where they were taken, and its discount uses are given back.
pub async fn cancel(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: Cancellation,
) -> Result<Order, OrderError> {
    check_reason(&input.reason)?;
    let restock = input.restock.unwrap_or(true);
    let first = service::load(app, tenant, id).await?;
    transitions::check(first.order.standing(), Action::Cancel)?;
    let mut gone: Vec<String> = Vec::new();
    if restock {
        let mut places: Vec<&String> = first
            .order
            .allocations
            .iter()
            .map(|a| &a.location_id)
            .collect();
        places.sort();
        places.dedup();
        for place in places {
            match stock::named_location(app, tenant, place, "location_id").await {
                Ok(_) => {}
                // Unknown: deleted since checkout took the units there.
                Err(crate::inventory::errors::InventoryError::Invalid(_)) => {
                    gone.push(place.clone())
                }
                Err(other) => return Err(other.into()),
            }
        }
    }
    let moves = if restock {
        restock_all(&first.order, &gone)
    } else {
        Vec::new()
    };
    let levels = stock::levels_for(app, tenant, &moves).await?;
    let reason = input.reason.clone();
    let apply = |order: &mut StoredOrder| {
        let o = &mut order.order;
        // The payment was checked before its money moved; the order itself must still be open
        // with nothing shipped.
        let mut before_money = o.standing();
        before_money.payment = first.order.payment_status;
        transitions::check(before_money, Action::Cancel)?;
        let moves = if restock {
            restock_all(o, &gone)
        } else {
            Vec::new()
        };
        let now = rfc3339(app.clock.now());
        o.status = OrderStatus::Canceled;
        o.canceled_at = Some(now);
        if restock {
            o.allocations.clear();
        }
        o.log(entry(
            "order.canceled",
            actor,
            match &reason {
                Some(r) => format!("Order canceled: {r}"),
                None => "Order canceled".into(),
            },
            json!({"reason": reason, "restocked": restock, "locations_gone": gone}),
            app,
        ));
        let mut ops = stock::order_move_ops(app, tenant, actor, &moves, &levels);
        ops.push(crate::events::event(
            app,
            tenant,
            super::events::OrderEvent::OrderCanceled,
            Some(actor),
            json!({"order_id": o.id, "reason": reason}),
        ));
        Ok(ops)
    };
    let needs_money = {
        let payment =
            crate::payments::store::payment(app.table.as_ref(), tenant, &first.order.payment_id)
                .await?;
        payment
            .is_some_and(|p| !matches!(p.status, PaymentStatus::Voided | PaymentStatus::Refunded))
    };
    let order = if needs_money {
        move_money(
            app,
            tenant,
            id,
            &|order, payment| {
                transitions::check(order.order.standing(), Action::Cancel)?;
                Ok(match payment.status {
                    PaymentStatus::Pending | PaymentStatus::Authorized => Money::Void,
                    _ => Money::Refund(payment.captured() - payment.refunded()),
                })
            },
            &|order, _, money| {
                if let Money::Refund(amount) = money {
                    order.order.refunds.push(Refund {
                        id: app.ids.new_id("ref"),
                        amount,
                        items: Vec::new(),
                        shipping: 0,
                        reason: Some("order canceled".into()),
                        created_at: rfc3339(app.clock.now()),
                    });
                }
                apply(order)
            },
        )
        .await?
    } else {
        service::change(app, tenant, id, None, &apply).await?
    };
    super::fulfillment::publish(app, tenant, &moves).await;
    give_back_uses(app, tenant, &order).await;
    Ok(order.order)
}

/// Gives back the discount uses the order counted (best effort: a failure leaves a counter one
/// high, which only makes a limit reached one use sooner).
async fn give_back_uses(app: &App, tenant: &TenantId, order: &StoredOrder) {
    use crate::discounts::store::Buyer;
    let counted: Vec<crate::discounts::usage::Counted> = order
        .counted_uses
        .iter()
        .map(|u| crate::discounts::usage::Counted {
            discount_id: &u.discount_id,
            code: u.code.as_deref(),
            total: u.total || u.tallied,
            buyers: u
                .buyers
                .iter()
                .chain(&u.legacy_buyer)
                .filter_map(|label| Buyer::from_label(label))
                .collect(),
        })
        .collect();
    if let Err(error) = crate::discounts::usage::give_back_counted(app, tenant, &counted).await {
        tracing::warn!(%error, order = %order.order.id, "could not give discount uses back");
    }
}
