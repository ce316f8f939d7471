//! Orders: what may happen to an order in each of its states (`transitions.rs`, pure) and their
//! gap-free numbers (`numbers.rs`). Checkout writes orders from carts; staff fulfil, cancel,
//! return and refund them.

pub mod numbers;
pub mod transitions;
