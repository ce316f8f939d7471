//! Error codes: the stable, machine-readable `code` of every problem+json answer. Each module
//! declares the codes it answers once, as an enum ([`error_codes!`](crate::error_codes)), with
//! the status each code always answers with and what it means. Errors are made only from these,
//! so a code cannot be misspelt or answer two statuses within a module (one code is declared by
//! two: `insufficient_stock` answers 422 to a staff stock change and 409 to a shopper's cart),
//! and the OpenAPI document lists every code
//! (the `ErrorCode` schema) and, for each route, the codes that route can answer.
//!
//! The codes every route may answer because of its shape (a body, a query, credentials, a write)
//! are [`HttpCode`]s, added to each route's documentation by the OpenAPI builder; a route
//! declares the rest with [`RouteDoc::error`](super::RouteDoc::error).

/// One error code, as a module's enum declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode {
    /// What clients switch on (`sku_taken`).
    pub name: &'static str,
    /// The HTTP status the code always answers with.
    pub status: u16,
    /// What it means and, where there is one, what the client can do about it.
    pub description: &'static str,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.name == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.name == other
    }
}

/// Declares a module's error codes: an enum whose variants convert into [`ErrorCode`].
///
/// ```ignore
/// error_codes! {
///     /// Catalog errors.
///     pub enum CatalogCode {
///         /// Another variant of the company already has this SKU.
///         SkuTaken = "sku_taken", 409,
///     }
/// }
/// ```
#[macro_export]
macro_rules! error_codes {
    (
        $(#[doc = $enum_doc:literal])*
        pub enum $name:ident {
            $( #[doc = $doc:literal] $variant:ident = $code:literal, $status:literal, )*
        }
    ) => {
        $(#[doc = $enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $( #[doc = $doc] $variant, )*
        }

        impl $name {
            /// Every code of this module, in declaration order.
            pub const ALL: &'static [$crate::http::codes::ErrorCode] = &[
                $( $crate::http::codes::ErrorCode {
                    name: $code,
                    status: $status,
                    description: $doc.trim_ascii(),
                }, )*
            ];

            pub const fn code(self) -> $crate::http::codes::ErrorCode {
                Self::ALL[self as usize]
            }
        }

        impl From<$name> for $crate::http::codes::ErrorCode {
            fn from(code: $name) -> Self {
                code.code()
            }
        }
    };
}

crate::error_codes! {
    /// The codes any route may answer because of its shape: how the request is framed, its
    /// credentials, paging, idempotency, versions, and the backing services.
    pub enum HttpCode {
        /// The body is not valid JSON; valid JSON of the wrong shape (a value of the wrong type, an array) answers 422 `validation_failed` naming the field.
        MalformedJson = "malformed_json", 400,
        /// This route needs a JSON body.
        MissingBody = "missing_body", 400,
        /// The `cursor` is malformed, expired or belongs to another listing; start from the first page.
        InvalidCursor = "invalid_cursor", 400,
        /// `If-Match` does not hold a version of this resource (a quoted ETag).
        InvalidIfMatch = "invalid_if_match", 400,
        /// The `Idempotency-Key` header is empty, too long or has characters outside printable ASCII.
        InvalidIdempotencyKey = "invalid_idempotency_key", 400,
        /// No credentials, or the token is invalid or expired: sign in (or refresh) again.
        Unauthenticated = "unauthenticated", 401,
        /// A storefront route was called without an `X-Api-Key`.
        ApiKeyRequired = "api_key_required", 401,
        /// The `X-Api-Key` is unknown, revoked or expired.
        InvalidApiKey = "invalid_api_key", 401,
        /// The customer's account is disabled or erased; its tokens no longer work.
        AccountUnavailable = "account_unavailable", 401,
        /// The staff member's roles do not grant the permission this route needs.
        MissingPermission = "missing_permission", 403,
        /// The storefront key does not have the scope this route needs.
        MissingScope = "missing_scope", 403,
        /// The request's `Origin` is not one of the key's (or the company's) allowed origins.
        OriginNotAllowed = "origin_not_allowed", 403,
        /// The resource does not exist (or belongs to another company).
        NotFound = "not_found", 404,
        /// No route has this path.
        RouteNotFound = "route_not_found", 404,
        /// The path exists but not with this method; `Allow` lists the methods it takes.
        MethodNotAllowed = "method_not_allowed", 405,
        /// Another request changed the resource first; read it again and retry.
        Conflict = "conflict", 409,
        /// Another request changed the same data at the same moment; retry.
        ConcurrentUpdate = "concurrent_update", 409,
        /// A request with the same `Idempotency-Key` is still running; retry after it finishes.
        RequestInProgress = "request_in_progress", 409,
        /// The resource changed since the version named in `If-Match`; read it again.
        PreconditionFailed = "precondition_failed", 412,
        /// The body is larger than 1 MiB.
        BodyTooLarge = "body_too_large", 413,
        /// The body is not `application/json`.
        UnsupportedMediaType = "unsupported_media_type", 415,
        /// Some fields are invalid; `errors` lists each with its own code.
        ValidationFailed = "validation_failed", 422,
        /// The `Idempotency-Key` was already used with a different request.
        IdempotencyKeyReused = "idempotency_key_reused", 422,
        /// Too many attempts; wait for `Retry-After` seconds.
        TooManyRequests = "too_many_requests", 429,
        /// The server failed; the request left nothing half-done and can be retried.
        InternalError = "internal_error", 500,
        /// A backing service is briefly unavailable; retry after `Retry-After` seconds.
        ServiceUnavailable = "service_unavailable", 503,
    }
}
