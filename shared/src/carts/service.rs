//! The cart rules: who may use a cart, what it may hold, how it is priced, and how its stock is
//! held.
//!
//! Every change reads the cart, applies itself, prices every line again from the catalog and
//! writes the cart (conditioned on the version read) in the same transaction as the cart's stock
//! reservation (inventory's `reserve_with`, with the cart's id as holder): the lines of tracked
//! variants are held exactly as the cart says, or, when stock is short, nothing changes at all.

use super::errors::CartError;
use super::model::{
    Cart, CartAddress, CartItem, CartStatus, ChosenMethod, Notice, StoredCart, MAX_LINES,
    MAX_QUANTITY,
};
use super::pricing::{self, Buyer};
use super::store;
use crate::app::App;
use crate::catalog::model::{Product, ProductStatus, Variant};
use crate::clock::rfc3339;
use crate::customers::model::{CustomerGroup, StoredCustomer};
use crate::identity::TenantId;
use crate::ids::{CartId, CustomerId, LocationId, ProductId, VariantId};
use crate::inventory::model::LocationStock;
use crate::inventory::reservations::{self, Line};
use crate::settings::groups::{Checkout, General};
use crate::validate::{self, Errors};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Who is using a cart: a guest (the company's key alone) or a signed-in customer.
#[derive(Debug, Clone, Default)]
pub struct Shopper {
    pub customer: Option<CustomerId>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCart {
    /// One of the company's currencies; its default when absent.
    pub currency: Option<String>,
    pub email: Option<String>,
    /// ISO 3166-1 alpha-2: where the cart ships, for shipping and tax.
    pub country: Option<String>,
    #[serde(default)]
    pub items: Vec<NewItem>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub variant_id: String,
    /// 1 to 9,999.
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemChange {
    /// 0 removes the line; at most 9,999.
    pub quantity: i64,
}

/// A change of the cart's own fields; `null` clears one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartChange {
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
    /// One of the company's locales.
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    /// Where the order ships: an address (the address book's shape), or `{"address_id": …}` of
    /// the signed-in customer's book. Sets the cart's country.
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<AddressInput>)]
    pub shipping_address: Option<Option<AddressInput>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<AddressInput>)]
    pub billing_address: Option<Option<AddressInput>>,
    /// The buyer's EU VAT number, with its country prefix (`DE123456789`): a business buying
    /// from another EU country pays no VAT (reverse charge).
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub vat_number: Option<Option<String>>,
}

/// An address given in full, or one of the signed-in customer's saved addresses.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AddressInput {
    Saved(SavedAddress),
    Given(Box<CartAddress>),
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedAddress {
    /// `addr_…` of the signed-in customer's address book.
    pub address_id: String,
}

/// The address a change names, checked (or read from the customer's book).
async fn resolve_address(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    field: &str,
    input: &AddressInput,
) -> Result<CartAddress, CartError> {
    match input {
        AddressInput::Given(address) => {
            crate::customers::account::checked_postal(field, address.to_book())
                .map(CartAddress::from_book)
                .map_err(CartError::Invalid)
        }
        AddressInput::Saved(saved) => {
            let unknown = || {
                CartError::field(
                    &format!("{field}.address_id"),
                    "unknown_address",
                    "not an address of the signed-in customer",
                )
            };
            let Some(customer) = &shopper.customer else {
                return Err(unknown());
            };
            match crate::customers::account::get_address(
                app,
                tenant,
                customer.as_str(),
                &saved.address_id,
            )
            .await
            {
                Ok(view) => Ok(CartAddress::from_book(view.address)),
                Err(crate::customers::errors::CustomerError::NotFound(_)) => Err(unknown()),
                Err(e) => Err(CartError::Customer(e)),
            }
        }
    }
}

const MAX_NOTE: usize = 1000;

/// The variants a change needs, as the catalog has them now.
pub(super) type Catalog = HashMap<VariantId, (Product, Variant)>;
/// Product → the collections it is in (read only while discounts target collections).
pub(super) type Collections = HashMap<ProductId, Vec<String>>;

/// The discount codes a cart holds (read with its products, to see they still exist).
fn held_codes(cart: Option<&StoredCart>) -> Vec<String> {
    cart.map_or_else(Vec::new, |c| {
        c.discount_codes.iter().map(|e| e.code.clone()).collect()
    })
}

/// Marks the codes staff deleted since the cart entered them (`present`: those that exist).
fn withdraw_deleted(cart: &mut StoredCart, present: &[String]) {
    for code in &mut cart.discount_codes {
        code.withdrawn = !present.contains(&code.code);
    }
}

/// Whether pricing needs the lines' collections: some discount of the company targets one.
async fn wants_collections(app: &App, tenant: &TenantId) -> Result<bool, CartError> {
    Ok(crate::discounts::service::cached(app, tenant)
        .await
        .map_err(|e| CartError::Discount(Box::new(e)))?
        .iter()
        .any(|d| d.targets_collections()))
}

/// The buyer a signed-in customer is, as pricing sees them (tax exemption, groups).
fn buyer_of(customer: Option<&StoredCustomer>, groups: &[CustomerGroup]) -> Buyer {
    Buyer {
        exempt: exempt_of(customer, groups),
        groups: customer.map_or_else(Vec::new, |c| c.customer.group_ids.clone()),
    }
}

/// Reads a cart the shopper may use: a guest cart with the company's key, a customer's cart
/// only with that customer's token. Anything else is not found.
pub(super) async fn visible(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
) -> Result<StoredCart, CartError> {
    let id = CartId::parse(id).ok_or(CartError::NotFound("cart"))?;
    let cart = store::cart(app.table.as_ref(), tenant, &id).await?;
    usable_by(cart, shopper)
}

/// A signed-in shopper's account must still be active: a disabled or erased customer's access
/// token stops working on carts and checkout at once (the customer is read with the cart in any
/// case, so this costs no call).
fn still_active(shopper: &Shopper, customer: Option<&StoredCustomer>) -> Result<(), CartError> {
    let active = customer
        .is_some_and(|c| c.customer.status == crate::customers::model::CustomerStatus::Active);
    if shopper.customer.is_some() && !active {
        return Err(CartError::Customer(
            crate::customers::errors::CustomerError::Unavailable,
        ));
    }
    Ok(())
}

