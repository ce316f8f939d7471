//! Checkout: a cart becomes an order, exactly once.
//!
//! The sequence, and what a crash at each point leaves:
//!
//! 1. **Read** the cart priced as the catalog has it now (two batched reads), then, in one
//!    batched read, its payment, the company's next order number and the stock levels its
//!    reservation holds units at. Nothing is written yet.
//! 2. **Check** the cart: open, with items, an email, a shipping address and a shipping method
//!    that still applies, a payment session, and a reservation that holds exactly its tracked
//!    lines (one swept away after expiring is renewed first, or the answer is
//!    `insufficient_stock`).
//! 3. **Authorize** the payment with its provider for the grand total. A decline or a required
//!    action answers 402 with nothing written. *Crash here:* the provider may hold an
//!    authorization the platform has not recorded; the next checkout of the cart authorizes the
//!    same payment reference again, which providers answer with the authorization they hold.
//! 4. **One transaction**: the reservation's units leave stock (`sold` movements), the discount
//!    uses are counted, the order number is taken, the order is written with its totals frozen,
//!    the cart is closed (`completed`, naming the order), the payment is written with its
//!    authorization, and `order.placed` enters the outbox. Either all of it happens or none. If
//!    it fails because the stock or a discount's last use went to another checkout, the
//!    authorization is voided with the provider (and recorded so), and the answer says why;
//!    the shopper opens a new payment session after changing the cart. *Crash here:* nothing
//!    was written; a retry runs again from 1.
//! 5. **Capture**, when the payments settings' `capture_mode` is `automatic`: the provider
//!    captures, then the payment and the order record it. *Crash or failure here:* the order
//!    exists, `authorized`, with the failure on its timeline; staff capture it (`POST
//!    /admin/orders/{id}/capture`). Never a lost order, never a second charge: the order's
//!    number and the cart's `completed` status are written once, and a repeated checkout of the
//!    cart answers 409 `cart_completed` with the order's id.
//!
//! The route requires an `Idempotency-Key`: a retry with the same key replays the first answer.

use super::errors::OrderError;
use super::model::{
    Allocation, CountedUse, CustomerOrder, Order, OrderLine, StoredOrder, TimelineEntry,
};
use super::transitions::{FulfillmentStatus, OrderStatus};
use super::{numbers, store};
use crate::app::App;
use crate::carts::errors::CartError;
use crate::carts::model::{CartLine, CartStatus, StoredCart};
use crate::carts::pricing::{self, Buyer, Priced};
use crate::carts::service::Shopper;
use crate::clock::rfc3339;
use crate::discounts::engine::Refusal;
use crate::discounts::errors::DiscountError;
use crate::discounts::usage::{self, Redemption};
use crate::identity::TenantId;
use crate::ids::{LocationId, VariantId};
use crate::inventory::model::LocationStock;
use crate::inventory::reservations::{self, Holding};
use crate::payments::ledger;
use crate::payments::model::{Payment, PaymentStatus, Transaction, TransactionKind};
use crate::payments::provider::{Outcome, PaymentProvider};
use crate::settings::groups::{Checkout, General, Payments};
use crate::store::{StoreError, TxOp, MAX_TRANSACTION_OPS};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Operations of the checkout transaction besides the stock sold and the discounts counted: the
/// cart, the order, its number (counter and item), its total index entry, the payment and
/// `order.placed`.
const FIXED_OPS: usize = 7;
/// Operations a discount's uses take at most (its total, the buyer's and the code's counters).
const OPS_PER_DISCOUNT: usize = 3;
/// Reservation lines (a variant at a location) one checkout sells at most: what fits one
/// transaction beside the fixed operations and up to five discounts.
pub const MAX_CHECKOUT_LINES: usize =
    (MAX_TRANSACTION_OPS - FIXED_OPS - 2 - 5 * OPS_PER_DISCOUNT) / reservations::SALE_OPS_PER_LINE;

/// What checkout may be given.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    /// What the payment provider needs to authorize the payment, as the storefront collected
    /// it: for the `test` provider `{"card_number": "4242424242424242"}` (and `"confirmed":
    /// true` after a required action); nothing for `manual`.
    #[schema(value_type = Object)]
    pub payment_details: Option<Value>,
}

