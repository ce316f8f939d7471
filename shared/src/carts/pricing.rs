//! What a cart costs: its lines, the shipping method it chose and the taxes of its destination,
//! through the totals engine (`pricing`), in three passes of it (each pure):
//!
//! 1. the discounts (see `discounts::engine`): of the automatic discounts and the codes entered
//!    that apply, the best combination the rules allow, each line's discount and the shipping's;
//!    the chosen method is priced on the subtotal after the lines' discounts (a carrier method
//!    asks the carrier once, with a time limit and a fallback price);
//! 2. with the chosen method's price and the discounts: what is taxed, line by line and for
//!    shipping (taxes are always worked out on amounts after discounts);
//! 3. with the taxes the tax provider answers (the built-in rates by default; an external engine
//!    that fails or is late gives way to them): the totals.
//!
//! **The destination** is the shipping address (its country, region and postcode), or the
//! cart's country alone; without either there is no shipping and no tax yet.
//!
//! **Tax-free carts.** A customer marked tax-exempt (or in a tax-exempt group) pays no tax; nor
//! does a business with an EU VAT number of the destination's country shipping to an EU country
//! other than the company's own (reverse charge; the company's country is its shipping origin's,
//! or its first tax registration's): each line then notes it. Prices that include tax are the
//! same for every destination that pays tax (the tax in them is worked out at the destination's
//! rates); a tax-free cart pays them less the tax they would carry at the destination's rates.

use super::errors::CartError;
use super::model::StoredCart;
use crate::app::App;
use crate::discounts::engine::{self as discount_engine, Basket, Refusal, Selection};
use crate::discounts::model::{Discount, DiscountClass};
use crate::identity::TenantId;
use crate::places::Destination;
use crate::pricing::{
    self, Adjusters, Currency, FixedDiscounts, FixedShipping, FixedTax, LineInput, NoTax,
    PricingInput, TaxOutcome, Totals,
};
use crate::settings::groups::{Shipping, Tax};
use crate::shipping::model::{DeliveryDays, Method, ShippingOption, Zone};
use crate::shipping::provider::{carrier_price, RateRequest, TableRates, TIMEOUT};
use crate::shipping::quote::{table_price, zone_of, Parcel};
use crate::tax::engine::{self, Charge};
use crate::tax::provider::{self as tax_provider, TaxRequest, Taxable};
use crate::tax::vat;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// Why a cart pays no tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxRelief {
    /// The customer (or one of their groups) is tax-exempt.
    CustomerExempt,
    /// An EU business buying from another EU country accounts for the VAT itself.
    ReverseCharge,
}

impl TaxRelief {
    /// The note each line carries.
    pub fn note(self) -> &'static str {
        match self {
            TaxRelief::CustomerExempt => "Tax exempt customer: no tax charged",
            TaxRelief::ReverseCharge => {
                "Reverse charge: VAT to be accounted for by the recipient (Article 196, \
                 Directive 2006/112/EC)"
            }
        }
    }
}

/// The chosen shipping method as priced for the cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChosenShipping {
    pub id: String,
    pub name: String,
    pub amount: i64,
    pub delivery_days: Option<DeliveryDays>,
}

/// The buyer as pricing sees them: whether they pay no tax (a tax-exempt customer or group),
/// and their customer groups (for discounts that name groups).
#[derive(Debug, Clone, Default)]
pub struct Buyer {
    pub exempt: bool,
    pub groups: Vec<String>,
}

/// A discount the cart gets, and what it takes off.
#[derive(Debug, Clone)]
pub struct AppliedDiscount {
    pub discount: Discount,
    /// The code that brought it (code discounts).
    pub code: Option<String>,
    /// Off each line, in line order.
    pub lines: Vec<i64>,
    pub shipping: i64,
}

impl AppliedDiscount {
    pub fn amount(&self) -> i64 {
        self.lines.iter().sum::<i64>() + self.shipping
    }

    pub fn class(&self) -> DiscountClass {
        self.discount.class()
    }
}

/// A code the cart holds, and whether it applies now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeStanding {
    pub code: String,
    pub discount_id: String,
    /// Why it does not apply now (`None`: it applies).
    pub refusal: Option<Refusal>,
}

