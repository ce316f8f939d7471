//! Where carts live.
//!
//! | item | pk | sk | gsi1 (pk / sk) | gsi2 (pk / sk) |
//! |---|---|---|---|---|
//! | cart (header and lines) | `T#<t>#CART#<cart id>` | `CART` | `T#<t>#CARTS` / `<updated at>#<cart id>` | a customer's: `T#<t>#CUSTOMER_CARTS#<customer id>` / `<status>#<updated at>#<cart id>` |
//!
//! A cart's lines live in its one item (at most 100 small lines), so reading a cart is one
//! `GetItem` and every change is one `Put` conditioned on the version read. Its stock is
//! reserved by inventory under the cart's id as holder, in the same transaction.

use super::model::StoredCart;
use crate::identity::TenantId;
use crate::ids::CartId;
use crate::store::{self, attr, Condition, Key, StoreError, Table, TxOp};

pub const CART: &str = "cart";

fn cart_key(tenant: &TenantId, id: &CartId) -> Key {
    Key::new(format!("T#{tenant}#CART#{id}"), "CART")
}

pub async fn cart(
    table: &dyn Table,
    tenant: &TenantId,
    id: &CartId,
) -> Result<Option<StoredCart>, StoreError> {
    table
        .get(&cart_key(tenant, id))
        .await?
        .map(store::from_item)
        .transpose()
}

/// Writes a cart (at its new version) over the version read, or as new (`expected`: `None`).
pub fn cart_put(tenant: &TenantId, cart: &StoredCart, expected: Option<u64>) -> TxOp {
    let mut item = store::to_item(&cart_key(tenant, &cart.id), CART, cart);
    item.insert(attr::GSI1PK.into(), format!("T#{tenant}#CARTS").into());
    item.insert(
        attr::GSI1SK.into(),
        format!("{}#{}", cart.updated_at, cart.id).into(),
    );
    if let Some(customer) = &cart.customer_id {
        item.insert(
            attr::GSI2PK.into(),
            format!("T#{tenant}#CUSTOMER_CARTS#{customer}").into(),
        );
        item.insert(
            attr::GSI2SK.into(),
            format!("{}#{}#{}", cart.status.as_str(), cart.updated_at, cart.id).into(),
        );
    }
    TxOp::Put {
        item,
        condition: Some(match expected {
            None => Condition::NotExists,
            Some(v) => Condition::VersionIs(v),
        }),
    }
}