/// A placed order, as the shopper gets it once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Placed {
    pub order: CustomerOrder,
    /// Reads the order without signing in (`GET /store/orders/{id}?token=`): put it in the
    /// confirmation; it is not shown again.
    pub lookup_token: String,
}

/// Who checked out, as the timeline names them.
fn actor_of(shopper: &Shopper) -> String {
    shopper
        .customer
        .as_ref()
        .map_or_else(|| "guest".to_owned(), |c| format!("customer:{c}"))
}

fn entry(kind: &str, actor: &str, message: String, data: Value, at: &str) -> TimelineEntry {
    TimelineEntry {
        kind: kind.to_owned(),
        actor: actor.to_owned(),
        message,
        data,
        at: at.to_owned(),
    }
}

/// What the checkout reads beside the cart, in one batched read.
struct Beside {
    payment: Option<Payment>,
    next_number: i64,
    levels: HashMap<(LocationId, VariantId), LocationStock>,
}

async fn read_beside(
    app: &App,
    tenant: &TenantId,
    cart: &StoredCart,
    held: &Holding,
) -> Result<Beside, OrderError> {
    let payment_id = cart.payment.as_ref().map(|p| p.payment_id.as_str());
    let mut pairs: Vec<(LocationId, VariantId)> = held
        .lines
        .iter()
        .map(|l| (l.location_id.clone(), l.variant_id.clone()))
        .collect();
    pairs.sort();
    pairs.dedup();
    let mut keys = vec![numbers::key(tenant)];
    keys.extend(payment_id.map(|id| crate::payments::store::payment_key(tenant, id)));
    keys.extend(crate::inventory::store::level_keys(tenant, &pairs));
    let mut beside = Beside {
        payment: None,
        next_number: 1,
        levels: HashMap::new(),
    };
    let mut firsts = Vec::new();
    for chunk in keys.chunks(crate::store::MAX_BATCH_GET_KEYS) {
        for item in app.table.batch_get(chunk).await? {
            if let Some(level) = crate::inventory::store::level_in(&item) {
                firsts.push(level?);
            } else if let Some(next) = numbers::next_in(&item) {
                beside.next_number = next;
            } else if item.get(crate::store::attr::ENTITY).and_then(Value::as_str)
                == Some(crate::payments::store::PAYMENT)
            {
                beside.payment = Some(crate::store::from_item(item)?);
            }
        }
    }
    // Split levels read their other shards (none for most).
    let stocks = crate::inventory::store::complete(app.table.as_ref(), tenant, firsts).await?;
    beside.levels = reservations::by_level(stocks);
    Ok(beside)
}

/// Whether the reservation holds exactly the cart's tracked lines.
fn holds_the_lines(cart: &StoredCart, held: &Holding) -> bool {
    let mut wanted: HashMap<&str, i64> = HashMap::new();
    for item in cart.items.iter().filter(|i| i.track_inventory) {
        *wanted.entry(item.variant_id.as_str()).or_insert(0) += item.quantity;
    }
    let mut have: HashMap<&str, i64> = HashMap::new();
    for line in &held.lines {
        *have.entry(line.variant_id.as_str()).or_insert(0) += line.quantity;
    }
    wanted == have && (held.version.is_some() || wanted.is_empty())
}

