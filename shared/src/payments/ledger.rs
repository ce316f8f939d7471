//! The rules of a payment's money, pure: what may happen next given what already happened, and
//! the status that history amounts to. Every change to a payment goes through [`record`], so
//! no capture exceeds what was authorized, no refund exceeds what was captured less earlier
//! refunds, and nothing follows a void.
//!
//! | from | authorization | capture (≤ authorized − captured) | void | refund (≤ captured − refunded) |
//! |---|---|---|---|---|
//! | `pending` | yes | no | yes | no |
//! | `authorized` | no | yes | yes | no |
//! | `partially_paid` | no | yes | no | yes |
//! | `paid` | no | no | no | yes |
//! | `partially_refunded` | no | no (captures end at the first refund) | no | yes |
//! | `refunded`, `voided` | no | no | no | no |

use super::model::{Payment, PaymentStatus, Transaction, TransactionKind};

/// Why a change to a payment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("a payment that is {from} cannot take a {kind}")]
    InvalidTransition {
        from: &'static str,
        kind: &'static str,
    },
    #[error("the amount must be above zero")]
    NotPositive,
    #[error("{wanted} is more than the {left} left to {kind}")]
    TooMuch {
        kind: &'static str,
        wanted: i64,
        left: i64,
    },
}

pub fn status_name(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Pending => "pending",
        PaymentStatus::Authorized => "authorized",
        PaymentStatus::PartiallyPaid => "partially_paid",
        PaymentStatus::Paid => "paid",
        PaymentStatus::PartiallyRefunded => "partially_refunded",
        PaymentStatus::Refunded => "refunded",
        PaymentStatus::Voided => "voided",
    }
}

fn kind_name(kind: TransactionKind) -> &'static str {
    match kind {
        TransactionKind::Authorization => "authorization",
        TransactionKind::Capture => "capture",
        TransactionKind::Void => "void",
        TransactionKind::Refund => "refund",
    }
}

/// The status a payment's history amounts to.
pub fn status_of(payment: &Payment) -> PaymentStatus {
    let (authorized, captured, refunded) =
        (payment.authorized(), payment.captured(), payment.refunded());
    if payment.voided() {
        PaymentStatus::Voided
    } else if refunded > 0 && refunded >= captured {
        PaymentStatus::Refunded
    } else if refunded > 0 {
        PaymentStatus::PartiallyRefunded
    } else if captured > 0 && captured >= authorized {
        PaymentStatus::Paid
    } else if captured > 0 {
        PaymentStatus::PartiallyPaid
    } else if authorized > 0 {
        PaymentStatus::Authorized
    } else {
        PaymentStatus::Pending
    }
}

/// How much of `kind` may be recorded now (`Err`: none, the transition is not allowed).
pub fn room(payment: &Payment, kind: TransactionKind) -> Result<i64, LedgerError> {
    let status = status_of(payment);
    let refused = || LedgerError::InvalidTransition {
        from: status_name(status),
        kind: kind_name(kind),
    };
    use PaymentStatus as S;
    use TransactionKind as K;
    match (status, kind) {
        (S::Pending, K::Authorization) => Ok(payment.amount),
        (S::Pending | S::Authorized, K::Void) => Ok(0),
        (S::Authorized | S::PartiallyPaid, K::Capture) => {
            Ok(payment.authorized() - payment.captured())
        }
        (S::PartiallyPaid | S::Paid | S::PartiallyRefunded, K::Refund) => {
            Ok(payment.captured() - payment.refunded())
        }
        _ => Err(refused()),
    }
}

/// Records a transaction on the payment (answering its new status), or refuses it with the
/// payment unchanged.
pub fn record(payment: &mut Payment, entry: Transaction) -> Result<PaymentStatus, LedgerError> {
    let left = room(payment, entry.kind)?;
    if entry.kind != TransactionKind::Void {
        if entry.amount <= 0 {
            return Err(LedgerError::NotPositive);
        }
        if entry.amount > left {
            return Err(LedgerError::TooMuch {
                kind: kind_name(entry.kind),
                wanted: entry.amount,
                left,
            });
        }
    }
    payment.transactions.push(entry);
    payment.status = status_of(payment);
    Ok(payment.status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payment(amount: i64) -> Payment {
        Payment {
            id: "pay_1".into(),
            provider: "test".into(),
            currency: "EUR".into(),
            amount,
            status: PaymentStatus::Pending,
            provider_reference: None,
            transactions: Vec::new(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
            locked_until: 0,
        }
    }

    fn entry(kind: TransactionKind, amount: i64) -> Transaction {
        Transaction {
            id: "ptx".into(),
            kind,
            amount,
            provider_reference: None,
            at: String::new(),
        }
    }

    #[test]
    fn a_payment_moves_through_capture_and_refunds() {
        let mut p = payment(10_000);
        use TransactionKind::*;
        assert_eq!(
            record(&mut p, entry(Capture, 1)),
            Err(LedgerError::InvalidTransition {
                from: "pending",
                kind: "capture"
            })
        );
        assert_eq!(
            record(&mut p, entry(Authorization, 10_000)),
            Ok(PaymentStatus::Authorized)
        );
        assert_eq!(
            record(&mut p, entry(Capture, 4_000)),
            Ok(PaymentStatus::PartiallyPaid)
        );
        assert_eq!(
            record(&mut p, entry(Capture, 6_001)),
            Err(LedgerError::TooMuch {
                kind: "capture",
                wanted: 6_001,
                left: 6_000
            })
        );
        assert_eq!(
            record(&mut p, entry(Capture, 6_000)),
            Ok(PaymentStatus::Paid)
        );
        assert!(
            record(&mut p, entry(Void, 0)).is_err(),
            "no void after a capture"
        );
        assert_eq!(
            record(&mut p, entry(Refund, 2_500)),
            Ok(PaymentStatus::PartiallyRefunded)
        );
        assert!(record(&mut p, entry(Refund, 7_501)).is_err());
        assert_eq!(
            record(&mut p, entry(Refund, 7_500)),
            Ok(PaymentStatus::Refunded)
        );
        assert!(record(&mut p, entry(Refund, 1)).is_err());
        assert_eq!(p.transactions.len(), 5, "refusals leave no entry");
    }

    #[test]
    fn a_void_ends_an_authorization() {
        let mut p = payment(500);
        record(&mut p, entry(TransactionKind::Authorization, 500)).unwrap();
        assert_eq!(
            record(&mut p, entry(TransactionKind::Void, 0)),
            Ok(PaymentStatus::Voided)
        );
        assert!(record(&mut p, entry(TransactionKind::Capture, 500)).is_err());
    }

    proptest! {
        /// Whatever is attempted in whatever order, captures never pass the authorization and
        /// refunds never pass the captures.
        #[test]
        fn money_never_exceeds_what_came_before(
            amount in 1i64..1_000_000,
            steps in proptest::collection::vec((0u8..4, 0i64..1_200_000), 0..30),
        ) {
            let mut p = payment(amount);
            for (kind, value) in steps {
                let kind = match kind {
                    0 => TransactionKind::Authorization,
                    1 => TransactionKind::Capture,
                    2 => TransactionKind::Void,
                    _ => TransactionKind::Refund,
                };
                let before = p.clone();
                match record(&mut p, entry(kind, value)) {
                    Ok(status) => prop_assert_eq!(status, status_of(&p)),
                    Err(_) => prop_assert_eq!(&p, &before),
                }
                prop_assert!(p.authorized() <= amount);
                prop_assert!(p.captured() <= p.authorized());
                prop_assert!(p.refunded() <= p.captured());
            }
        }
    }
}