/// A cart as priced now.
#[derive(Debug, Clone)]
pub struct Priced {
    pub totals: Totals,
    /// Each line's unit price as charged: the catalog's, but for a tax-free cart in a company
    /// whose prices include tax (see the module).
    pub unit_prices: Vec<i64>,
    /// Each line's taxes, rate by rate.
    pub line_taxes: Vec<Vec<Charge>>,
    pub shipping_taxes: Vec<Charge>,
    pub shipping: Option<ChosenShipping>,
    /// The cart had chosen a method that no longer applies (its address, its lines or the
    /// zones changed): it is priced without one.
    pub method_lost: bool,
    pub relief: Option<TaxRelief>,
    /// The discounts applied, in the order they applied.
    pub discounts: Vec<AppliedDiscount>,
    /// The codes entered, in the order entered.
    pub codes: Vec<CodeStanding>,
}

/// Where the cart ships, as zones and rates see it.
pub fn destination(cart: &StoredCart) -> Option<Destination> {
    if let Some(address) = &cart.shipping_address {
        let region = address.region.as_deref().map(|r| {
            let r = r.trim().to_ascii_uppercase();
            if r.contains('-') {
                r
            } else {
                format!("{}-{r}", address.country)
            }
        });
        return Some(Destination {
            country: address.country.clone(),
            region,
            postcode: address.postal_code.clone(),
        });
    }
    cart.country.as_deref().map(Destination::country)
}

/// The company's own country: its shipping origin's, or its first tax registration's.
fn home(shipping: &Shipping, tax: &Tax) -> Option<String> {
    shipping
        .origin
        .as_ref()
        .map(|o| o.country.clone())
        .or_else(|| tax.registrations.first().map(|r| r.country.clone()))
}

fn relief(
    cart: &StoredCart,
    exempt: bool,
    destination: &Destination,
    home: Option<&str>,
) -> Option<TaxRelief> {
    if exempt {
        return Some(TaxRelief::CustomerExempt);
    }
    let business = cart.vat_number.as_deref().and_then(vat::country_of);
    let abroad = home.is_some_and(|h| h != destination.country);
    (business == Some(destination.country.as_str()) && vat::in_eu(&destination.country) && abroad)
        .then_some(TaxRelief::ReverseCharge)
}

/// What the company's settings and lists say about pricing a cart.
struct Context {
    tax: Arc<Tax>,
    shipping: Arc<Shipping>,
    currency: Currency,
    destination: Option<Destination>,
    relief: Option<TaxRelief>,
    rates: Arc<Vec<crate::tax::model::TaxRate>>,
    discounts: Arc<Vec<Discount>>,
}

async fn context(
    app: &App,
    tenant: &TenantId,
    cart: &StoredCart,
    buyer: &Buyer,
) -> Result<Context, CartError> {
    let tax = crate::settings::service::typed::<Tax>(app, tenant).await?;
    let shipping = crate::settings::service::typed::<Shipping>(app, tenant).await?;
    let currency = Currency::parse(&cart.currency)
        .ok_or_else(|| CartError::field("currency", "invalid", "not a currency"))?;
    let destination = destination(cart);
    let relief = destination
        .as_ref()
        .and_then(|d| relief(cart, buyer.exempt, d, home(&shipping, &tax).as_deref()));
    let rates = match &destination {
        Some(_) => crate::tax::service::cached(app, tenant)
            .await
            .map_err(|e| CartError::Tax(Box::new(e)))?,
        None => Arc::new(Vec::new()),
    };
    let discounts = crate::discounts::service::cached(app, tenant)
        .await
        .map_err(|e| CartError::Discount(Box::new(e)))?;
    Ok(Context {
        tax: Arc::new(tax),
        shipping: Arc::new(shipping),
        currency,
        destination,
        relief,
        rates,
        discounts,
    })
}

impl Context {
    fn class_of<'a>(&'a self, class: Option<&'a str>) -> &'a str {
        class.unwrap_or(&self.tax.default_tax_class)
    }

    /// Each line's unit price as charged (see the module).
    fn unit_prices(&self, cart: &StoredCart) -> Vec<i64> {
        cart.items
            .iter()
            .map(|item| match (&self.destination, self.relief) {
                (Some(destination), Some(_)) if self.tax.prices_include_tax => {
                    let class = self.class_of(item.tax_class.as_deref());
                    let rates = engine::applicable(&self.rates, destination, class);
                    let included: i64 = engine::inclusive(item.unit_price, &rates)
                        .iter()
                        .map(|c| c.amount)
                        .sum();
                    item.unit_price - included
                }
                _ => item.unit_price,
            })
            .collect()
    }

