//! Where payments live.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | payment (with its transactions) | `T#<t>#PAYMENT#<payment id>` | `PAYMENT` |
//!
//! A payment and its short history are one item: every change is one `Put` at the version read,
//! so two changes racing (two refunds) cannot both pass the ledger's checks.

use super::model::Payment;
use crate::identity::TenantId;
use crate::store::{self, Condition, Key, StoreError, Table, TxOp};

pub const PAYMENT: &str = "payment";

pub fn payment_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(format!("T#{tenant}#PAYMENT#{id}"), "PAYMENT")
}

/// Writes a payment: new (`expected`: `None`) or over the version read.
pub fn payment_put(tenant: &TenantId, payment: &Payment, expected: Option<u64>) -> TxOp {
    TxOp::Put {
        item: store::to_item(&payment_key(tenant, &payment.id), PAYMENT, payment),
        condition: Some(match expected {
            None => Condition::NotExists,
            Some(v) => Condition::VersionIs(v),
        }),
    }
}

pub async fn payment(
    table: &dyn Table,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<Payment>, StoreError> {
    table
        .get(&payment_key(tenant, id))
        .await?
        .map(store::from_item)
        .transpose()
}
