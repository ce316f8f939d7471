//! Carts as stored and as shoppers see them.

use super::pricing::{ChosenShipping, Priced, TaxRelief};
use crate::discounts::errors::{refusal_code, refusal_message};
use crate::discounts::model::DiscountClass;
use crate::ids::{CartId, CustomerId, ProductId, VariantId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Different lines (variants) one cart holds.
pub const MAX_LINES: usize = 100;
/// Units of one line.
pub const MAX_QUANTITY: i64 = 9_999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    /// Takes changes.
    Open,
    /// Checked out: an order was made from it.
    Completed,
    /// Merged into the customer's other cart on sign-in.
    Merged,
    /// Left without a change for the company's cart lifetime; its reservations were released.
    Expired,
}

impl CartStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CartStatus::Open => "open",
            CartStatus::Completed => "completed",
            CartStatus::Merged => "merged",
            CartStatus::Expired => "expired",
        }
    }
}

/// One line of a cart: a variant, its price when last priced, and how many.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CartItem {
    /// `item_<ULID>`
    pub id: String,
    #[schema(value_type = String)]
    pub variant_id: VariantId,
    #[schema(value_type = String)]
    pub product_id: ProductId,
    /// The product's title.
    pub title: String,
    /// The variant's option values (`M / Blue`), empty for a product without options.
    pub variant_title: String,
    pub sku: Option<String>,
    /// Minor units of the cart's currency, as last priced.
    pub unit_price: i64,
    pub quantity: i64,
    /// Whether the variant's stock is counted (and so reserved).
    pub track_inventory: bool,
    /// The variant's weight, in the shipping settings' unit (weight-based shipping).
    #[serde(default)]
    pub weight: Option<f64>,
    /// The variant's tax class (absent: the tax settings' default).
    #[serde(default)]
    pub tax_class: Option<String>,
    /// The product's categories (`cat_…`), for discounts that target them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category_ids: Vec<String>,
    /// The product's collections (`col_…`), for discounts that target them; read only while
    /// the company has such discounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collection_ids: Vec<String>,
}

/// A postal address on a cart (the address book's shape, without its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartAddress {
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    /// State, province or region.
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub phone: Option<String>,
}

impl CartAddress {
    /// As an address book entry (for the book's checks).
    pub fn to_book(&self) -> crate::customers::model::Address {
        crate::customers::model::Address {
            id: String::new(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            company: self.company.clone(),
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            city: self.city.clone(),
            region: self.region.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
            phone: self.phone.clone(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 0,
        }
    }

    pub fn from_book(a: crate::customers::model::Address) -> Self {
        CartAddress {
            first_name: a.first_name,
            last_name: a.last_name,
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
        }
    }
}

/// A cart as stored: the header and its lines in one item, so a cart is read with one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCart {
    pub id: CartId,
    pub status: CartStatus,
    pub customer_id: Option<CustomerId>,
    pub currency: String,
    pub email: Option<String>,
    pub country: Option<String>,
    pub note: Option<String>,
    pub locale: Option<String>,
    #[serde(default)]
    pub shipping_address: Option<CartAddress>,
    #[serde(default)]
    pub billing_address: Option<CartAddress>,
    pub items: Vec<CartItem>,
    pub created_at: String,
    pub updated_at: String,
    /// When it expires if nothing changes it.
    pub expires_at: String,
    pub expires_epoch: i64,
    pub version: u64,
    /// When the expiry worker reported it abandoned (`cart.abandoned`), once per quiet spell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned_at: Option<String>,
    /// The cart's stock reservation as it left it (see `inventory::model::HoldingCopy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<crate::inventory::model::HoldingCopy>,
    /// The buyer's EU VAT number (a business: reverse charge across EU borders).
    #[serde(default)]
    pub vat_number: Option<String>,
    /// The shipping method chosen (a method of the destination's zone).
    #[serde(default)]
    pub shipping_method: Option<ChosenMethod>,
    /// Discount codes entered, in the order entered (at most [`MAX_CODES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discount_codes: Vec<EnteredCode>,
    /// The payment session opened for it (the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<CartPayment>,
    /// The order checkout made of it (`completed` carts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

/// The payment a cart's session opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartPayment {
    pub payment_id: String,
    pub provider: String,
}

/// A cart's payment session as the cart shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CartPaymentSession {
    /// `pay_…`
    pub payment_id: String,
    pub provider: String,
    /// What will be asked of the provider: the cart's grand total now.
    pub amount: i64,
}

/// Discount codes one cart holds.
pub const MAX_CODES: usize = 5;

/// A discount code a cart holds: as matched (upper case), with its discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnteredCode {
    pub code: String,
    pub discount_id: String,
    /// Read with the cart's products: staff deleted the code since it was entered (never
    /// stored).
    #[serde(skip)]
    pub withdrawn: bool,
}