    fn lines(&self, cart: &StoredCart, unit_prices: &[i64]) -> Vec<LineInput> {
        cart.items
            .iter()
            .zip(unit_prices)
            .map(|(i, price)| LineInput {
                id: i.id.clone(),
                variant_id: i.variant_id.to_string(),
                product_id: i.product_id.to_string(),
                unit_price: *price,
                quantity: i.quantity,
                weight: i.weight,
            })
            .collect()
    }
}

fn too_large(e: pricing::PricingError) -> CartError {
    CartError::field("items", "too_large", e.to_string())
}

/// What the cart ships, priced on the lines' `subtotal` after discounts.
fn parcel(cart: &StoredCart, subtotal: i64) -> Parcel {
    Parcel {
        currency: cart.currency.clone(),
        subtotal,
        units: cart.items.iter().map(|i| i.quantity).sum(),
        weight: cart
            .items
            .iter()
            .map(|i| i.weight.unwrap_or(0.0) * i.quantity as f64)
            .sum(),
    }
}

/// The carrier's price for a carrier method (its fallback when the carrier fails or is late).
async fn carrier_quote(
    context: &Context,
    destination: &Destination,
    method: &Method,
    parcel: &Parcel,
) -> Option<i64> {
    let crate::shipping::model::Rate::Carrier { service, fallback } = &method.rate else {
        return None;
    };
    let settings = &context.shipping;
    let request = RateRequest {
        service: service.clone(),
        currency: parcel.currency.clone(),
        destination: destination.clone(),
        weight: parcel.weight + settings.default_package.weight as f64,
        package: settings.default_package.clone(),
        origin_country: settings.origin.as_ref().map(|o| o.country.clone()),
    };
    Some(carrier_price(&TableRates::of(settings), &request, *fallback, TIMEOUT).await)
}

/// The price of a method (already quoted by its carrier, if it is a carrier method) for a
/// subtotal after discounts: `None` when it is not offered for it.
fn priced_for(
    cart: &StoredCart,
    method: &Method,
    carrier: Option<i64>,
    subtotal: i64,
) -> Option<i64> {
    match table_price(method, &parcel(cart, subtotal))? {
        Some(price) => Some(price),
        None => carrier,
    }
}

/// The discounts the cart gets (see `discounts::engine`): the automatic ones that apply and the
/// codes it holds that apply, in their best combination; `method_id` is the shipping method and
/// `shipping_price` prices it for a subtotal after discounts.
fn discounts(
    context: &Context,
    app: &App,
    cart: &StoredCart,
    unit_prices: &[i64],
    buyer: &Buyer,
    method_id: Option<&str>,
    shipping_price: &dyn Fn(i64) -> Option<i64>,
) -> (Selection, Vec<AppliedDiscount>, Vec<CodeStanding>) {
    let lines: Vec<discount_engine::Line> = cart
        .items
        .iter()
        .zip(unit_prices)
        .map(|(item, price)| discount_engine::Line {
            product_id: item.product_id.as_str(),
            variant_id: item.variant_id.as_str(),
            categories: &item.category_ids,
            collections: &item.collection_ids,
            subtotal: price.saturating_mul(item.quantity),
            quantity: item.quantity,
        })
        .collect();
    let basket = Basket {
        currency: &cart.currency,
        lines: &lines,
        customer: cart.customer_id.as_ref().map(|c| c.as_str()),
        groups: &buyer.groups,
        now: app.clock.epoch_seconds(),
        method_id,
    };
    let mut candidates: Vec<&Discount> = Vec::new();
    let mut entered: Vec<bool> = Vec::new();
    let mut codes: Vec<(CodeStanding, Option<usize>)> = Vec::new();
    for d in context.discounts.iter() {
        if d.method == crate::discounts::model::DiscountMethod::Automatic
            && discount_engine::refusal(d, &basket).is_none()
        {
            candidates.push(d);
            entered.push(false);
        }
    }
    for held in &cart.discount_codes {
        let mut standing = CodeStanding {
            code: held.code.clone(),
            discount_id: held.discount_id.clone(),
            refusal: None,
        };
        // A code staff deleted applies no more.
        let found = context
            .discounts
            .iter()
            .filter(|_| !held.withdrawn)
            .find(|d| {
                d.id == held.discount_id
                    && d.method == crate::discounts::model::DiscountMethod::Code
            });
        let candidate = match found {
            None => {
                standing.refusal = Some(Refusal::NotFound);
                None
            }
            Some(d) => match discount_engine::refusal(d, &basket) {
                Some(refusal) => {
                    standing.refusal = Some(refusal);
                    None
                }
                // Two codes of one discount: it applies once, for the first.
                None => match candidates.iter().position(|c| c.id == d.id) {
                    Some(_) => {
                        standing.refusal = Some(Refusal::NotCombinable);
                        None
                    }
                    None => {
                        candidates.push(d);
                        entered.push(true);
                        Some(candidates.len() - 1)
                    }
                },
            },
        };
        codes.push((standing, candidate));
    }
    let selection = discount_engine::best(&candidates, &entered, &basket, shipping_price);
    let applied = selection
        .applied
        .iter()
        .map(|a| AppliedDiscount {
            discount: candidates[a.candidate].clone(),
            code: codes
                .iter()
                .find(|(_, c)| *c == Some(a.candidate))
                .map(|(s, _)| s.code.clone()),
            lines: a.lines.clone(),
            shipping: a.shipping,
        })
        .collect();
    let standings = codes
        .into_iter()
        .map(|(mut standing, candidate)| {
            if let Some(c) = candidate {
                if !selection.applies(c) {
                    standing.refusal = Some(Refusal::NotCombinable);
                }
            }
            standing
        })
        .collect();
    (selection, applied, standings)
}

