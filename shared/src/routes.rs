//! The route table: every API route, once. The sandbox serves these, the OpenAPI document
//! describes them, and `cargo xtask codegen` derives each route's function binary, infra entry
//! and sample event from them (a test fails when those drift).

use crate::http::Route;

/// Declares the table from the routes' paths, so generated code can name each static.
macro_rules! route_table {
    ($( $first:ident $(:: $rest:ident)* ),* $(,)?) => {
        /// Every route.
        pub static ALL: &[&Route] = &[$( &crate::$first $(::$rest)* ),*];

        /// Every route with the path of its static within this crate.
        pub fn named() -> Vec<(&'static str, &'static Route)> {
            vec![$( (concat!(stringify!($first) $(, "::", stringify!($rest))*), &crate::$first $(::$rest)*) ),*]
        }
    };
}

route_table!(system::routes::HEALTH, system::routes::OPENAPI);