/// The shipping method a cart chose: its id, and its name when chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenMethod {
    pub id: String,
    pub name: String,
}

/// Something the storefront should tell the shopper about the cart's last change or read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Notice {
    /// `shipping_method_cleared`: the method chosen no longer applies to the cart (its address,
    /// its lines or the shop's zones changed); choose another. `line_unavailable`: a line's
    /// product was unpublished or deleted, or its price removed, since it was added; checkout
    /// refuses the cart (422 `variant_unavailable`) until the line is removed.
    pub code: &'static str,
    pub message: String,
}

/// A tax charged, as the cart shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaxLine {
    /// The rate (`txr_…`), or the tax engine's own name for it.
    pub rate_id: String,
    pub name: String,
    /// The rate as a percentage (19.0, 9.975).
    pub percentage: f64,
    pub amount: i64,
}

impl TaxLine {
    pub fn of(charge: &crate::tax::engine::Charge) -> TaxLine {
        TaxLine {
            rate_id: charge.rate_id.clone(),
            name: charge.name.clone(),
            percentage: charge.rate as f64 / 10_000.0,
            amount: charge.amount,
        }
    }

    /// The charges of every line and the shipping, added up rate by rate (in the order first
    /// charged).
    pub fn summed<'a>(
        charges: impl Iterator<Item = &'a crate::tax::engine::Charge>,
    ) -> Vec<TaxLine> {
        let mut lines: Vec<TaxLine> = Vec::new();
        for charge in charges {
            match lines.iter_mut().find(|l| l.rate_id == charge.rate_id) {
                Some(line) => line.amount += charge.amount,
                None => lines.push(TaxLine::of(charge)),
            }
        }
        lines
    }
}

/// A line as the shopper sees it: priced now, with its totals.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CartLine {
    #[serde(flatten)]
    pub item: CartItem,
    /// The price changed since the line was last priced: `unit_price` is the new price and
    /// `previous_unit_price` the old one, for the storefront to tell the shopper.
    pub price_changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_unit_price: Option<i64>,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
    /// The line's taxes, rate by rate.
    pub tax_lines: Vec<TaxLine>,
    /// Why the line carries no tax, when the cart is tax-free (reverse charge, exempt customer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_note: Option<String>,
    /// The catalog's unit price, when the line is charged another (`unit_price`): a tax-free
    /// cart in a company whose prices include tax pays them without the tax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_price: Option<i64>,
    /// The discounts on the line (they add up to `discount`).
    pub discounts: Vec<LineDiscount>,
}

/// A discount's part of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineDiscount {
    pub discount_id: String,
    pub title: String,
    pub amount: i64,
}

/// A discount the cart gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CartDiscount {
    /// `disc_…`
    pub discount_id: String,
    pub title: String,
    pub class: DiscountClass,
    /// The code that brought it; `null` for an automatic discount.
    pub code: Option<String>,
    /// Off the lines and the shipping together.
    pub amount: i64,
    /// Off the shipping.
    pub shipping_amount: i64,
}

/// A discount code the cart holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CartCode {
    pub code: String,
    /// Whether it applies now; a code that stopped applying after a change is kept, with the
    /// reason, and applies again when the cart meets it.
    pub active: bool,
    /// Why it does not apply now: `discount_minimum_not_met`, `discount_not_combinable`,
    /// `discount_expired`, …
    pub reason: Option<Notice>,
}

/// A cart as the storefront (and staff) see it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Cart {
    /// `cart_…`: 128 random bits; whoever has it and the company's key can use a guest cart.
    #[schema(value_type = String)]
    pub id: CartId,
    pub status: CartStatus,
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<CustomerId>,
    pub currency: String,
    pub email: Option<String>,
    pub country: Option<String>,
    pub note: Option<String>,
    pub locale: Option<String>,
    pub shipping_address: Option<CartAddress>,
    pub billing_address: Option<CartAddress>,
    pub vat_number: Option<String>,
    pub items: Vec<CartLine>,
    /// The shipping method chosen, priced for the cart (`null` until one is chosen).
    pub shipping_method: Option<ChosenShipping>,
    pub subtotal: i64,
    pub discount_total: i64,
    pub shipping_total: i64,
    /// Shipping's own tax (included in `shipping_total` when prices exclude tax).
    pub shipping_tax: i64,
    pub tax_total: i64,
    pub grand_total: i64,
    pub item_count: i64,
    /// The taxes of every line and the shipping, rate by rate.
    pub tax_lines: Vec<TaxLine>,
    /// The discounts applied (automatic and by code), in the order they applied.
    pub discounts: Vec<CartDiscount>,
    /// The codes entered, applying or not.
    pub discount_codes: Vec<CartCode>,
    /// The payment session opened for the cart (`null` until one is).
    pub payment_session: Option<CartPaymentSession>,
    /// The order checkout made of the cart (`null` until it is completed).
    pub order_id: Option<String>,
    /// Why the cart pays no tax, when it does not: `customer_exempt` or `reverse_charge`.
    pub tax_exemption: Option<TaxRelief>,
    /// Whether prices include tax (then `tax_total` is part of the lines' totals).
    pub prices_include_tax: bool,
    /// What the storefront should tell the shopper (a shipping method that no longer applies).
    pub notices: Vec<Notice>,
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: String,
    /// The cart's version: send it as `If-Match` to change the cart only as seen.
    pub version: u64,
}