/// The shipping options of the cart's destination (422 `address_required` without one).
pub async fn options(
    app: &App,
    tenant: &TenantId,
    cart: &StoredCart,
    buyer: &Buyer,
) -> Result<Vec<ShippingOption>, CartError> {
    let context = context(app, tenant, cart, buyer).await?;
    let Some(destination) = context.destination.clone() else {
        return Err(CartError::AddressRequired);
    };
    let zones = zones(app, tenant).await?;
    let Some(zone) = zone_of(&zones, &destination) else {
        return Ok(Vec::new());
    };
    let unit_prices = context.unit_prices(cart);
    let full: i64 = cart
        .items
        .iter()
        .zip(&unit_prices)
        .map(|(i, p)| p.saturating_mul(i.quantity))
        .sum();
    // Each method is priced as the cart would be with it chosen: on the subtotal after the
    // discounts the cart would get then (a free-shipping discount may change which apply).
    let mut offered = Vec::new();
    for method in &zone.methods {
        let carrier = carrier_quote(&context, &destination, method, &parcel(cart, full)).await;
        let shipping_price = |subtotal: i64| priced_for(cart, method, carrier, subtotal);
        let (selection, _, _) = discounts(
            &context,
            app,
            cart,
            &unit_prices,
            buyer,
            Some(&method.id),
            &shipping_price,
        );
        if let Some(amount) = selection.shipping_price {
            offered.push(option(zone, method, amount));
        }
    }
    offered.sort_by(|a, b| a.amount.cmp(&b.amount).then(a.name.cmp(&b.name)));
    Ok(offered)
}

fn option(zone: &Zone, method: &Method, amount: i64) -> ShippingOption {
    ShippingOption {
        id: method.id.clone(),
        name: method.name.clone(),
        amount,
        currency: method.currency.clone(),
        delivery_days: method.delivery_days,
        zone_id: zone.id.clone(),
        zone_name: zone.name.clone(),
    }
}

async fn zones(app: &App, tenant: &TenantId) -> Result<Arc<Vec<Zone>>, CartError> {
    crate::shipping::service::cached(app, tenant)
        .await
        .map_err(|e| CartError::Shipping(Box::new(e)))
}

/// The option `id` of the cart's destination, priced for it (`None`: not offered to it).
pub async fn offered_option(
    app: &App,
    tenant: &TenantId,
    cart: &StoredCart,
    buyer: &Buyer,
    id: &str,
) -> Result<Option<ShippingOption>, CartError> {
    Ok(options(app, tenant, cart, buyer)
        .await?
        .into_iter()
        .find(|o| o.id == id))
}

