//! Orders: checkout turns a cart into one (`checkout.rs`), staff read, capture, cancel, fulfil,
//! return and refund them (`service.rs`, `routes.rs`); what may happen in each state is one
//! table (`transitions.rs`, pure), and numbers are gap-free per company (`numbers.rs`).

pub mod checkout;
pub mod errors;
pub mod events;
pub mod fulfillment;
pub mod model;
pub mod numbers;
pub mod refunds;
pub mod routes;
pub mod service;
pub mod store;
pub mod transitions;
