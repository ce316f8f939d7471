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

route_table!(
    system::routes::HEALTH,
    system::routes::OPENAPI,
    auth::routes::REGISTER,
    auth::routes::LOGIN,
    auth::routes::REFRESH,
    auth::routes::LOGOUT,
    auth::routes::LOGOUT_ALL,
    auth::routes::ME,
    auth::routes::JWKS,
    auth::routes::PASSWORD_RESET,
    auth::routes::PASSWORD_RESET_CONFIRM,
    auth::routes::CHANGE_PASSWORD,
    auth::routes::LIST_SESSIONS,
    auth::routes::REVOKE_SESSION,
    companies::routes::GET_COMPANY,
    companies::routes::PATCH_COMPANY,
    iam::routes::LIST_PERMISSIONS,
    iam::routes::LIST_ROLES,
    iam::routes::CREATE_ROLE,
    iam::routes::GET_ROLE,
    iam::routes::PATCH_ROLE,
    iam::routes::DELETE_ROLE,
    staff::routes::LIST_STAFF,
    staff::routes::GET_STAFF,
    staff::routes::PATCH_STAFF,
    staff::routes::DELETE_STAFF,
    staff::invites::CREATE_INVITE,
    staff::invites::LIST_INVITES,
    staff::invites::DELETE_INVITE,
    staff::invites::ACCEPT_INVITE,
    settings::routes::LIST_SETTINGS,
    settings::routes::GET_SETTINGS,
    settings::routes::PATCH_SETTINGS,
    settings::routes::SETTINGS_HISTORY,
);
