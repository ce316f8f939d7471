//! Keeps what the storefront shows about stock in step with it.
//!
//! Every level change moves the product's stock summary in its own transaction (see
//! `store::level_change_ops`), so the product page, which sums the summaries on read, is exact.
//! What the summaries cannot say is which locations sell online, and the listing cannot read
//! them at all. So after a stock change commits, [`publish`] reads each touched product's
//! partition (one query) and, when something the storefront shows has moved, writes the
//! product's availability record (the selling locations, the listing's statuses) and, when a
//! status changed, the product's listing entries, in one transaction conditioned on the record
//! and the product's version. A publication that loses a race reads again; the last stock change
//! of a product is therefore always published by its own request. A request that stops between
//! its stock transaction and the publication leaves the listing behind until the product's next
//! stock change or edit; the product page is never behind.

use super::errors::InventoryError;
use super::model::Location;
use super::store;
use crate::app::App;
use crate::identity::TenantId;
use crate::ids::{LocationId, ProductId};
use crate::settings::groups::Inventory;

/// The locations whose stock the storefront sells: active, open, fulfilling online orders,
/// highest priority first (the order reservations take units in).
pub fn selling(locations: Vec<(Location, bool)>) -> Vec<LocationId> {
    let mut selling: Vec<Location> = locations
        .into_iter()
        .filter(|(l, open)| *open && l.active && l.fulfils_online_orders)
        .map(|(l, _)| l)
        .collect();
    selling.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
    selling.into_iter().map(|l| l.id).collect()
}

/// Publishes the availability of `products` (see the module). `selling` is the selling
/// locations when the caller has just read them. Failures are logged, not returned: the stock
/// change itself has committed, and the next one publishes again.
pub async fn publish(
    app: &App,
    tenant: &TenantId,
    products: &[ProductId],
    selling_now: Option<&[LocationId]>,
) {
    if products.is_empty() {
        return;
    }
    if let Err(error) = try_publish(app, tenant, products, selling_now).await {
        tracing::warn!(%error, "storefront availability not published; the next change will");
    }
}

async fn try_publish(
    app: &App,
    tenant: &TenantId,
    products: &[ProductId],
    selling_now: Option<&[LocationId]>,
) -> Result<(), InventoryError> {
    let selling: Vec<String> = match selling_now {
        Some(ids) => ids.iter().map(ToString::to_string).collect(),
        None => selling(store::all_locations(app.table.as_ref(), tenant).await?)
            .iter()
            .map(ToString::to_string)
            .collect(),
    };
    let settings = crate::settings::service::typed::<Inventory>(app, tenant).await?;
    let mut done: Vec<&ProductId> = Vec::new();
    for product in products {
        if done.contains(&product) {
            continue;
        }
        done.push(product);
        crate::catalog::service::publish_availability(
            app,
            tenant,
            product,
            Some(&selling),
            &settings,
        )
        .await?;
    }
    Ok(())
}
