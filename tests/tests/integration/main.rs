//! Every integration test, in one binary: one link instead of one per file, which is most of
//! what a test run spends on two cores. Each module is one area; `cargo test -p commerce-tests
//! --test integration <module>::` runs one of them.

mod admin_auth;
mod admin_settings;
mod admin_staff;
mod availability;
mod blob_conformance;
mod carts;
mod catalog;
mod checkout;
mod collections;
mod discounts;
mod events_outbox;
mod flash_sale;
mod generated;
mod http_pipeline;
mod inventory;
mod lambda_events;
mod layering;
mod orders;
mod queue_conformance;
mod sandbox_and_mail;
mod shipping_tax;
mod storefront_identity;
mod table_conformance;
