//! Carts and the customers who own them: a customer's open carts, and a guest cart given to
//! the customer on sign-in (merged with the one they already had).

use super::errors::CartError;
use super::model::{Cart, CartStatus, StoredCart, MAX_LINES, MAX_QUANTITY};
use super::service::{epoch_rfc3339, shown, updated_event, usable, view, visible, Shopper};
use super::store;
use crate::app::App;
use crate::clock::rfc3339;
use crate::identity::TenantId;
use crate::ids::CustomerId;
use crate::inventory::reservations;
use crate::settings::groups::Checkout;

/// Up to `limit` of a customer's carts listed open (most recently changed first; some may
/// have expired since).
async fn listed_open(
    app: &App,
    tenant: &TenantId,
    customer: &CustomerId,
    limit: u32,
) -> Result<Vec<StoredCart>, CartError> {
    let (carts, _) = store::cart_page(
        app.table.as_ref(),
        tenant,
        store::CartsOf::Customer {
            customer,
            status: Some(CartStatus::Open),
        },
        limit,
        None,
    )
    .await?;
    Ok(carts)
}

/// The signed-in customer's open carts (most recently changed first).
pub async fn customer_carts(
    app: &App,
    tenant: &TenantId,
    customer: &CustomerId,
) -> Result<Vec<Cart>, CartError> {
    let carts = listed_open(app, tenant, customer, 20).await?;
    let mut open = Vec::new();
    for cart in carts {
        let cart = shown(cart, app);
        if cart.status == CartStatus::Open {
            open.push(view(app, tenant, &cart, &[]).await?);
        }
    }
    Ok(open)
}

/// Gives a guest cart to the signed-in customer (a storefront calls it on sign-in). When the
/// customer already has an open cart, the two merge: the older one's lines join the newer one
/// (quantities add, the reservations move with them, no stock is taken again) and the older
/// closes as `merged`. Answers the cart the customer goes on with. Idempotent: a cart already
/// the customer's is answered as it is, and one merged already answers the customer's open cart
/// it went into (409 `cart_closed` when there is none any more). A merge whose cart pricing
/// would refuse (a total past what an amount may hold) is refused before anything moves.
pub async fn attach(
    app: &App,
    tenant: &TenantId,
    customer: &CustomerId,
    id: &str,
) -> Result<Cart, CartError> {
    let checkout = crate::settings::service::typed::<Checkout>(app, tenant).await?;
    // A disabled or erased account's token takes no cart.
    let account = crate::customers::account::load_active(app, tenant, customer.as_str())
        .await
        .map_err(CartError::Customer)?;
    let account_email = account
        .customer
        .email
        .as_deref()
        .map(crate::validate::normalize_email);
    let me = Shopper {
        customer: Some(customer.clone()),
    };
    'attempts: for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let guest = visible(app, tenant, &me, id).await?;
        let now_epoch = app.clock.epoch_seconds();
        if guest.customer_id.is_some() {
            // Already the customer's (a repeated call): the cart itself, or the open one it
            // merged into.
            if guest.status != CartStatus::Merged {
                usable(&guest, now_epoch)?;
                return view(app, tenant, &shown(guest, app), &[]).await;
            }
            let mine = listed_open(app, tenant, customer, 5).await?;
            return match mine.into_iter().find(|c| c.expires_epoch > now_epoch) {
                Some(open) => view(app, tenant, &open, &[]).await,
                None => Err(CartError::Closed("merged")),
            };
        }
        usable(&guest, now_epoch)?;
        let mine = listed_open(app, tenant, customer, 5).await?;
        let other = mine
            .into_iter()
            .find(|c| c.id != guest.id && c.expires_epoch > now_epoch);
        let now = rfc3339(app.clock.now());
        let expires_epoch = now_epoch + checkout.cart_lifetime_seconds;
        let touch = |cart: &StoredCart| {
            let mut next = cart.clone();
            next.version = cart.version + 1;
            next.updated_at = now.clone();
            next
        };
        let Some(other) = other else {
            let mut cart = touch(&guest);
            cart.customer_id = Some(customer.clone());
            // A cart without an email takes the account's, as a new cart of theirs does.
            if cart.email.is_none() {
                cart.email = account_email.clone();
            }
            cart.expires_epoch = expires_epoch;
            cart.expires_at = epoch_rfc3339(expires_epoch);
            match app
                .table
                .transact(vec![
                    store::cart_put(tenant, &cart, Some(guest.version)),
                    updated_event(app, tenant, &cart),
                ])
                .await
            {
                Ok(()) => return view(app, tenant, &cart, &[]).await,
                Err(crate::store::StoreError::TransactionCancelled { .. })
                | Err(crate::store::StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        // The newer cart goes on; the older one's lines join it.
        let (older, newer) = if other.updated_at <= guest.updated_at {
            (other, guest)
        } else {
            (guest, other)
        };
        let mut survivor = touch(&newer);
        survivor.customer_id = Some(customer.clone());
        if survivor.email.is_none() {
            survivor.email = older.email.clone().or_else(|| account_email.clone());
        }
        survivor.expires_epoch = expires_epoch;
        survivor.expires_at = epoch_rfc3339(expires_epoch);
        for item in &older.items {
            let at = survivor
                .items
                .iter()
                .position(|i| i.variant_id == item.variant_id);
            match at {
                Some(at) => {
                    let line = &mut survivor.items[at];
                    line.quantity = (line.quantity + item.quantity).min(MAX_QUANTITY);
                }
                None if survivor.items.len() < MAX_LINES => survivor.items.push(item.clone()),
                None => return Err(CartError::TooManyLines { max: MAX_LINES }),
            }
        }
        // The older cart's discount codes come along (the cart holds at most five); a code that
        // does not apply to the merged cart stays on it, inactive, with its reason.
        for code in &older.discount_codes {
            if survivor.discount_codes.len() < super::model::MAX_CODES
                && !survivor.discount_codes.iter().any(|c| c.code == code.code)
            {
                survivor.discount_codes.push(code.clone());
            }
        }
        // Priced before anything moves: a merged cart pricing would refuse is never written.
        let buyer = super::service::exemption(app, tenant, Some(customer)).await?;
        super::pricing::price(app, tenant, &survivor, &buyer).await?;
        let mut closed = touch(&older);
        closed.status = CartStatus::Merged;
        closed.customer_id = Some(customer.clone());
        let moves = loop {
            let moves = reservations::move_holding_ops(
                app,
                tenant,
                older.id.as_str(),
                newer.id.as_str(),
                now_epoch + checkout.reservation_window_seconds,
            )
            .await?;
            if moves.complete {
                break moves;
            }
            // More lines than one transaction moves: the first ones move ahead of the carts.
            // Should this stop here, the carts are as they were and a repeated call moves the
            // rest (either cart's next change also puts its own reservation right).
            match app.table.transact(moves.ops).await {
                Ok(()) => {}
                Err(crate::store::StoreError::TransactionCancelled { .. })
                | Err(crate::store::StoreError::Conflict) => continue 'attempts,
                Err(e) => return Err(e.into()),
            }
        };
        survivor.reservation = moves.after.copy();
        closed.reservation = None;
        let mut ops = vec![
            store::cart_put(tenant, &survivor, Some(newer.version)),
            updated_event(app, tenant, &survivor),
            store::cart_put(tenant, &closed, Some(older.version)),
        ];
        ops.extend(moves.ops);
        match app.table.transact(ops).await {
            Ok(()) => return view(app, tenant, &survivor, &[]).await,
            Err(crate::store::StoreError::TransactionCancelled { .. })
            | Err(crate::store::StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CartError::Busy)
}
