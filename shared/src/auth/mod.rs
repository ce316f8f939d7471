//! Authentication machinery the domain modules share: who is calling a route (`caller`), the
//! company's security policy (`policy`), passwords, sign-in throttles, sessions and the tokens
//! opened for them (`signin`), and the keys that verify tokens. The flows (staff sign-in in
//! `staff::auth`, customers in `customers::auth`) and the authentication of each request
//! (`authentication`, at the composition root) are built on it. The identity types are in
//! [`crate::identity`].

pub mod caller;
pub mod credentials;
pub mod errors;
pub mod passwords;
pub mod policy;
pub mod sessions;
pub mod signin;
pub mod throttle;
pub use crate::identity::{CustomerSession, Principal, TenantId};
pub use crate::tokens;

use crate::http::{ApiRequest, ApiResponse};
use crate::tokens::Jwk;
use serde::Serialize;
use utoipa::ToSchema;

/// The bearer token of the `Authorization` header.
pub fn bearer(req: &ApiRequest) -> Option<&str> {
    let value = req.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[derive(Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// A key set, cacheable for five minutes (publish a new key at least that long before signing
/// with it).
pub fn jwks_response(keys: &crate::tokens::TokenKeys) -> ApiResponse {
    ApiResponse::json(200, &Jwks { keys: keys.jwks() })
        .header("cache-control", "public, max-age=300")
}