/// Whether a cart takes changes: open and not expired (409 `cart_closed`, `cart_expired`).
pub(super) fn usable(cart: &StoredCart, now_epoch: i64) -> Result<(), CartError> {
    match cart.status {
        CartStatus::Open if cart.expires_epoch <= now_epoch => Err(CartError::Expired),
        CartStatus::Open => Ok(()),
        CartStatus::Expired => Err(CartError::Expired),
        CartStatus::Completed => Err(CartError::Closed("completed")),
        CartStatus::Merged => Err(CartError::Closed("merged")),
    }
}

/// The cart read, if the shopper may use it (otherwise it is not found).
fn usable_by(cart: Option<StoredCart>, shopper: &Shopper) -> Result<StoredCart, CartError> {
    let cart = cart.ok_or(CartError::NotFound("cart"))?;
    match &cart.customer_id {
        Some(owner) if shopper.customer.as_ref() != Some(owner) => Err(CartError::NotFound("cart")),
        _ => Ok(cart),
    }
}

/// The catalog's view of some variants, from their products as read.
fn catalog_of(products: &[Product], variants: &[(VariantId, ProductId)]) -> Catalog {
    variants
        .iter()
        .filter_map(|(variant, product)| {
            let product = products.iter().find(|p| p.id == *product)?;
            let found = product.variants.iter().find(|v| v.id == *variant)?;
            Some((variant.clone(), (product.clone(), found.clone())))
        })
        .collect()
}

/// What a cart change starts from, read in two batched calls: the cart with the catalog's
/// lookups of the variants being added, then the products of every line with the stock levels
/// the change may take units from (levels at the selling locations, which come from the
/// container's copy). The reservation starts from the cart's copy of it.
struct Start {
    cart: Option<StoredCart>,
    /// The shopper (signed in) as pricing sees them.
    shopper_buyer: Buyer,
    /// The signed-in shopper's email, which a new cart of theirs starts with.
    shopper_email: Option<String>,
    catalog: Catalog,
    collections: Option<Collections>,
    eligible: std::sync::Arc<Vec<LocationId>>,
    /// The levels looked for (found or not).
    looked: Vec<(LocationId, VariantId)>,
    levels: HashMap<(LocationId, VariantId), LocationStock>,
}

async fn start(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    cart: Option<&CartId>,
    adding: &[VariantId],
    growing: &(dyn Fn(Option<&StoredCart>) -> Vec<VariantId> + Send + Sync),
) -> Result<Start, CartError> {
    let first = store::read(
        app.table.as_ref(),
        tenant,
        store::Wanted {
            cart,
            lookups: adding,
            customer: shopper.customer.as_ref(),
            ..Default::default()
        },
    )
    .await?;
    still_active(shopper, first.customer.as_ref())?;
    let groups: &[String] = first
        .customer
        .as_ref()
        .filter(|c| !c.customer.tax_exempt)
        .map_or(&[], |c| c.customer.group_ids.as_slice());
    let mut owners: Vec<(VariantId, ProductId)> = first
        .cart
        .iter()
        .flat_map(|c| c.items.iter())
        .map(|i| (i.variant_id.clone(), i.product_id.clone()))
        .collect();
    for (variant, product) in first.lookups {
        if let Some(variant) = VariantId::parse(&variant) {
            if !owners.iter().any(|(v, _)| *v == variant) {
                owners.push((variant, product));
            }
        }
    }
    let mut products: Vec<ProductId> = owners.iter().map(|(_, p)| p.clone()).collect();
    products.sort();
    products.dedup();
    let eligible = crate::inventory::locations::selling_cached(app, tenant).await?;
    let mut looked = Vec::new();
    for variant in growing(first.cart.as_ref()) {
        for location in eligible.iter() {
            let pair = (location.clone(), variant.clone());
            if !looked.contains(&pair) {
                looked.push(pair);
            }
        }
    }
    let with_collections = wants_collections(app, tenant).await?;
    let held = held_codes(first.cart.as_ref());
    let second = store::read(
        app.table.as_ref(),
        tenant,
        store::Wanted {
            products: &products,
            levels: &looked,
            groups,
            placements: if with_collections { &products } else { &[] },
            codes: &held,
            ..Default::default()
        },
    )
    .await?;
    let stocks =
        crate::inventory::store::complete(app.table.as_ref(), tenant, second.levels).await?;
    let mut cart = first.cart;
    if let Some(cart) = &mut cart {
        withdraw_deleted(cart, &second.codes);
    }
    Ok(Start {
        shopper_buyer: buyer_of(first.customer.as_ref(), &second.groups),
        shopper_email: first
            .customer
            .as_ref()
            .and_then(|c| c.customer.email.clone()),
        cart,
        catalog: catalog_of(&second.products, &owners),
        collections: with_collections.then(|| second.collections.into_iter().collect()),
        eligible,
        looked,
        levels: reservations::by_level(stocks),
    })
}

impl Start {
    /// What the reservation of `cart`'s lines starts from, when everything it needs was read.
    fn reading(&self, cart: &StoredCart) -> Option<reservations::Reading> {
        let holding = reservations::Holding::from_copy(cart.id.as_str(), cart.reservation.as_ref());
        let needed = reservations::levels_to_read(&holding, &tracked(cart), &self.eligible);
        if !needed.iter().all(|pair| self.looked.contains(pair)) {
            return None;
        }
        Some(reservations::Reading {
            holding,
            variants: self
                .catalog
                .iter()
                .map(|(id, (product, variant))| (id.clone(), (product.id.clone(), variant.clone())))
                .collect(),
            eligible: self.eligible.as_ref().clone(),
            eligible_as_stored: false,
            levels: self.levels.clone(),
        })
    }
}

