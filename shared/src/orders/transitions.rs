//! What may happen to an order in each of its states: one explicit table, pure. Every route
//! that changes an order asks [`check`] first and answers 409 `invalid_transition` when the
//! table says no; the payment's own money rules (`payments::ledger`) then hold the amounts.
//!
//! An order has three statuses: its own, its payment's and its fulfilment's.
//!
//! | action | order must be | payment must be | fulfilment must be |
//! |---|---|---|---|
//! | `capture` | `open` | `authorized`, `partially_paid` | any |
//! | `mark_paid` (manual provider) | `open` | `pending`, `authorized`, `partially_paid` | any |
//! | `fulfil` | `open` | any but `voided`, `refunded` | `unfulfilled`, `partially_fulfilled` |
//! | `cancel_fulfilment` | `open`, `completed` | any | `partially_fulfilled`, `fulfilled` |
//! | `return` | `open`, `completed` | any | `partially_fulfilled`, `fulfilled`, `partially_returned` |
//! | `refund` | `open`, `completed`, `canceled` | `partially_paid`, `paid`, `partially_refunded` | any |
//! | `cancel` | `open` | any but `refunded` | `unfulfilled` |
//! | `archive` | `completed`, `canceled` | any | any |
//! | `unarchive` | `archived` | any | any |
//! | `add_note` | any | any | any |
//!
//! An open order becomes `completed` by itself once it is paid (or refunded) and fulfilled (or
//! returned): see [`settled`].

use crate::payments::model::PaymentStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Completed,
    Canceled,
    Archived,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    Unfulfilled,
    PartiallyFulfilled,
    Fulfilled,
    PartiallyReturned,
    Returned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Capture,
    MarkPaid,
    Fulfil,
    CancelFulfilment,
    Return,
    Refund,
    Cancel,
    Archive,
    Unarchive,
    AddNote,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Capture => "capture",
            Action::MarkPaid => "mark_paid",
            Action::Fulfil => "fulfil",
            Action::CancelFulfilment => "cancel_fulfilment",
            Action::Return => "return",
            Action::Refund => "refund",
            Action::Cancel => "cancel",
            Action::Archive => "archive",
            Action::Unarchive => "unarchive",
            Action::AddNote => "add_note",
        }
    }
}

/// An order's three statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub order: OrderStatus,
    pub payment: PaymentStatus,
    pub fulfillment: FulfillmentStatus,
}

/// Why the table refuses an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {order}, with payment {payment} and fulfilment {fulfillment}, cannot {action}")]
pub struct InvalidTransition {
    pub action: &'static str,
    pub order: String,
    pub payment: String,
    pub fulfillment: String,
}