impl Cart {
    /// The view of a stored cart as priced, with the lines whose price moved (`previous`: line
    /// id → the price stored before) and what to tell the shopper.
    pub fn of(
        cart: &StoredCart,
        priced: &Priced,
        previous: &[(String, i64)],
        mut notices: Vec<Notice>,
    ) -> Cart {
        let totals = &priced.totals;
        let note = priced.relief.map(|r| r.note().to_owned());
        let items = cart
            .items
            .iter()
            .zip(&totals.lines)
            .enumerate()
            .map(|(i, (item, line))| {
                let before = previous.iter().find(|(id, _)| *id == item.id).map(|p| p.1);
                let charged = priced
                    .unit_prices
                    .get(i)
                    .copied()
                    .unwrap_or(item.unit_price);
                let mut shown = item.clone();
                shown.unit_price = charged;
                CartLine {
                    item: shown,
                    price_changed: before.is_some(),
                    previous_unit_price: before,
                    subtotal: line.subtotal,
                    discount: line.discount,
                    tax: line.tax,
                    total: line.total,
                    tax_lines: priced
                        .line_taxes
                        .get(i)
                        .map(|c| c.iter().map(TaxLine::of).collect())
                        .unwrap_or_default(),
                    tax_note: note.clone(),
                    list_price: (charged != item.unit_price).then_some(item.unit_price),
                    discounts: priced
                        .discounts
                        .iter()
                        .filter(|d| d.lines.get(i).is_some_and(|a| *a > 0))
                        .map(|d| LineDiscount {
                            discount_id: d.discount.id.clone(),
                            title: d.discount.title.clone(),
                            amount: d.lines[i],
                        })
                        .collect(),
                }
            })
            .collect();
        if priced.method_lost {
            notices.push(Notice {
                code: "shipping_method_cleared",
                message: "The shipping method chosen no longer applies to this cart; choose \
                          another."
                    .into(),
            });
        }
        Cart {
            id: cart.id.clone(),
            status: cart.status,
            customer_id: cart.customer_id.clone(),
            currency: cart.currency.clone(),
            email: cart.email.clone(),
            country: cart.country.clone(),
            note: cart.note.clone(),
            locale: cart.locale.clone(),
            shipping_address: cart.shipping_address.clone(),
            billing_address: cart.billing_address.clone(),
            vat_number: cart.vat_number.clone(),
            items,
            shipping_method: priced.shipping.clone(),
            subtotal: totals.subtotal,
            discount_total: totals.discount_total,
            shipping_total: totals.shipping_total,
            shipping_tax: totals.shipping.tax,
            tax_total: totals.tax_total,
            grand_total: totals.grand_total,
            item_count: totals.item_count,
            tax_lines: TaxLine::summed(
                priced
                    .line_taxes
                    .iter()
                    .flatten()
                    .chain(&priced.shipping_taxes),
            ),
            discounts: priced
                .discounts
                .iter()
                .map(|d| CartDiscount {
                    discount_id: d.discount.id.clone(),
                    title: d.discount.title.clone(),
                    class: d.class(),
                    code: d.code.clone(),
                    amount: d.amount(),
                    shipping_amount: d.shipping,
                })
                .collect(),
            discount_codes: priced
                .codes
                .iter()
                .map(|c| CartCode {
                    code: c.code.clone(),
                    active: c.refusal.is_none(),
                    reason: c.refusal.map(|r| Notice {
                        code: refusal_code(r).code().name,
                        message: refusal_message(r).to_owned(),
                    }),
                })
                .collect(),
            payment_session: cart.payment.as_ref().map(|p| CartPaymentSession {
                payment_id: p.payment_id.clone(),
                provider: p.provider.clone(),
                amount: totals.grand_total,
            }),
            order_id: cart.order_id.clone(),
            tax_exemption: priced.relief,
            prices_include_tax: totals.prices_include_tax,
            notices,
            created_at: cart.created_at.clone(),
            updated_at: cart.updated_at.clone(),
            expires_at: cart.expires_at.clone(),
            version: cart.version,
        }
    }
}