/// What checkout requires of a cart before anything else, every missing thing at once: items,
/// an email, a shipping address and method, and what the checkout settings'
/// `required_customer_fields` add (a phone, a company, a billing address). A missing payment
/// session is named with them; alone, it answers its own `payment_session_required`.
fn check_ready(cart: &StoredCart, priced: &Priced, required: &[String]) -> Result<(), OrderError> {
    let mut errors = Vec::new();
    let missing = |field: &str, message: &str| {
        crate::http::FieldError::new(field, "required", message.to_owned())
    };
    if cart.items.is_empty() {
        errors.push(crate::http::FieldError::new(
            "items",
            "empty",
            "a cart without items cannot be checked out",
        ));
    }
    if cart.email.is_none() {
        errors.push(missing("email", "the order confirmation needs an email"));
    }
    if cart.shipping_address.is_none() {
        errors.push(missing("shipping_address", "set the shipping address"));
    }
    if priced.method_lost {
        errors.push(crate::http::FieldError::new(
            "shipping_method",
            "no_longer_applies",
            "the shipping method chosen no longer applies to this cart; choose another",
        ));
    } else if cart.shipping_method.is_none() {
        errors.push(missing(
            "shipping_method",
            "choose a shipping method (GET /store/carts/{id}/shipping-options)",
        ));
    }
    let address = cart.shipping_address.as_ref();
    for field in required {
        let (present, name, message) = match field.as_str() {
            "phone" => (
                address.is_some_and(|a| a.phone.is_some())
                    || cart
                        .billing_address
                        .as_ref()
                        .is_some_and(|a| a.phone.is_some()),
                "shipping_address.phone",
                "this shop asks for a phone number",
            ),
            "company" => (
                address.is_some_and(|a| a.company.is_some())
                    || cart
                        .billing_address
                        .as_ref()
                        .is_some_and(|a| a.company.is_some()),
                "shipping_address.company",
                "this shop asks for a company name",
            ),
            "billing_address" => (
                cart.billing_address.is_some(),
                "billing_address",
                "this shop asks for a billing address",
            ),
            // `email` and `shipping_address` are always required (above).
            _ => (true, "", ""),
        };
        if !present {
            errors.push(missing(name, message));
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    if cart.payment.is_none() {
        errors.push(missing(
            "payment_session",
            "open a payment session (POST /store/carts/{id}/payment-sessions)",
        ));
    }
    Err(OrderError::Invalid(errors))
}

/// The discount buyer checkout counts per-customer limits against.
/// The identities the cart's buyer is counted under for per-customer limits (the signed-in
/// customer's account email besides the cart's).
fn buyers_of(
    cart: &StoredCart,
    account_email: Option<&str>,
) -> Vec<crate::discounts::store::Buyer> {
    crate::discounts::store::Buyer::all_of(
        cart.customer_id.as_ref().map(|c| c.to_string()),
        [cart.email.as_deref(), account_email],
    )
}

/// The order a priced cart becomes.
#[allow(clippy::too_many_arguments)]
fn order_of(
    id: String,
    number: i64,
    prefix: &str,
    cart: &StoredCart,
    view: &crate::carts::model::Cart,
    payment: &Payment,
    held: &Holding,
    actor: &str,
    now: &str,
) -> Order {
    let mut allocations: Vec<Allocation> = Vec::new();
    for line in &held.lines {
        match allocations.iter_mut().find(|a| {
            a.variant_id == line.variant_id.as_str() && a.location_id == line.location_id.as_str()
        }) {
            Some(a) => a.quantity += line.quantity,
            None => allocations.push(Allocation {
                variant_id: line.variant_id.to_string(),
                location_id: line.location_id.to_string(),
                quantity: line.quantity,
            }),
        }
    }
    let lines = view
        .items
        .iter()
        .map(|l: &CartLine| OrderLine {
            id: l.item.id.clone(),
            variant_id: l.item.variant_id.to_string(),
            product_id: l.item.product_id.to_string(),
            title: l.item.title.clone(),
            variant_title: l.item.variant_title.clone(),
            sku: l.item.sku.clone(),
            unit_price: l.item.unit_price,
            quantity: l.item.quantity,
            subtotal: l.subtotal,
            discount: l.discount,
            tax: l.tax,
            total: l.total,
            tax_lines: l.tax_lines.clone(),
            discounts: l.discounts.clone(),
            track_inventory: l.item.track_inventory,
            fulfilled_quantity: 0,
            returning_quantity: 0,
            returned_quantity: 0,
            refunded_quantity: 0,
            refunded_amount: 0,
        })
        .collect();
    let name = numbers::shown(prefix, number);
    Order {
        id: id.clone(),
        number,
        name: name.clone(),
        status: OrderStatus::Open,
        payment_status: payment.status,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        cart_id: cart.id.to_string(),
        customer_id: cart.customer_id.as_ref().map(|c| c.to_string()),
        email: cart.email.clone().unwrap_or_default(),
        currency: cart.currency.clone(),
        locale: cart.locale.clone(),
        note: cart.note.clone(),
        shipping_address: cart.shipping_address.clone().expect("checked"),
        billing_address: cart.billing_address.clone(),
        vat_number: cart.vat_number.clone(),
        lines,
        allocations,
        shipping_method: view.shipping_method.clone(),
        subtotal: view.subtotal,
        discount_total: view.discount_total,
        shipping_total: view.shipping_total,
        shipping_tax: view.shipping_tax,
        tax_total: view.tax_total,
        grand_total: view.grand_total,
        item_count: view.item_count,
        prices_include_tax: view.prices_include_tax,
        tax_lines: view.tax_lines.clone(),
        tax_exemption: view.tax_exemption,
        discounts: view.discounts.clone(),
        payment_id: payment.id.clone(),
        payment_provider: payment.provider.clone(),
        captured_total: payment.captured(),
        refunded_total: payment.refunded(),
        shipping_refunded: 0,
        fulfillments: Vec::new(),
        returns: Vec::new(),
        refunds: Vec::new(),
        timeline: vec![entry(
            "order.placed",
            actor,
            format!("Order {name} placed"),
            json!({"cart_id": cart.id, "grand_total": view.grand_total}),
            now,
        )],
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
        canceled_at: None,
        version: 1,
    }
}

fn new_transaction(
    app: &App,
    kind: TransactionKind,
    amount: i64,
    reference: String,
) -> Transaction {
    Transaction {
        id: app.ids.new_id("ptx"),
        kind,
        amount,
        provider_reference: Some(reference),
        at: rfc3339(app.clock.now()),
    }
}

/// An authorization this checkout obtained, kept across its attempts so that a retry does not
/// ask the provider again.
struct Authorized {
    payment_id: String,
    amount: i64,
    entry: Transaction,
}

/// Asks the provider to authorize `payment` for `amount` (or reuses this checkout's own
/// authorization); answers the payment with the authorization recorded, or why not.
async fn authorize(
    app: &App,
    provider: &dyn PaymentProvider,
    stored: &Payment,
    amount: i64,
    details: &Value,
    mine: &mut Option<Authorized>,
) -> Result<Payment, OrderError> {
    let mut payment = stored.clone();
    payment.version = stored.version + 1;
    payment.updated_at = rfc3339(app.clock.now());
    match stored.status {
        PaymentStatus::Pending => {}
        // Authorized out of band (a provider's event) for exactly this amount: nothing to ask.
        PaymentStatus::Authorized if stored.authorized() == amount => return Ok(payment),
        PaymentStatus::Authorized => {
            return Err(OrderError::PaymentSessionRequired(format!(
                "the payment was authorized for {} but the cart now costs {amount}; open a new \
                 payment session",
                stored.authorized()
            )))
        }
        other => {
            return Err(OrderError::PaymentSessionRequired(format!(
                "the cart's payment is {}; open a new payment session",
                ledger::status_name(other)
            )))
        }
    }
    // The session follows the cart's total: the payment is for what the cart costs now.
    payment.amount = amount;
    let entry = match mine {
        Some(a) if a.payment_id == stored.id && a.amount == amount => a.entry.clone(),
        _ => {
            let reference = stored.provider_reference.clone().unwrap_or_default();
            let answer = provider.authorize(&reference, amount, details).await?;
            match answer.outcome {
                Outcome::Authorized => {}
                // Not decided yet (a transfer on its way): the order waits for it, pending.
                Outcome::Pending => return Ok(payment),
                Outcome::Declined => {
                    return Err(OrderError::PaymentDeclined(
                        answer
                            .reason
                            .unwrap_or_else(|| "the payment was declined".into()),
                    ))
                }
                Outcome::RequiresAction => {
                    return Err(OrderError::PaymentRequiresAction(
                        answer.reason.unwrap_or_else(|| {
                            "the shopper must confirm the payment with the provider".into()
                        }),
                    ))
                }
            }
            let entry = new_transaction(
                app,
                TransactionKind::Authorization,
                amount,
                answer.reference,
            );
            *mine = Some(Authorized {
                payment_id: stored.id.clone(),
                amount,
                entry: entry.clone(),
            });
            entry
        }
    };
    // A provider may name the authorized payment anew (a charge rather than the session):
    // captures, voids and refunds then use that name.
    if entry.provider_reference.is_some() {
        payment.provider_reference = entry.provider_reference.clone();
    }
    ledger::record(&mut payment, entry).map_err(crate::payments::errors::PaymentError::from)?;
    Ok(payment)
}

/// Gives back an authorization this checkout obtained but could not use: voided with the
/// provider, and recorded on the payment (authorized, then voided), so that the cart asks for a
/// new session.
async fn void_unused(
    app: &App,
    tenant: &TenantId,
    provider: &dyn PaymentProvider,
    mine: Option<Authorized>,
) {
    let Some(mine) = mine else { return };
    let reference = mine.entry.provider_reference.clone().unwrap_or_default();
    let voided = match provider.void(&reference).await {
        Ok(reference) => reference,
        Err(error) => {
            tracing::error!(%error, payment = %mine.payment_id, "could not void an unused authorization");
            return;
        }
    };
    for _ in 0..crate::store::ATTEMPTS {
        let Ok(Some(stored)) =
            crate::payments::store::payment(app.table.as_ref(), tenant, &mine.payment_id).await
        else {
            return;
        };
        if stored.status != PaymentStatus::Pending {
            return;
        }
        let mut payment = stored.clone();
        payment.amount = mine.amount;
        payment.version = stored.version + 1;
        payment.updated_at = rfc3339(app.clock.now());
        let void = new_transaction(app, TransactionKind::Void, 0, voided.clone());
        if ledger::record(&mut payment, mine.entry.clone()).is_err()
            || ledger::record(&mut payment, void).is_err()
        {
            return;
        }
        match app
            .table
            .transact(vec![crate::payments::store::payment_put(
                tenant,
                &payment,
                Some(stored.version),
            )])
            .await
        {
            Ok(()) => return,
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::Conflict) => continue,
            Err(error) => {
                tracing::error!(%error, payment = %payment.id, "could not record a void");
                return;
            }
        }
    }
}

fn cart_error(e: CartError) -> OrderError {
    e.into()
}

/// Holds the cart's lines again (its reservation was swept away after expiring), or answers
/// that the stock is gone. A cart completed meanwhile is read again (and answers
/// `cart_completed` then).
async fn renew(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    cart_id: &str,
) -> Result<(), OrderError> {
    match crate::carts::service::renew_reservation(app, tenant, shopper, cart_id).await {
        Ok(_) | Err(CartError::Closed(_)) | Err(CartError::Busy) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Places the order of a cart (see the module for the sequence).
pub async fn complete(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    cart_id: &str,
    input: Completion,
) -> Result<Placed, OrderError> {
    let checkout = crate::settings::service::typed::<Checkout>(app, tenant).await?;
    if shopper.customer.is_none() && !checkout.guest_checkout {
        return Err(OrderError::SignInRequired);
    }
    let details = input.payment_details.unwrap_or(Value::Null);
    if !(details.is_null() || details.is_object()) || details.to_string().len() > 4096 {
        return Err(OrderError::field(
            "payment_details",
            "invalid",
            "an object of at most 4 KiB",
        ));
    }
    let actor = actor_of(shopper);
    let mut mine: Option<Authorized> = None;
    let mut provider_used: Option<Box<dyn PaymentProvider>> = None;
    let outcome = place(
        app,
        tenant,
        shopper,
        cart_id,
        &details,
        &actor,
        &mut mine,
        &mut provider_used,
    )
    .await;
    match outcome {
        Ok(placed) => Ok(placed),
        Err(error) => {
            if let Some(provider) = provider_used {
                void_unused(app, tenant, provider.as_ref(), mine).await;
            }
            Err(error)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn place(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    cart_id: &str,
    details: &Value,
    actor: &str,
    mine: &mut Option<Authorized>,
    provider_used: &mut Option<Box<dyn PaymentProvider>>,
) -> Result<Placed, OrderError> {
    let general = crate::settings::service::typed::<General>(app, tenant).await?;
    let payments = crate::settings::service::typed::<Payments>(app, tenant).await?;
    let checkout = crate::settings::service::typed::<Checkout>(app, tenant).await?;
    let block_size = checkout.order_number_block_size;
    // With number blocks, the number taken from this process's block (kept across attempts).
    let mut from_block: Option<i64> = None;
    // Racers for the same number or the same cart take turns: one wins each round, so the budget
    // grows with how many may race (as `numbers::take`'s does).
    for attempt in 0..crate::store::ATTEMPTS * 16 {
        if attempt > 0 {
            crate::store::back_off(attempt.min(crate::store::ATTEMPTS)).await;
        }
        let (read, buyer): (_, Buyer) =
            crate::carts::service::read_for_pricing(app, tenant, shopper, cart_id)
                .await
                .map_err(cart_error)?;
        let mut cart = read.cart.clone();
        // A signed-in shopper checking out a guest cart buys as themselves: the order is the
        // customer's (their order list, their per-customer discount limits), as the cart
        // would have been had the storefront given it to them at sign-in.
        if cart.customer_id.is_none() {
            cart.customer_id = shopper.customer.clone();
        }
        match cart.status {
            CartStatus::Completed => {
                return Err(OrderError::CartCompleted(
                    cart.order_id.clone().unwrap_or_default(),
                ))
            }
            CartStatus::Merged => return Err(CartError::Closed("merged").into()),
            CartStatus::Expired => return Err(CartError::Expired.into()),
            CartStatus::Open if cart.expires_epoch <= app.clock.epoch_seconds() => {
                return Err(CartError::Expired.into())
            }
            CartStatus::Open => {}
        }
        // A line whose product was unpublished or deleted, or whose price was removed, since
        // it was added is not sold at the price the cart remembers.
        if !read.unavailable.is_empty() {
            let lines: Vec<String> = read
                .unavailable
                .iter()
                .map(|(line, why)| format!("line {line}: {why}"))
                .collect();
            return Err(CartError::VariantUnavailable(format!(
                "remove what can no longer be bought: {}",
                lines.join("; ")
            ))
            .into());
        }
        let priced = pricing::price(app, tenant, &cart, &buyer)
            .await
            .map_err(cart_error)?;
        check_ready(&cart, &priced, &checkout.required_customer_fields)?;
        let Some(chosen) = cart.payment.clone() else {
            return Err(OrderError::PaymentSessionRequired(
                "open a payment session for the cart first (POST \
                 /store/carts/{id}/payment-sessions)"
                    .into(),
            ));
        };
        let held = Holding::from_copy(cart.id.as_str(), cart.reservation.as_ref());
        if held.lines.len() > MAX_CHECKOUT_LINES {
            return Err(OrderError::TooLarge {
                lines: held.lines.len(),
                max: MAX_CHECKOUT_LINES,
            });
        }
        if !holds_the_lines(&cart, &held) {
            renew(app, tenant, shopper, cart_id).await?;
            continue;
        }
        let beside = read_beside(app, tenant, &cart, &held).await?;
        let stored_payment = beside
            .payment
            .ok_or_else(|| OrderError::PaymentSessionRequired("open a payment session".into()))?;
        let provider = match provider_used.take() {
            Some(p) if p.name() == chosen.provider => p,
            _ => crate::payments::service::enabled(app, tenant, &chosen.provider).await?,
        };
        let authorized = authorize(
            app,
            provider.as_ref(),
            &stored_payment,
            priced.totals.grand_total,
            details,
            mine,
        )
        .await;
        *provider_used = Some(provider);
        let payment = match authorized {
            Ok(payment) => payment,
            // The payment moved on since the cart was read: most likely another checkout of
            // the cart placed its order meanwhile.
            Err(OrderError::PaymentSessionRequired(why)) => {
                let now = crate::carts::store::cart(app.table.as_ref(), tenant, &cart.id).await?;
                return Err(match now {
                    Some(c) if c.status == CartStatus::Completed => {
                        OrderError::CartCompleted(c.order_id.unwrap_or_default())
                    }
                    _ => OrderError::PaymentSessionRequired(why),
                });
            }
            Err(e) => return Err(e),
        };

        let number = match (block_size, from_block) {
            (0, _) => beside.next_number,
            (_, Some(n)) => n,
            (size, None) => *from_block.insert(numbers::from_block(app, tenant, size).await?),
        };
        let now = rfc3339(app.clock.now());
        let view = crate::carts::model::Cart::of(&cart, &priced, &[], Vec::new());
        let order_id = app.ids.new_id("ord");
        // 256 random bits: whoever has it reads the order, so it must not be guessable.
        let lookup_token = format!("olt_{}", hex::encode(rand::random::<[u8; 32]>()));
        let mut order = StoredOrder {
            order: order_of(
                order_id.clone(),
                number,
                &general.order_number_prefix,
                &cart,
                &view,
                &payment,
                &held,
                actor,
                &now,
            ),
            counted_uses: Vec::new(),
            lookup_token_hash: hex::encode(Sha256::digest(lookup_token.as_bytes())),
        };
        let buyers = buyers_of(&cart, read.account_email.as_deref());
        let redemptions: Vec<Redemption> = priced
            .discounts
            .iter()
            .map(|d| Redemption {
                discount: &d.discount,
                code: d.code.as_deref(),
                buyers: &buyers,
            })
            .collect();
        order.counted_uses = redemptions
            .iter()
            .map(|r| CountedUse {
                discount_id: r.discount.id.clone(),
                code: r.code.map(str::to_owned),
                total: r.discount.limits.total.is_some(),
                buyers: if r.discount.limits.per_customer.is_some() {
                    r.buyers.iter().map(|b| b.label()).collect()
                } else {
                    Vec::new()
                },
                legacy_buyer: None,
                tallied: r.discount.limits.total.is_none(),
            })
            .collect();

        let mut closed = cart.clone();
        closed.status = CartStatus::Completed;
        closed.order_id = Some(order_id.clone());
        closed.reservation = None;
        closed.version = cart.version + 1;
        closed.updated_at = now.clone();

        let mut ops: Vec<TxOp> = vec![crate::carts::store::cart_put(
            tenant,
            &closed,
            Some(cart.version),
        )];
        if block_size == 0 {
            ops.push(numbers::claim_op(tenant, number));
        }
        // The number's own item: taken once, whichever way numbers are given.
        let number_taken = ops.len();
        ops.extend(store::order_index_puts(tenant, &order));
        ops.push(store::order_put(tenant, &order, None));
        ops.push(crate::payments::store::payment_put(
            tenant,
            &payment,
            Some(stored_payment.version),
        ));
        ops.push(crate::events::event(
            app,
            tenant,
            super::events::OrderEvent::OrderPlaced,
            Some(actor),
            json!({
                "order_id": order_id,
                "number": order.order.number,
                "name": order.order.name,
                "cart_id": cart.id,
                "customer_id": order.order.customer_id,
                "email": order.order.email,
                "currency": order.order.currency,
                "grand_total": order.order.grand_total,
                "payment_status": order.order.payment_status,
            }),
        ));
        let discounts_from = ops.len();
        for r in &redemptions {
            ops.extend(usage::redeem_ops(tenant, r));
        }
        let stock_from = ops.len();
        if let Some(version) = held.version {
            let Some(sale) = reservations::sale_ops(
                app,
                tenant,
                cart.id.as_str(),
                &held.lines,
                version,
                &beside.levels,
            ) else {
                // A level the reservation names is gone: hold the lines again.
                renew(app, tenant, shopper, cart_id).await?;
                continue;
            };
            ops.extend(sale);
        }
        let stock_to = ops.len();
        match app.table.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::TransactionCancelled { failed }) => {
                if failed.contains(&number_taken) {
                    // Given already (another process's block, or the counter set back by
                    // hand): take another.
                    from_block = None;
                }
                if failed.iter().any(|i| (stock_from..stock_to).contains(i)) {
                    // The reservation changed (swept after expiring): hold the lines again, or
                    // answer that the stock is gone.
                    renew(app, tenant, shopper, cart_id).await?;
                } else if failed
                    .iter()
                    .any(|i| (discounts_from..stock_from).contains(i))
                {
                    return Err(discount_refusal(app, tenant, &redemptions).await);
                }
                // The cart, the number or the payment moved: read again.
                continue;
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
        // Placed: the authorization is the order's now.
        *mine = None;
        for r in &redemptions {
            if let Err(error) = usage::tally(app, tenant, r.discount, 1).await {
                tracing::warn!(%error, discount = %r.discount.id, "could not tally a discount use");
            }
        }
        // Manual payments (a transfer, cash on delivery) are captured by staff marking them
        // paid when the money arrives.
        if payments.capture_mode == "automatic"
            && payment.status == PaymentStatus::Authorized
            && payment.provider != "manual"
        {
            order = super::service::capture_after_checkout(app, tenant, order, payment).await;
        }
        return Ok(Placed {
            order: CustomerOrder::of(&order.order),
            lookup_token,
        });
    }
    Err(OrderError::Busy)
}

/// Why a discount's uses could not be counted: its code was deleted, or a limit was reached.
async fn discount_refusal(
    app: &App,
    tenant: &TenantId,
    redemptions: &[Redemption<'_>],
) -> OrderError {
    for r in redemptions {
        if let Some(code) = r.code {
            if let Ok(None) = crate::discounts::store::code(app.table.as_ref(), tenant, code).await
            {
                return DiscountError::refused(Refusal::NotFound).into();
            }
        }
    }
    DiscountError::refused(Refusal::UsageExhausted).into()
}
