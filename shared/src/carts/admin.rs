//! Carts as staff see them: one cart, and the company's carts filtered (abandoned ones with an
//! email, for reminders).

use super::errors::CartError;
use super::model::{Cart, CartStatus, StoredCart};
use super::service::{shown, view};
use super::store;
use crate::app::App;
use crate::identity::TenantId;
use crate::ids::{CartId, CustomerId};
use crate::validate::Errors;
use serde::Deserialize;

/// A cart as staff see it: priced as stored (a read by staff changes nothing and reads no
/// catalog).
pub async fn admin_get(app: &App, tenant: &TenantId, id: &str) -> Result<Cart, CartError> {
    let id = CartId::parse(id).ok_or(CartError::NotFound("cart"))?;
    let cart = store::cart(app.table.as_ref(), tenant, &id)
        .await?
        .ok_or(CartError::NotFound("cart"))?;
    view(app, tenant, &shown(cart, app), &[]).await
}

/// How long a cart with an email and items stays unchanged before it counts as abandoned.
pub const ABANDONED_AFTER_SECONDS: i64 = 3600;

/// What staff filter carts by (`GET /admin/carts`).
#[derive(Debug, Default, Deserialize)]
pub struct CartFilter {
    pub status: Option<CartStatus>,
    pub customer_id: Option<String>,
    /// RFC 3339: changed at or after.
    pub updated_after: Option<String>,
    /// RFC 3339: changed at or before.
    pub updated_before: Option<String>,
    /// Carts with an email and items, open but unchanged for an hour, or expired.
    #[serde(default)]
    pub abandoned: bool,
}

impl CartFilter {
    fn keeps(&self, cart: &StoredCart, now_epoch: i64) -> bool {
        if self.status.is_some_and(|s| s != cart.status) {
            return false;
        }
        if self.abandoned {
            let updated = time::OffsetDateTime::parse(
                &cart.updated_at,
                &time::format_description::well_known::Rfc3339,
            )
            .map_or(now_epoch, |t| t.unix_timestamp());
            let quiet = now_epoch - updated >= ABANDONED_AFTER_SECONDS;
            let left =
                cart.status == CartStatus::Expired || (cart.status == CartStatus::Open && quiet);
            return left && cart.email.is_some() && !cart.items.is_empty();
        }
        true
    }
}

/// A page of the company's carts, most recently changed first, filtered (see [`CartFilter`]).
/// Filters other than the customer and the time range apply to each page read, so a page may
/// be short while more follow.
pub async fn admin_list(
    app: &App,
    tenant: &TenantId,
    filter: &CartFilter,
    limit: u32,
    after: Option<crate::store::Item>,
) -> Result<(Vec<Cart>, Option<crate::store::Item>), CartError> {
    let mut errors = Errors::new();
    for (field, value) in [
        ("updated_after", &filter.updated_after),
        ("updated_before", &filter.updated_before),
    ] {
        if value.as_deref().is_some_and(|v| {
            time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).is_err()
        }) {
            errors.push(crate::http::FieldError::new(
                field,
                "invalid",
                "an RFC 3339 date and time, e.g. 2026-12-01T00:00:00Z",
            ));
        }
    }
    let customer = match &filter.customer_id {
        Some(raw) => match CustomerId::parse(raw) {
            Some(id) => Some(id),
            None => {
                errors.push(crate::http::FieldError::new(
                    "customer_id",
                    "invalid",
                    "not a customer id",
                ));
                None
            }
        },
        None => None,
    };
    errors.into_result()?;
    let of = match &customer {
        Some(customer) => store::CartsOf::Customer {
            customer,
            status: filter.status,
        },
        None => store::CartsOf::Company {
            from: filter.updated_after.as_deref(),
            to: filter.updated_before.as_deref(),
        },
    };
    let (carts, last) = store::cart_page(app.table.as_ref(), tenant, of, limit, after).await?;
    let now = app.clock.epoch_seconds();
    let mut shown_carts = Vec::new();
    for cart in carts {
        let cart = shown(cart, app);
        if filter.keeps(&cart, now) {
            shown_carts.push(view(app, tenant, &cart, &[]).await?);
        }
    }
    Ok((shown_carts, last))
}
