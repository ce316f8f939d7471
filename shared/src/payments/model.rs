//! Payments as stored: one record per payment (`pay_`), with an append-only list of what
//! happened to the money, and the status that list amounts to.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a payment's money stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing authorized yet (a session waiting for the shopper, or for an action).
    Pending,
    /// Authorized, nothing captured.
    Authorized,
    /// Part of the authorized amount captured.
    PartiallyPaid,
    /// The whole amount captured.
    Paid,
    /// Part of what was captured refunded.
    PartiallyRefunded,
    /// Everything captured refunded.
    Refunded,
    /// The authorization released without a capture.
    Voided,
}

/// What happened to a payment's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    Authorization,
    Capture,
    Void,
    Refund,
}

/// One entry of a payment's history; entries are only ever added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Transaction {
    /// `ptx_<ULID>`
    pub id: String,
    pub kind: TransactionKind,
    /// Minor units of the payment's currency (a void moves none: 0).
    pub amount: i64,
    /// The provider's own reference for it.
    pub provider_reference: Option<String>,
    /// RFC 3339.
    pub at: String,
}

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    /// `pay_<ULID>`
    pub id: String,
    /// `manual`, `test` (sandbox), `stripe`.
    pub provider: String,
    pub currency: String,
    /// What the payment is for, in minor units (the cart's or order's grand total).
    pub amount: i64,
    pub status: PaymentStatus,
    /// The provider's reference for the payment (a session, an intent).
    pub provider_reference: Option<String>,
    pub transactions: Vec<Transaction>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
    /// Epoch seconds until which one money step (a capture, a refund, a void) holds the payment
    /// while it asks the provider: a second step meanwhile answers 409 instead of asking too.
    #[serde(default)]
    pub locked_until: i64,
}

impl Payment {
    fn sum(&self, kind: TransactionKind) -> i64 {
        self.transactions
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| t.amount)
            .sum()
    }

    pub fn authorized(&self) -> i64 {
        self.sum(TransactionKind::Authorization)
    }

    pub fn captured(&self) -> i64 {
        self.sum(TransactionKind::Capture)
    }

    pub fn refunded(&self) -> i64 {
        self.sum(TransactionKind::Refund)
    }

    pub fn voided(&self) -> bool {
        self.transactions
            .iter()
            .any(|t| t.kind == TransactionKind::Void)
    }
}
