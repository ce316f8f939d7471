//! Orders as stored and as staff and shoppers see them. An order is one item: its lines, totals
//! (frozen at checkout), fulfilments, returns, refunds and timeline, so reading one is one
//! `GetItem` and every change is one `Put` at the version read.

use super::transitions::{FulfillmentStatus, OrderStatus, Standing};
use crate::carts::model::{CartAddress, CartDiscount, LineDiscount, TaxLine};
use crate::carts::pricing::{ChosenShipping, TaxRelief};
use crate::payments::model::PaymentStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Entries an order's timeline keeps (the oldest entries past it are dropped, the first one
/// kept); notes count among them.
pub const MAX_TIMELINE: usize = 300;

/// One line of an order: the cart line as it was bought, and what has happened to its units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    /// `item_…`, the cart line's id.
    pub id: String,
    pub variant_id: String,
    pub product_id: String,
    pub title: String,
    pub variant_title: String,
    pub sku: Option<String>,
    /// Minor units, as charged.
    pub unit_price: i64,
    pub quantity: i64,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
    pub tax_lines: Vec<TaxLine>,
    pub discounts: Vec<LineDiscount>,
    /// Whether the variant's stock is counted (its units were sold from stock at checkout).
    pub track_inventory: bool,
    /// Units shipped (fulfilments not canceled).
    #[serde(default)]
    pub fulfilled_quantity: i64,
    /// Units staff said are coming back (returns requested, received or not).
    #[serde(default)]
    pub returning_quantity: i64,
    /// Units received back.
    #[serde(default)]
    pub returned_quantity: i64,
    /// Units refunded (refunds by item).
    #[serde(default)]
    pub refunded_quantity: i64,
    /// Refunded of the line's total so far (refunds by item).
    #[serde(default)]
    pub refunded_amount: i64,
}

/// Units of an order line a fulfilment, return or refund names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineQuantity {
    /// The order line's id (`item_…`).
    pub line_id: String,
    pub quantity: i64,
}

/// Where a shipment can be followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tracking {
    /// The carrier's name (`DHL`, `UPS`), at most 100 characters.
    pub carrier: Option<String>,
    /// The tracking number, at most 100 characters.
    pub number: Option<String>,
    /// An `https` address where the shipment is followed.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Shipped.
    Fulfilled,
    /// Canceled after it was recorded (it did not leave, or was recorded by mistake).
    Canceled,
}

/// A shipment of some of an order's units from one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Fulfillment {
    /// `ful_<ULID>`
    pub id: String,
    pub status: ShipmentStatus,
    pub location_id: String,
    pub items: Vec<LineQuantity>,
    pub tracking: Option<Tracking>,
    /// Whether the customer was told (the notifications send `fulfillment.created`).
    pub notify: bool,
    pub created_at: String,
    pub canceled_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    /// Expected back.
    Requested,
    /// Received (and restocked, when a restock location was named).
    Received,
}

/// Units coming back from the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderReturn {
    /// `ret_<ULID>`
    pub id: String,
    pub status: ReturnStatus,
    pub items: Vec<LineQuantity>,
    pub reason: Option<String>,
    /// Where received units go back on hand (`null`: not restocked, damaged goods say).
    pub restock_location_id: Option<String>,
    pub created_at: String,
    pub received_at: Option<String>,
}

/// Money given back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Refund {
    /// `ref_<ULID>`
    pub id: String,
    /// Minor units.
    pub amount: i64,
    /// The lines refunded by item (empty for a refund of an amount).
    pub items: Vec<LineQuantity>,
    /// Of `amount`, what refunded shipping.
    pub shipping: i64,
    pub reason: Option<String>,
    pub created_at: String,
}

/// Units of a variant an order took from a location's stock at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Allocation {
    pub variant_id: String,
    pub location_id: String,
    pub quantity: i64,
}

/// Something that happened to an order: who did it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    /// `order.placed`, `payment.captured`, `note`, `fulfillment.created`, …
    pub kind: String,
    /// `customer:<id>`, `guest`, `staff:<id>`, `system`.
    pub actor: String,
    pub message: String,
    /// What the entry is about (amounts, ids), when it names something.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    #[schema(value_type = Object)]
    pub data: Value,
    /// RFC 3339.
    pub at: String,
}

/// A discount use checkout counted against a limit, so that canceling the order gives it back
/// as it was counted (whatever the discount's limits are by then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedUse {
    pub discount_id: String,
    /// The code entered (upper case), when the code's own uses were counted.
    pub code: Option<String>,
    /// The total counter was counted.
    pub total: bool,
    /// The buyer's counters that were counted (`customer:<id>`, `email:<address>`; see
    /// `discounts::store::Buyer::label`).
    #[serde(default)]
    pub buyers: Vec<String>,
    /// The one buyer counter orders placed before 2026-12-04 recorded (read, never written).
    #[serde(default, rename = "buyer", skip_serializing)]
    pub legacy_buyer: Option<String>,
    /// Counted after the order, without a limit (an unlimited discount's tally).
    pub tallied: bool,
}