/// The price of a variant a shopper can buy now in `currency`, or why not.
fn buyable(
    catalog: &Catalog,
    id: &VariantId,
    currency: &str,
) -> Result<(Product, Variant, i64), String> {
    let Some((product, variant)) = catalog.get(id) else {
        return Err(format!("variant {id} does not exist"));
    };
    if product.status != ProductStatus::Active {
        return Err(format!("variant {id} is not for sale"));
    }
    match &variant.price {
        Some(price) if price.currency == currency => {
            Ok((product.clone(), variant.clone(), price.amount))
        }
        _ => Err(format!("variant {id} has no price in {currency}")),
    }
}

fn variant_title(variant: &Variant) -> String {
    variant
        .options
        .values()
        .cloned()
        .collect::<Vec<_>>()
        .join(" / ")
}

fn check_quantity(errors: &mut Errors, field: &str, quantity: i64, min: i64) {
    if !(min..=MAX_QUANTITY).contains(&quantity) {
        errors.push(crate::http::FieldError::new(
            field,
            "out_of_range",
            format!("a whole number from {min} to {MAX_QUANTITY}"),
        ));
    }
}

/// Adds `quantity` of a variant (to its line when the cart has one).
fn add(
    cart: &mut StoredCart,
    catalog: &Catalog,
    variant_id: &VariantId,
    quantity: i64,
    new_item_id: impl FnOnce() -> String,
) -> Result<(), CartError> {
    if let Some(item) = cart.items.iter_mut().find(|i| i.variant_id == *variant_id) {
        let total = item.quantity + quantity;
        if total > MAX_QUANTITY {
            return Err(CartError::field(
                "quantity",
                "out_of_range",
                format!("a line holds at most {MAX_QUANTITY} units"),
            ));
        }
        item.quantity = total;
        return Ok(());
    }
    let (product, variant, price) =
        buyable(catalog, variant_id, &cart.currency).map_err(CartError::VariantUnavailable)?;
    if cart.items.len() >= MAX_LINES {
        return Err(CartError::TooManyLines { max: MAX_LINES });
    }
    cart.items.push(CartItem {
        id: new_item_id(),
        variant_id: variant_id.clone(),
        product_id: product.id.clone(),
        title: product.title.clone(),
        variant_title: variant_title(&variant),
        sku: variant.sku.clone(),
        unit_price: price,
        quantity,
        track_inventory: variant.track_inventory,
        weight: variant.weight,
        tax_class: variant.tax_class.clone(),
        category_ids: product.category_ids.clone(),
        collection_ids: Vec::new(),
    });
    Ok(())
}

/// Prices every line from the catalog as it is now; answers the lines whose price moved, with
/// the price they had. A line whose variant can no longer be bought keeps its last price (it
/// cannot be checked out; the shopper removes it).
fn reprice(
    cart: &mut StoredCart,
    catalog: &Catalog,
    collections: Option<&Collections>,
) -> Vec<(String, i64)> {
    let mut moved = Vec::new();
    for item in &mut cart.items {
        if let Some(collections) = collections {
            item.collection_ids = collections
                .get(&item.product_id)
                .cloned()
                .unwrap_or_default();
        }
        if let Ok((product, variant, price)) = buyable(catalog, &item.variant_id, &cart.currency) {
            if price != item.unit_price {
                moved.push((item.id.clone(), item.unit_price));
                item.unit_price = price;
            }
            item.title = product.title;
            item.variant_title = variant_title(&variant);
            item.sku = variant.sku;
            item.track_inventory = variant.track_inventory;
            item.weight = variant.weight;
            item.tax_class = variant.tax_class;
            item.category_ids = product.category_ids;
        }
    }
    moved
}

/// The cart as the shopper sees it, priced now (see `pricing`); whether its customer is
/// tax-exempt is read here (the routes that read the customer with the cart use [`view_with`]).
pub(super) async fn view(
    app: &App,
    tenant: &TenantId,
    cart: &StoredCart,
    moved: &[(String, i64)],
) -> Result<Cart, CartError> {
    let buyer = exemption(app, tenant, cart.customer_id.as_ref()).await?;
    view_with(app, tenant, cart, moved, &buyer, Vec::new()).await
}

pub(super) async fn view_with(
    app: &App,
    tenant: &TenantId,
    cart: &StoredCart,
    moved: &[(String, i64)],
    buyer: &Buyer,
    notices: Vec<Notice>,
) -> Result<Cart, CartError> {
    let priced = pricing::price(app, tenant, cart, buyer).await?;
    Ok(Cart::of(cart, &priced, moved, notices))
}

/// Whether a customer pays no tax: marked so, or a member of a tax-exempt group.
fn exempt_of(customer: Option<&StoredCustomer>, groups: &[CustomerGroup]) -> bool {
    customer.is_some_and(|c| {
        c.customer.tax_exempt
            || groups
                .iter()
                .any(|g| g.tax_exempt && c.customer.group_ids.contains(&g.id))
    })
}

/// A cart's customer as pricing sees them, read now (the customer, then their groups).
pub(super) async fn exemption(
    app: &App,
    tenant: &TenantId,
    customer: Option<&CustomerId>,
) -> Result<Buyer, CartError> {
    let Some(customer) = customer else {
        return Ok(Buyer::default());
    };
    let stored =
        crate::customers::store::get(app.table.as_ref(), tenant, customer.as_str()).await?;
    let groups = match &stored {
        Some(c) if !c.customer.tax_exempt && !c.customer.group_ids.is_empty() => {
            store::read(
                app.table.as_ref(),
                tenant,
                store::Wanted {
                    groups: &c.customer.group_ids,
                    ..Default::default()
                },
            )
            .await?
            .groups
        }
        _ => Vec::new(),
    };
    Ok(buyer_of(stored.as_ref(), &groups))
}

/// The cart's lines whose stock is held.
fn tracked(cart: &StoredCart) -> Vec<Line> {
    cart.items
        .iter()
        .filter(|i| i.track_inventory)
        .map(|i| Line {
            variant_id: i.variant_id.clone(),
            quantity: i.quantity,
        })
        .collect()
}