/// Prices the cart (see the module).
pub async fn price(
    app: &App,
    tenant: &TenantId,
    cart: &StoredCart,
    buyer: &Buyer,
) -> Result<Priced, CartError> {
    let context = context(app, tenant, cart, buyer).await?;
    let unit_prices = context.unit_prices(cart);
    let lines = context.lines(cart, &unit_prices);
    let input = PricingInput {
        currency: context.currency,
        prices_include_tax: context.tax.prices_include_tax,
        lines: &lines,
    };
    // The chosen method, if its zone still offers it, quoted by its carrier once.
    let mut method = None;
    let mut carrier = None;
    if let (Some(chosen), Some(destination)) = (&cart.shipping_method, &context.destination) {
        let zones = zones(app, tenant).await?;
        method = zone_of(&zones, destination)
            .and_then(|zone| zone.methods.iter().find(|m| m.id == chosen.id))
            .cloned();
        if let Some(m) = &method {
            let full: i64 = lines
                .iter()
                .map(|l| l.unit_price.saturating_mul(l.quantity))
                .sum();
            carrier = carrier_quote(&context, destination, m, &parcel(cart, full)).await;
        }
    }
    let shipping_price =
        |subtotal: i64| -> Option<i64> { priced_for(cart, method.as_ref()?, carrier, subtotal) };
    // 1. The discounts, and the method's price after them.
    let chosen_id = cart.shipping_method.as_ref().map(|m| m.id.as_str());
    let (selection, applied, codes) = discounts(
        &context,
        app,
        cart,
        &unit_prices,
        buyer,
        chosen_id,
        &shipping_price,
    );
    let shipping = match (&method, selection.shipping_price) {
        (Some(m), Some(amount)) => Some(ChosenShipping {
            id: m.id.clone(),
            name: m.name.clone(),
            amount,
            delivery_days: m.delivery_days,
        }),
        _ => None,
    };
    let method_lost = cart.shipping_method.is_some() && shipping.is_none();
    let shipping_amount = shipping.as_ref().map_or(0, |s| s.amount);
    let fixed_discounts = FixedDiscounts {
        lines: selection.lines.clone(),
        shipping: selection.shipping,
    };
    // 2. What is taxed.
    let with_shipping = pricing::compute(
        &input,
        &Adjusters {
            discounts: &fixed_discounts,
            shipping: &FixedShipping(shipping_amount),
            tax: &NoTax,
        },
    )
    .map_err(too_large)?;
    // 3. The taxes.
    let answer = match (&context.destination, context.relief) {
        (Some(destination), None) => {
            let request = TaxRequest {
                currency: context.currency.code(),
                prices_include_tax: context.tax.prices_include_tax,
                destination: destination.clone(),
                lines: cart
                    .items
                    .iter()
                    .zip(&with_shipping.lines)
                    .map(|(item, line)| Taxable {
                        id: item.id.clone(),
                        tax_class: context.class_of(item.tax_class.as_deref()).to_owned(),
                        amount: line.subtotal - line.discount,
                    })
                    .collect(),
                shipping: (context.tax.tax_on_shipping && shipping.is_some()).then(|| Taxable {
                    id: "shipping".into(),
                    tax_class: context.tax.shipping_tax_class.clone(),
                    amount: with_shipping.shipping.amount - with_shipping.shipping.discount,
                }),
                rates: context.rates.clone(),
            };
            let provider = tax_provider::for_company(&context.tax);
            tax_provider::taxes(provider.as_ref(), &request, tax_provider::TIMEOUT).await
        }
        _ => tax_provider::TaxAnswer {
            lines: vec![Vec::new(); cart.items.len()],
            shipping: Vec::new(),
        },
    };
    let sum = |charges: &[Charge]| charges.iter().map(|c| c.amount).sum::<i64>();
    let outcome = TaxOutcome {
        lines: answer.lines.iter().map(|c| sum(c)).collect(),
        shipping: sum(&answer.shipping),
    };
    let totals = pricing::compute(
        &input,
        &Adjusters {
            discounts: &fixed_discounts,
            shipping: &FixedShipping(shipping_amount),
            tax: &FixedTax(outcome),
        },
    )
    .map_err(too_large)?;
    Ok(Priced {
        totals,
        unit_prices,
        line_taxes: answer.lines,
        shipping_taxes: answer.shipping,
        shipping,
        method_lost,
        relief: context.relief,
        discounts: applied,
        codes,
    })
}
