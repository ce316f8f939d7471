//! Orders: what may happen to an order in each of its states (`transitions.rs`, pure). Checkout
//! writes orders from carts; staff fulfil, cancel, return and refund them.

pub mod transitions;