/// An order as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    /// `ord_<ULID>`
    pub id: String,
    /// The company's order number: 1, 2, 3, … without gaps.
    pub number: i64,
    /// The number as shown: the general settings' prefix, then the number (`#1001`).
    pub name: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub cart_id: String,
    pub customer_id: Option<String>,
    pub email: String,
    pub currency: String,
    pub locale: Option<String>,
    pub note: Option<String>,
    pub shipping_address: CartAddress,
    pub billing_address: Option<CartAddress>,
    pub vat_number: Option<String>,
    pub lines: Vec<OrderLine>,
    /// Where the tracked lines' units were taken from at checkout (a line may be split across
    /// locations); fulfilments ship from these or move the units to the location they ship
    /// from.
    pub allocations: Vec<Allocation>,
    pub shipping_method: Option<ChosenShipping>,
    pub subtotal: i64,
    pub discount_total: i64,
    pub shipping_total: i64,
    pub shipping_tax: i64,
    pub tax_total: i64,
    pub grand_total: i64,
    pub item_count: i64,
    pub prices_include_tax: bool,
    pub tax_lines: Vec<TaxLine>,
    pub tax_exemption: Option<TaxRelief>,
    pub discounts: Vec<CartDiscount>,
    /// `pay_…`
    pub payment_id: String,
    pub payment_provider: String,
    /// Captured so far, in minor units.
    pub captured_total: i64,
    /// Refunded so far, in minor units.
    pub refunded_total: i64,
    /// Of the shipping, refunded so far (refunds by item that include shipping).
    #[serde(default)]
    pub shipping_refunded: i64,
    #[serde(default)]
    pub fulfillments: Vec<Fulfillment>,
    #[serde(default)]
    pub returns: Vec<OrderReturn>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
    pub timeline: Vec<TimelineEntry>,
    pub created_at: String,
    pub updated_at: String,
    pub canceled_at: Option<String>,
    pub version: u64,
}

impl Order {
    pub fn standing(&self) -> Standing {
        Standing {
            order: self.status,
            payment: self.payment_status,
            fulfillment: self.fulfillment_status,
        }
    }

    /// The line with this id.
    pub fn line_mut(&mut self, id: &str) -> Option<&mut OrderLine> {
        self.lines.iter_mut().find(|l| l.id == id)
    }

    /// The fulfilment status the lines' units amount to.
    pub fn units_status(&self) -> super::transitions::FulfillmentStatus {
        let (ordered, fulfilled, returned) = self.lines.iter().fold((0, 0, 0), |(o, f, r), l| {
            (
                o + l.quantity,
                f + l.fulfilled_quantity,
                r + l.returned_quantity,
            )
        });
        super::transitions::fulfillment_of(ordered, fulfilled, returned)
    }

    /// Adds an entry to the timeline, keeping it within [`MAX_TIMELINE`].
    pub fn log(&mut self, entry: TimelineEntry) {
        if self.timeline.len() >= MAX_TIMELINE {
            // The first entry (the order placed) stays; the oldest after it goes.
            self.timeline.remove(1);
        }
        self.timeline.push(entry);
    }
}

/// An order as stored: what staff see, and what only the platform needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOrder {
    #[serde(flatten)]
    pub order: Order,
    /// The discount uses checkout counted (given back on cancel).
    #[serde(default)]
    pub counted_uses: Vec<CountedUse>,
    /// SHA-256 (hex) of the token a guest reads the order with.
    pub lookup_token_hash: String,
}

/// An order as its shopper sees it (the storefront): no staff notes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerOrder {
    pub id: String,
    pub number: i64,
    pub name: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub email: String,
    pub currency: String,
    pub shipping_address: CartAddress,
    pub billing_address: Option<CartAddress>,
    pub lines: Vec<OrderLine>,
    pub shipping_method: Option<ChosenShipping>,
    pub subtotal: i64,
    pub discount_total: i64,
    pub shipping_total: i64,
    pub shipping_tax: i64,
    pub tax_total: i64,
    pub grand_total: i64,
    pub item_count: i64,
    pub prices_include_tax: bool,
    pub tax_lines: Vec<TaxLine>,
    pub tax_exemption: Option<TaxRelief>,
    pub discounts: Vec<CartDiscount>,
    pub refunded_total: i64,
    pub fulfillments: Vec<Fulfillment>,
    pub returns: Vec<OrderReturn>,
    pub refunds: Vec<Refund>,
    pub created_at: String,
    pub canceled_at: Option<String>,
}

impl CustomerOrder {
    pub fn of(order: &Order) -> CustomerOrder {
        let o = order.clone();
        CustomerOrder {
            id: o.id,
            number: o.number,
            name: o.name,
            status: o.status,
            payment_status: o.payment_status,
            fulfillment_status: o.fulfillment_status,
            email: o.email,
            currency: o.currency,
            shipping_address: o.shipping_address,
            billing_address: o.billing_address,
            lines: o.lines,
            shipping_method: o.shipping_method,
            subtotal: o.subtotal,
            discount_total: o.discount_total,
            shipping_total: o.shipping_total,
            shipping_tax: o.shipping_tax,
            tax_total: o.tax_total,
            grand_total: o.grand_total,
            item_count: o.item_count,
            prices_include_tax: o.prices_include_tax,
            tax_lines: o.tax_lines,
            tax_exemption: o.tax_exemption,
            discounts: o.discounts,
            refunded_total: o.refunded_total,
            fulfillments: o.fulfillments,
            returns: o.returns,
            refunds: o.refunds,
            created_at: o.created_at,
            canceled_at: o.canceled_at,
        }
    }
}