/// Writes the cart (over `expected`, or as new) together with its stock reservation, and keeps
/// the reservation's copy on it.
async fn save(
    app: &App,
    tenant: &TenantId,
    cart: &mut StoredCart,
    expected: Option<u64>,
    window_seconds: i64,
    first: Option<reservations::Reading>,
    extra: &[crate::store::TxOp],
) -> Result<(), CartError> {
    let lines = tracked(cart);
    let expires = app.clock.epoch_seconds() + window_seconds;
    let kept = std::sync::Mutex::new(None);
    let with = |after: &reservations::Holding| {
        let mut next = cart.clone();
        next.reservation = after.copy();
        let mut ops = vec![
            store::cart_put(tenant, &next, expected),
            updated_event(app, tenant, &next),
        ];
        ops.extend(extra.iter().cloned());
        *kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(next.reservation);
        ops
    };
    reservations::reserve_with(app, tenant, cart.id.as_str(), &lines, expires, &with, first)
        .await?;
    if let Some(copy) = kept.into_inner().unwrap_or_else(|e| e.into_inner()) {
        cart.reservation = copy;
    }
    Ok(())
}

/// `cart.updated`, which the expiry worker follows until the cart expires.
pub(super) fn updated_event(app: &App, tenant: &TenantId, cart: &StoredCart) -> crate::store::TxOp {
    crate::events::event(
        app,
        tenant,
        super::events::CartEvent::CartUpdated,
        Some(cart.id.as_str()),
        serde_json::json!({
            "cart_id": cart.id,
            "version": cart.version,
            "expires_epoch": cart.expires_epoch,
            "item_count": cart.items.iter().map(|i| i.quantity).sum::<i64>(),
        }),
    )
}

fn check_email(errors: &mut Errors, email: Option<&str>) {
    if let Some(email) = email {
        errors.check(validate::email("email", email));
    }
}

fn check_country(errors: &mut Errors, country: Option<&str>) {
    if let Some(country) = country {
        errors.check(validate::country("country", country));
    }
}

pub async fn create(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    input: NewCart,
) -> Result<Cart, CartError> {
    let general = crate::settings::service::typed::<General>(app, tenant).await?;
    let checkout = crate::settings::service::typed::<Checkout>(app, tenant).await?;
    let mut errors = Errors::new();
    let currency = input
        .currency
        .clone()
        .unwrap_or_else(|| general.default_currency.clone());
    if !general.supported_currencies.contains(&currency) {
        errors.push(crate::http::FieldError::new(
            "currency",
            "unsupported",
            format!(
                "one of the company's currencies: {}",
                general.supported_currencies.join(", ")
            ),
        ));
    }
    check_email(&mut errors, input.email.as_deref());
    check_country(&mut errors, input.country.as_deref());
    if input.items.len() > MAX_LINES {
        errors.push(crate::http::FieldError::new(
            "items",
            "too_many",
            format!("at most {MAX_LINES} lines"),
        ));
    }
    let mut wanted: Vec<(VariantId, i64)> = Vec::new();
    for (i, item) in input.items.iter().enumerate() {
        check_quantity(
            &mut errors,
            &format!("items[{i}].quantity"),
            item.quantity,
            1,
        );
        match VariantId::parse(&item.variant_id) {
            Some(id) => wanted.push((id, item.quantity)),
            None => errors.push(crate::http::FieldError::new(
                format!("items[{i}].variant_id"),
                "invalid",
                "not a variant id",
            )),
        }
    }
    errors.into_result()?;
    let ids: Vec<VariantId> = wanted.iter().map(|(id, _)| id.clone()).collect();
    let start = start(app, tenant, shopper, None, &ids, &|_| ids.clone()).await?;
    let catalog = &start.catalog;
    let now = app.clock.now();
    let expires_epoch = app.clock.epoch_seconds() + checkout.cart_lifetime_seconds;
    let mut cart = StoredCart {
        id: CartId::random(),
        status: CartStatus::Open,
        customer_id: shopper.customer.clone(),
        currency,
        // A signed-in customer's cart starts with the account's email, as the order
        // confirmation needs one.
        email: input
            .email
            .as_deref()
            .map(validate::normalize_email)
            .or_else(|| {
                start
                    .shopper_email
                    .as_deref()
                    .map(validate::normalize_email)
            }),
        country: input.country,
        note: None,
        locale: None,
        shipping_address: None,
        billing_address: None,
        items: Vec::new(),
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
        expires_at: epoch_rfc3339(expires_epoch),
        expires_epoch,
        version: 1,
        abandoned_at: None,
        reservation: None,
        vat_number: None,
        shipping_method: None,
        discount_codes: Vec::new(),
        payment: None,
        order_id: None,
    };
    for (id, quantity) in &wanted {
        add(&mut cart, catalog, id, *quantity, || app.ids.new_id("item"))?;
    }
    // Priced before anything is written: a cart pricing refuses (a total past what an amount
    // may hold) is never saved, and holds no stock.
    let priced = pricing::price(app, tenant, &cart, &start.shopper_buyer).await?;
    // More lines than one transaction changes are reserved a step at a time ahead of the cart;
    // when a step finds stock short, what the steps before held is given back. (Should the
    // request stop between steps, the cart does not exist and what was held expires with the
    // reservation.)
    let lines = tracked(&cart);
    let expires = app.clock.epoch_seconds() + checkout.reservation_window_seconds;
    let staged = lines.len() > reservations::MAX_CHANGED_LINES;
    let mut held = reservations::MAX_CHANGED_LINES;
    while held < lines.len() {
        let step = reservations::reserve(app, tenant, cart.id.as_str(), &lines[..held], expires);
        if let Err(error) = step.await {
            reservations::release(app, tenant, cart.id.as_str()).await?;
            return Err(error.into());
        }
        held += reservations::MAX_CHANGED_LINES;
    }
    let first = if staged { None } else { start.reading(&cart) };
    let saved = save(
        app,
        tenant,
        &mut cart,
        None,
        checkout.reservation_window_seconds,
        first,
        &[],
    )
    .await;
    if let Err(error) = saved {
        if staged {
            reservations::release(app, tenant, cart.id.as_str()).await?;
        }
        return Err(error);
    }
    Ok(Cart::of(&cart, &priced, &[], Vec::new()))
}

