//! Platform routes that belong to no domain: health and the API description.

pub mod routes;