fn name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Whether `action` may happen to an order standing so (see the module's table).
pub fn check(standing: Standing, action: Action) -> Result<(), InvalidTransition> {
    use FulfillmentStatus as F;
    use OrderStatus as O;
    use PaymentStatus as P;
    let Standing {
        order,
        payment,
        fulfillment,
    } = standing;
    let allowed = match action {
        Action::Capture => order == O::Open && matches!(payment, P::Authorized | P::PartiallyPaid),
        Action::MarkPaid => {
            order == O::Open && matches!(payment, P::Pending | P::Authorized | P::PartiallyPaid)
        }
        Action::Fulfil => {
            order == O::Open
                && !matches!(payment, P::Voided | P::Refunded)
                && matches!(fulfillment, F::Unfulfilled | F::PartiallyFulfilled)
        }
        Action::CancelFulfilment => {
            matches!(order, O::Open | O::Completed)
                && matches!(fulfillment, F::PartiallyFulfilled | F::Fulfilled)
        }
        Action::Return => {
            matches!(order, O::Open | O::Completed)
                && matches!(
                    fulfillment,
                    F::PartiallyFulfilled | F::Fulfilled | F::PartiallyReturned
                )
        }
        Action::Refund => {
            matches!(order, O::Open | O::Completed | O::Canceled)
                && matches!(payment, P::PartiallyPaid | P::Paid | P::PartiallyRefunded)
        }
        Action::Cancel => {
            order == O::Open && payment != P::Refunded && fulfillment == F::Unfulfilled
        }
        Action::Archive => matches!(order, O::Completed | O::Canceled),
        Action::Unarchive => order == O::Archived,
        Action::AddNote => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(InvalidTransition {
            action: action.name(),
            order: name(order),
            payment: name(payment),
            fulfillment: name(fulfillment),
        })
    }
}

/// The fulfilment status of an order from its units: ordered, fulfilled (shipped and not
/// canceled) and returned (received back).
///
/// Units still to ship come first: an order that shipped one of three units and got it back is
/// `partially_fulfilled`, not `returned`, so it can still ship the other two and does not
/// complete (its lines say what came back). Only an order that shipped everything is
/// `partially_returned` or `returned`.
pub fn fulfillment_of(ordered: i64, fulfilled: i64, returned: i64) -> FulfillmentStatus {
    use FulfillmentStatus as F;
    if fulfilled <= 0 && returned <= 0 {
        F::Unfulfilled
    } else if fulfilled < ordered {
        F::PartiallyFulfilled
    } else if returned >= ordered {
        F::Returned
    } else if returned > 0 {
        F::PartiallyReturned
    } else {
        F::Fulfilled
    }
}

/// Whether an open order is settled, and so completes: paid (or refunded) and fulfilled (or
/// returned).
pub fn settled(standing: Standing) -> bool {
    use FulfillmentStatus as F;
    use PaymentStatus as P;
    standing.order == OrderStatus::Open
        && matches!(
            standing.payment,
            P::Paid | P::PartiallyRefunded | P::Refunded
        )
        && matches!(
            standing.fulfillment,
            F::Fulfilled | F::PartiallyReturned | F::Returned
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(
        order: OrderStatus,
        payment: PaymentStatus,
        fulfillment: FulfillmentStatus,
    ) -> Standing {
        Standing {
            order,
            payment,
            fulfillment,
        }
    }

    #[test]
    fn the_table_refuses_what_the_issue_names() {
        use FulfillmentStatus as F;
        use OrderStatus as O;
        use PaymentStatus as P;
        // Refund an unpaid order.
        let unpaid = standing(O::Open, P::Authorized, F::Unfulfilled);
        let refused = check(unpaid, Action::Refund).unwrap_err();
        assert_eq!(refused.action, "refund");
        assert_eq!(refused.payment, "authorized");
        // Fulfil a canceled one.
        assert!(check(
            standing(O::Canceled, P::Voided, F::Unfulfilled),
            Action::Fulfil
        )
        .is_err());
        // Cancel a shipped one.
        assert!(check(standing(O::Open, P::Paid, F::Fulfilled), Action::Cancel).is_err());
        // Archive an open one.
        assert!(check(unpaid, Action::Archive).is_err());
        // What is allowed.
        assert!(check(unpaid, Action::Capture).is_ok());
        assert!(check(unpaid, Action::Fulfil).is_ok());
        assert!(check(unpaid, Action::Cancel).is_ok());
        assert!(check(
            standing(O::Canceled, P::Paid, F::Unfulfilled),
            Action::Refund
        )
        .is_ok());
        assert!(check(
            standing(O::Archived, P::Paid, F::Fulfilled),
            Action::AddNote
        )
        .is_ok());
    }

    #[test]
    fn fulfilment_follows_the_units() {
        use FulfillmentStatus as F;
        assert_eq!(fulfillment_of(3, 0, 0), F::Unfulfilled);
        assert_eq!(fulfillment_of(3, 1, 0), F::PartiallyFulfilled);
        assert_eq!(fulfillment_of(3, 3, 0), F::Fulfilled);
        assert_eq!(fulfillment_of(3, 3, 1), F::PartiallyReturned);
        assert_eq!(fulfillment_of(3, 3, 3), F::Returned);
        // One unit shipped and returned: two still to ship.
        assert_eq!(fulfillment_of(3, 1, 1), F::PartiallyFulfilled);
        assert_eq!(fulfillment_of(3, 2, 2), F::PartiallyFulfilled);
        assert_eq!(fulfillment_of(1, 1, 1), F::Returned);
        assert!(!settled(standing(
            OrderStatus::Open,
            PaymentStatus::Paid,
            fulfillment_of(3, 1, 1)
        )));
        assert!(settled(standing(
            OrderStatus::Open,
            PaymentStatus::Paid,
            F::Fulfilled
        )));
        assert!(!settled(standing(
            OrderStatus::Open,
            PaymentStatus::Authorized,
            F::Fulfilled
        )));
    }
}