pub(super) fn epoch_rfc3339(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .map(rfc3339)
        .unwrap_or_default()
}

/// A shopper's cart, every line priced as the catalog has it now (a moved price is flagged):
/// the cart (with the signed-in customer), then its lines' products (with the customer's
/// groups).
pub async fn get(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
) -> Result<Cart, CartError> {
    let (mut cart, buyer) = read_for_pricing(app, tenant, shopper, id).await?;
    if cart.status == CartStatus::Open && cart.expires_epoch <= app.clock.epoch_seconds() {
        cart.status = CartStatus::Expired;
    }
    let moved = cart.moved.clone();
    let notices = cart
        .unavailable
        .iter()
        .map(|(line, why)| Notice {
            code: "line_unavailable",
            message: format!(
                "Line {line} can no longer be bought ({why}); remove it to check out."
            ),
        })
        .collect();
    view_with(app, tenant, &cart.cart, &moved, &buyer, notices).await
}

/// A cart read to be priced: repriced from the catalog, with the lines whose price moved.
pub struct Repriced {
    pub cart: StoredCart,
    moved: Vec<(String, i64)>,
    /// The lines whose variant can no longer be bought (its product not active or deleted,
    /// the variant deleted, or no price in the cart's currency), with why: checkout refuses
    /// the cart until they are removed.
    pub unavailable: Vec<(String, String)>,
    /// The signed-in shopper's account email (whatever the cart's email is): per-customer
    /// discount limits count it too.
    pub account_email: Option<String>,
}

impl std::ops::Deref for Repriced {
    type Target = StoredCart;
    fn deref(&self) -> &StoredCart {
        &self.cart
    }
}

impl std::ops::DerefMut for Repriced {
    fn deref_mut(&mut self) -> &mut StoredCart {
        &mut self.cart
    }
}

/// Reads a cart the shopper may use, priced from the catalog as it is now, and whether its
/// customer pays no tax: two batched reads.
pub async fn read_for_pricing(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
) -> Result<(Repriced, Buyer), CartError> {
    let cart_id = CartId::parse(id).ok_or(CartError::NotFound("cart"))?;
    let first = store::read(
        app.table.as_ref(),
        tenant,
        store::Wanted {
            cart: Some(&cart_id),
            customer: shopper.customer.as_ref(),
            ..Default::default()
        },
    )
    .await?;
    still_active(shopper, first.customer.as_ref())?;
    let account_email = first
        .customer
        .as_ref()
        .and_then(|c| c.customer.email.as_deref())
        .map(validate::normalize_email);
    let mut cart = usable_by(first.cart, shopper)?;
    let owned = cart.customer_id.is_some() && cart.customer_id == shopper.customer;
    let customer = first.customer.filter(|_| owned);
    // The lines name their products: one batched read of them re-validates every price.
    let owners: Vec<(VariantId, ProductId)> = cart
        .items
        .iter()
        .map(|i| (i.variant_id.clone(), i.product_id.clone()))
        .collect();
    let mut products: Vec<ProductId> = owners.iter().map(|(_, p)| p.clone()).collect();
    products.sort();
    products.dedup();
    let groups: &[String] = customer
        .as_ref()
        .filter(|c| !c.customer.tax_exempt)
        .map_or(&[], |c| c.customer.group_ids.as_slice());
    let with_collections = wants_collections(app, tenant).await?;
    let held = held_codes(Some(&cart));
    let second = store::read(
        app.table.as_ref(),
        tenant,
        store::Wanted {
            products: &products,
            groups,
            placements: if with_collections { &products } else { &[] },
            codes: &held,
            ..Default::default()
        },
    )
    .await?;
    withdraw_deleted(&mut cart, &second.codes);
    let collections: Option<Collections> =
        with_collections.then(|| second.collections.into_iter().collect());
    let catalog = catalog_of(&second.products, &owners);
    let moved = reprice(&mut cart, &catalog, collections.as_ref());
    let unavailable = cart
        .items
        .iter()
        .filter_map(|item| {
            buyable(&catalog, &item.variant_id, &cart.currency)
                .err()
                .map(|why| (item.id.clone(), why))
        })
        .collect();
    let buyer = buyer_of(customer.as_ref(), &second.groups);
    Ok((
        Repriced {
            cart,
            moved,
            unavailable,
            account_email,
        },
        buyer,
    ))
}

/// What a change does to the cart once read, given the catalog's variants.
type Change<'a> = dyn Fn(&mut StoredCart, &Catalog) -> Result<(), CartError> + Send + Sync + 'a;

/// Reads the cart, applies `change`, prices it again and saves it with its reservation; a
/// concurrent change makes it read again, unless the caller named the version it saw
/// (`if_match`), which then answers 412. `adding` are the variants the change may add, `growing`
/// those it may hold more of (their levels are read with the cart's products).
#[allow(clippy::too_many_arguments)]
async fn change(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    if_match: Option<u64>,
    adding: &[VariantId],
    growing: &(dyn Fn(Option<&StoredCart>) -> Vec<VariantId> + Send + Sync),
    apply: &Change<'_>,
) -> Result<Cart, CartError> {
    change_with(
        app,
        tenant,
        shopper,
        id,
        if_match,
        adding,
        growing,
        apply,
        &[],
    )
    .await
}

