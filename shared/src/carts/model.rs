//! Carts as stored and as shoppers see them.

use crate::ids::{CartId, CustomerId, ProductId, VariantId};
use crate::pricing::Totals;
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
    pub items: Vec<CartLine>,
    pub subtotal: i64,
    pub discount_total: i64,
    pub shipping_total: i64,
    pub tax_total: i64,
    pub grand_total: i64,
    pub item_count: i64,
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: String,
    /// The cart's version: send it as `If-Match` to change the cart only as seen.
    pub version: u64,
}

impl Cart {
    /// The view of a stored cart priced as `totals` say, with the lines whose price moved
    /// (`previous`: line id → the price stored before).
    pub fn of(cart: &StoredCart, totals: &Totals, previous: &[(String, i64)]) -> Cart {
        let items = cart
            .items
            .iter()
            .zip(&totals.lines)
            .map(|(item, line)| {
                let before = previous.iter().find(|(id, _)| *id == item.id).map(|p| p.1);
                CartLine {
                    item: item.clone(),
                    price_changed: before.is_some(),
                    previous_unit_price: before,
                    subtotal: line.subtotal,
                    discount: line.discount,
                    tax: line.tax,
                    total: line.total,
                }
            })
            .collect();
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
            items,
            subtotal: totals.subtotal,
            discount_total: totals.discount_total,
            shipping_total: totals.shipping_total,
            tax_total: totals.tax_total,
            grand_total: totals.grand_total,
            item_count: totals.item_count,
            created_at: cart.created_at.clone(),
            updated_at: cart.updated_at.clone(),
            expires_at: cart.expires_at.clone(),
            version: cart.version,
        }
    }
}