/// [`change`], writing `extra` in the cart's transaction.
#[allow(clippy::too_many_arguments)]
async fn change_with(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    if_match: Option<u64>,
    adding: &[VariantId],
    growing: &(dyn Fn(Option<&StoredCart>) -> Vec<VariantId> + Send + Sync),
    apply: &Change<'_>,
    extra: &[crate::store::TxOp],
) -> Result<Cart, CartError> {
    let checkout = crate::settings::service::typed::<Checkout>(app, tenant).await?;
    let cart_id = CartId::parse(id).ok_or(CartError::NotFound("cart"))?;
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let start = start(app, tenant, shopper, Some(&cart_id), adding, growing).await?;
        let before = usable_by(start.cart.clone(), shopper)?;
        let owned = before.customer_id.is_some() && before.customer_id == shopper.customer;
        let buyer = if owned {
            start.shopper_buyer.clone()
        } else {
            Buyer::default()
        };
        if if_match.is_some_and(|v| v != before.version) {
            return Err(CartError::Stale);
        }
        usable(&before, app.clock.epoch_seconds())?;
        let mut cart = before.clone();
        apply(&mut cart, &start.catalog)?;
        let moved = reprice(&mut cart, &start.catalog, start.collections.as_ref());
        let now = app.clock.now();
        cart.version = before.version + 1;
        cart.updated_at = rfc3339(now);
        // A change starts a new quiet spell: the cart may be reported abandoned again.
        cart.abandoned_at = None;
        cart.expires_epoch = app.clock.epoch_seconds() + checkout.cart_lifetime_seconds;
        cart.expires_at = epoch_rfc3339(cart.expires_epoch);
        // A shipping method the change makes inapplicable (another address, other lines) is
        // cleared, and the answer says so.
        let priced = pricing::price(app, tenant, &cart, &buyer).await?;
        if priced.method_lost {
            cart.shipping_method = None;
        }
        let first = start.reading(&cart);
        match save(
            app,
            tenant,
            &mut cart,
            Some(before.version),
            checkout.reservation_window_seconds,
            first,
            extra,
        )
        .await
        {
            Ok(()) => return Ok(Cart::of(&cart, &priced, &moved, Vec::new())),
            Err(CartError::Stale) if if_match.is_some() => return Err(CartError::Stale),
            Err(CartError::Stale) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(CartError::Busy)
}

pub async fn add_item(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    if_match: Option<u64>,
    input: NewItem,
) -> Result<Cart, CartError> {
    let mut errors = Errors::new();
    check_quantity(&mut errors, "quantity", input.quantity, 1);
    let variant = VariantId::parse(&input.variant_id);
    if variant.is_none() {
        errors.push(crate::http::FieldError::new(
            "variant_id",
            "invalid",
            "not a variant id",
        ));
    }
    errors.into_result()?;
    let variant = variant.expect("checked");
    let adding = [variant.clone()];
    change(
        app,
        tenant,
        shopper,
        id,
        if_match,
        &adding,
        &|_| adding.to_vec(),
        &|cart, catalog| {
            add(cart, catalog, &variant, input.quantity, || {
                app.ids.new_id("item")
            })
        },
    )
    .await
}

pub async fn update_item(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    item_id: &str,
    if_match: Option<u64>,
    input: ItemChange,
) -> Result<Cart, CartError> {
    let mut errors = Errors::new();
    check_quantity(&mut errors, "quantity", input.quantity, 0);
    errors.into_result()?;
    let growing = |cart: Option<&StoredCart>| -> Vec<VariantId> {
        cart.into_iter()
            .flat_map(|c| c.items.iter())
            .filter(|i| i.id == item_id && input.quantity > i.quantity)
            .map(|i| i.variant_id.clone())
            .collect()
    };
    change(
        app,
        tenant,
        shopper,
        id,
        if_match,
        &[],
        &growing,
        &|cart, _| {
            let at = cart
                .items
                .iter()
                .position(|i| i.id == item_id)
                .ok_or(CartError::NotFound("cart item"))?;
            if input.quantity == 0 {
                cart.items.remove(at);
            } else {
                cart.items[at].quantity = input.quantity;
            }
            Ok(())
        },
    )
    .await
}

pub async fn remove_item(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    item_id: &str,
    if_match: Option<u64>,
) -> Result<Cart, CartError> {
    change(
        app,
        tenant,
        shopper,
        id,
        if_match,
        &[],
        &|_| Vec::new(),
        &|cart, _| {
            let at = cart
                .items
                .iter()
                .position(|i| i.id == item_id)
                .ok_or(CartError::NotFound("cart item"))?;
            cart.items.remove(at);
            Ok(())
        },
    )
    .await
}

pub async fn update(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    if_match: Option<u64>,
    input: CartChange,
) -> Result<Cart, CartError> {
    let general = crate::settings::service::typed::<General>(app, tenant).await?;
    let mut errors = Errors::new();
    check_email(&mut errors, input.email.as_ref().and_then(|e| e.as_deref()));
    check_country(
        &mut errors,
        input.country.as_ref().and_then(|c| c.as_deref()),
    );
    if let Some(Some(note)) = &input.note {
        if note.chars().count() > MAX_NOTE || note.chars().any(|c| c.is_control() && c != '\n') {
            errors.push(crate::http::FieldError::new(
                "note",
                "invalid",
                format!("at most {MAX_NOTE} characters, without control characters"),
            ));
        }
    }
    if let Some(Some(locale)) = &input.locale {
        if !general.supported_locales.contains(locale) {
            errors.push(crate::http::FieldError::new(
                "locale",
                "unsupported",
                format!(
                    "one of the company's locales: {}",
                    general.supported_locales.join(", ")
                ),
            ));
        }
    }
    if let Some(Some(number)) = &input.vat_number {
        if crate::tax::vat::country_of(number).is_none() {
            errors.push(crate::http::FieldError::new(
                "vat_number",
                "invalid_vat_number",
                "an EU VAT number with its country prefix, e.g. DE123456789",
            ));
        }
    }
    errors.into_result()?;
    let mut addresses: Vec<(&str, Option<CartAddress>)> = Vec::new();
    for (field, given) in [
        ("shipping_address", &input.shipping_address),
        ("billing_address", &input.billing_address),
    ] {
        if let Some(given) = given {
            let resolved = match given {
                Some(address) => Some(resolve_address(app, tenant, shopper, field, address).await?),
                None => None,
            };
            addresses.push((field, resolved));
        }
    }
    change(
        app,
        tenant,
        shopper,
        id,
        if_match,
        &[],
        &|_| Vec::new(),
        &|cart, _| {
            for (field, address) in &addresses {
                if *field == "shipping_address" {
                    if let Some(address) = address {
                        cart.country = Some(address.country.clone());
                    }
                    cart.shipping_address = address.clone();
                } else {
                    cart.billing_address = address.clone();
                }
            }
            if let Some(email) = &input.email {
                cart.email = email.as_deref().map(validate::normalize_email);
            }
            if let Some(country) = &input.country {
                cart.country = country.clone();
            }
            if let Some(note) = &input.note {
                cart.note = note.clone();
            }
            if let Some(locale) = &input.locale {
                cart.locale = locale.clone();
            }
            if let Some(number) = &input.vat_number {
                cart.vat_number = number.as_deref().map(crate::tax::vat::normalize);
            }
            Ok(())
        },
    )
    .await
}

/// The shipping options of a cart's destination, each priced for the cart (422
/// `address_required` when it has neither a shipping address nor a country).
pub async fn shipping_options(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
) -> Result<Vec<crate::shipping::model::ShippingOption>, CartError> {
    let (cart, buyer) = read_for_pricing(app, tenant, shopper, id).await?;
    pricing::options(app, tenant, &cart, &buyer).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingChoice {
    /// The `id` of one of the cart's shipping options.
    pub option_id: String,
}

/// Chooses one of the cart's shipping options: its price joins the cart's totals (and its tax,
/// when shipping is taxed); a later change that makes it inapplicable clears it and says so.
pub async fn choose_shipping(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    if_match: Option<u64>,
    input: ShippingChoice,
) -> Result<Cart, CartError> {
    let (cart, buyer) = read_for_pricing(app, tenant, shopper, id).await?;
    let options = pricing::options(app, tenant, &cart, &buyer).await?;
    let Some(option) = options.into_iter().find(|o| o.id == input.option_id) else {
        return Err(CartError::ShippingUnavailable);
    };
    let chosen = ChosenMethod {
        id: option.id,
        name: option.name,
    };
    change(
        app,
        tenant,
        shopper,
        id,
        if_match,
        &[],
        &|_| Vec::new(),
        &|cart, _| {
            cart.shipping_method = Some(chosen.clone());
            Ok(())
        },
    )
    .await
}

/// Holds the cart's lines in stock again as they are (checkout found the cart's reservation
/// swept away after it expired): the reservation becomes exactly the tracked lines, or the
/// answer is `insufficient_stock` and the cart is unchanged.
pub async fn renew_reservation(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
) -> Result<Cart, CartError> {
    change(
        app,
        tenant,
        shopper,
        id,
        None,
        &[],
        &|cart| {
            cart.map(|c| tracked(c).into_iter().map(|l| l.variant_id).collect())
                .unwrap_or_default()
        },
        &|_, _| Ok(()),
    )
    .await
}

/// An open cart past its expiry shows as expired (the expiry worker marks it soon after).
pub(super) fn shown(mut cart: StoredCart, app: &App) -> StoredCart {
    if cart.status == CartStatus::Open && cart.expires_epoch <= app.clock.epoch_seconds() {
        cart.status = CartStatus::Expired;
    }
    cart
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeEntry {
    /// The code, in any case.
    pub code: String,
}

/// Codes a cart, and a source address, may try within [`CODE_WINDOW_SECS`] that do not apply
/// before further tries answer 429.
pub const CODE_ATTEMPTS: i64 = 10;
pub const CODE_WINDOW_SECS: i64 = 600;
const CODE_PURPOSE: &str = "discount-code";

fn throttled(e: crate::http::ApiError) -> CartError {
    CartError::Throttled(Box::new(e))
}

/// Enters a discount code on a cart. The code must apply now: an unknown, switched-off,
/// not-yet-started, expired, used-up code, one the cart does not reach the minimum of, or one
/// that cannot apply with the codes the cart holds is refused with its reason, and the cart is
/// unchanged. Every refusal counts against the cart and the caller's address: the eleventh
/// refusal within ten minutes answers 429 instead (see `auth::throttle`), so codes cannot be
/// guessed. A code the cart holds already answers the cart as it is.
pub async fn add_discount_code(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    if_match: Option<u64>,
    input: CodeEntry,
    source_ip: Option<&str>,
) -> Result<Cart, CartError> {
    use crate::auth::throttle::{self, Subject};
    let cart_id = CartId::parse(id).ok_or(CartError::NotFound("cart"))?;
    let source = match source_ip {
        Some(ip) => Some(
            throttle::reserve(
                app,
                &Subject::source(CODE_PURPOSE, ip).limited(CODE_ATTEMPTS, CODE_WINDOW_SECS),
            )
            .await
            .map_err(throttled)?,
        ),
        None => None,
    };
    let per_cart = Subject::tenant_account(tenant, CODE_PURPOSE, cart_id.as_str())
        .limited(CODE_ATTEMPTS, CODE_WINDOW_SECS);
    let on_cart = match throttle::reserve(app, &per_cart).await {
        Ok(attempt) => attempt,
        Err(refusal) => {
            if let Some(source) = source {
                throttle::release(app, source).await.map_err(throttled)?;
            }
            return Err(throttled(refusal));
        }
    };
    // The code is checked against the cart as read and saved only over that version; a change
    // in between checks it again (unless the caller named the version it saw).
    let mut outcome = try_code(app, tenant, shopper, id, if_match, &input.code).await;
    for attempt in 1..crate::store::ATTEMPTS {
        if if_match.is_some() || !matches!(outcome, Err(CartError::Stale)) {
            break;
        }
        crate::store::back_off(attempt).await;
        outcome = try_code(app, tenant, shopper, id, if_match, &input.code).await;
    }
    if matches!(outcome, Err(CartError::Stale)) && if_match.is_none() {
        outcome = Err(CartError::Busy);
    }
    let refused = matches!(
        &outcome,
        Err(CartError::Discount(e))
            if matches!(**e, crate::discounts::errors::DiscountError::Refused { .. })
    );
    // Every slot is settled, whatever becomes of the others; a slot that cannot be settled
    // stays counted until its window ends (logged), and the answer is the code's.
    for attempt in std::iter::once(on_cart).chain(source) {
        let settled = if refused {
            throttle::failed(app, attempt).await
        } else {
            throttle::release(app, attempt).await
        };
        if let Err(e) = settled {
            tracing::warn!(error = %e.detail, "could not settle a discount-code throttle slot");
        }
    }
    outcome
}

async fn try_code(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    if_match: Option<u64>,
    text: &str,
) -> Result<Cart, CartError> {
    use crate::discounts::errors::DiscountError;
    use crate::discounts::usage::{self, Redemption};
    let (read, buyer) = read_for_pricing(app, tenant, shopper, id).await?;
    if if_match.is_some_and(|v| v != read.cart.version) {
        return Err(CartError::Stale);
    }
    // A closed cart takes no code, known or not (and an unknown one spends no guess).
    usable(&read.cart, app.clock.epoch_seconds())?;
    let (code, discount) = crate::discounts::service::lookup(app, tenant, text).await?;
    if read.cart.discount_codes.iter().any(|c| c.code == code.code) {
        return view_with(app, tenant, &read.cart, &read.moved, &buyer, Vec::new()).await;
    }
    if read.cart.discount_codes.len() >= super::model::MAX_CODES {
        return Err(CartError::TooManyCodes {
            max: super::model::MAX_CODES,
        });
    }
    // Would it apply, with what the cart holds now?
    let entered = super::model::EnteredCode {
        code: code.code.clone(),
        discount_id: discount.id.clone(),
        withdrawn: false,
    };
    let mut trial = read.cart.clone();
    trial.discount_codes.push(entered.clone());
    let before = pricing::price(app, tenant, &read.cart, &buyer).await?;
    let after = pricing::price(app, tenant, &trial, &buyer).await?;
    let standing = after.codes.last().expect("the code was added");
    if let Some(refusal) = standing.refusal {
        return Err(DiscountError::refused(refusal).into());
    }
    // A code that would push out a code already applying does not combine with it.
    let pushed_out = before
        .codes
        .iter()
        .zip(&after.codes)
        .any(|(was, now)| was.refusal.is_none() && now.refusal.is_some());
    if pushed_out {
        return Err(
            DiscountError::refused(crate::discounts::engine::Refusal::NotCombinable).into(),
        );
    }
    let buyers = crate::discounts::store::Buyer::all_of(
        read.cart.customer_id.as_ref().map(|c| c.to_string()),
        [read.cart.email.as_deref(), read.account_email.as_deref()],
    );
    let redemption = Redemption {
        discount: &discount,
        code: Some(&code.code),
        buyers: &buyers,
    };
    if usage::exhausted(app, tenant, &redemption).await? {
        return Err(
            DiscountError::refused(crate::discounts::engine::Refusal::UsageExhausted).into(),
        );
    }
    change(
        app,
        tenant,
        shopper,
        id,
        Some(read.cart.version),
        &[],
        &|_| Vec::new(),
        &|cart, _| {
            if !cart.discount_codes.iter().any(|c| c.code == entered.code) {
                cart.discount_codes.push(entered.clone());
            }
            Ok(())
        },
    )
    .await
}

/// Takes a discount code off a cart (404 when the cart does not hold it).
pub async fn remove_discount_code(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    if_match: Option<u64>,
    code: &str,
) -> Result<Cart, CartError> {
    let code = crate::discounts::service::normalise_code(code)
        .ok_or(CartError::NotFound("discount code"))?;
    change(
        app,
        tenant,
        shopper,
        id,
        if_match,
        &[],
        &|_| Vec::new(),
        &|cart, _| {
            let before = cart.discount_codes.len();
            cart.discount_codes.retain(|c| c.code != code);
            if cart.discount_codes.len() == before {
                return Err(CartError::NotFound("discount code"));
            }
            Ok(())
        },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPaymentSession {
    /// One of the providers the payments settings enable: `manual`, `test`, `stripe`.
    pub provider: String,
}

/// A cart's payment session, as the storefront completes it with the provider.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct PaymentSessionView {
    /// `pay_…`
    pub payment_id: String,
    pub provider: String,
    pub status: crate::payments::model::PaymentStatus,
    /// The cart's grand total now, in minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    /// What the storefront needs to complete the payment with the provider (for Stripe, the
    /// client secret; for the test provider, its test card numbers).
    #[schema(value_type = Object)]
    pub client: serde_json::Value,
    /// The cart, with its payment session.
    pub cart: Cart,
}

/// Opens a payment session for the cart with one of the company's enabled providers: a payment
/// record (`pay_`, pending) for the cart's grand total, written in the cart's transaction, and
/// the provider's session. A later session replaces it on the cart. The session's amount is the
/// cart's grand total at every read (`payment_session` on the cart); checkout asks the provider
/// for the total as it is then.
pub async fn open_payment_session(
    app: &App,
    tenant: &TenantId,
    shopper: &Shopper,
    id: &str,
    if_match: Option<u64>,
    input: NewPaymentSession,
) -> Result<PaymentSessionView, CartError> {
    let (read, buyer) = read_for_pricing(app, tenant, shopper, id).await?;
    if read.cart.items.is_empty() {
        return Err(CartError::field(
            "items",
            "empty",
            "a cart without items has nothing to pay",
        ));
    }
    let priced = pricing::price(app, tenant, &read.cart, &buyer).await?;
    let (payment, session) = crate::payments::service::open(
        app,
        tenant,
        input.provider.trim(),
        &read.cart.currency,
        priced.totals.grand_total,
    )
    .await
    .map_err(|e| CartError::Payment(Box::new(e)))?;
    let chosen = super::model::CartPayment {
        payment_id: payment.id.clone(),
        provider: payment.provider.clone(),
    };
    let cart = change_with(
        app,
        tenant,
        shopper,
        id,
        if_match,
        &[],
        &|_| Vec::new(),
        &|cart, _| {
            cart.payment = Some(chosen.clone());
            Ok(())
        },
        &[crate::payments::store::payment_put(tenant, &payment, None)],
    )
    .await?;
    Ok(PaymentSessionView {
        payment_id: payment.id,
        provider: payment.provider,
        status: payment.status,
        amount: cart.grand_total,
        currency: cart.currency.clone(),
        client: session.client,
        cart,
    })
}
