//! API errors as RFC 9457 problem details, with a stable machine-readable `code`.

use super::codes::{ErrorCode, HttpCode};
use super::ApiResponse;
use crate::blobs::BlobError;
use crate::mail::MailError;
use crate::queue::QueueError;
use crate::store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where the field is: a dotted path into the JSON body, or a query or header name.
    pub field: String,
    /// What is wrong, stable and machine-readable (`required`, `invalid`, `too_long`, ...).
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The body of every error response (`application/problem+json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem: `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable error code (one of `ErrorCode`).
    #[schema(schema_with = error_code_ref)]
    pub code: String,
    /// The request's id, as in the `x-request-id` response header.
    pub request_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On `insufficient_stock`: the units that can be had.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
    /// On `cart_completed`: the order the cart became.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

fn error_code_ref() -> utoipa::openapi::Ref {
    utoipa::openapi::Ref::from_schema_name("ErrorCode")
}

/// An error a handler returns; the HTTP layer renders it as problem+json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// What a few errors add: response headers and extension members, boxed so that errors
    /// (returned on every path) stay small.
    pub extras: Option<Box<Extras>>,
}

/// Response headers and problem extension members (RFC 9457) an error adds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// Extra response headers (`Retry-After`, `Allow`, `WWW-Authenticate`).
    pub headers: Vec<(String, String)>,
    /// On `insufficient_stock`: the units that can be had.
    pub available: Option<i64>,
    /// On `cart_completed`: the order the cart became.
    pub order_id: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

/// How many field errors one answer lists at most.
pub const MAX_FIELD_ERRORS: usize = 100;

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Internal Server Error",
    }
}

impl ApiError {
    /// An error with this code (which decides the status) and a human-readable detail.
    pub fn new(code: impl Into<ErrorCode>, detail: impl Into<String>) -> Self {
        let code = code.into();
        ApiError {
            status: code.status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            extras: None,
        }
    }

    /// Says how many units can be had (an `insufficient_stock` answer).
    pub fn with_available(mut self, available: i64) -> Self {
        self.extras.get_or_insert_with(Default::default).available = Some(available);
        self
    }

    /// Replaces the code, and with it the status, keeping the detail and headers.
    pub fn with_order_id(mut self, order_id: impl Into<String>) -> Self {
        self.extras.get_or_insert_with(Default::default).order_id = Some(order_id.into());
        self
    }

    pub fn with_code(mut self, code: impl Into<ErrorCode>) -> Self {
        self.code = code.into();
        self.status = self.code.status;
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.extras
            .get_or_insert_with(Default::default)
            .headers
            .push((name.to_owned(), value.into()));
        self
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(HttpCode::Unauthenticated, detail).with_header("www-authenticate", "Bearer")
    }

    /// Also the answer for another tenant's resource: never reveal that it exists.
    pub fn not_found(what: &str) -> Self {
        Self::new(HttpCode::NotFound, format!("{what} not found"))
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            HttpCode::PreconditionFailed,
            "the resource has changed since the version named in If-Match",
        )
    }

    /// Input that parsed but is not valid: every offending field is listed, up to
    /// [`MAX_FIELD_ERRORS`] (a body of 20,000 unknown values would otherwise answer megabytes).
    pub fn validation(mut errors: Vec<FieldError>) -> Self {
        let detail = if errors.len() > MAX_FIELD_ERRORS {
            let all = errors.len();
            errors.truncate(MAX_FIELD_ERRORS);
            format!("the request has invalid fields ({MAX_FIELD_ERRORS} of {all} listed)")
        } else {
            "the request has invalid fields".to_owned()
        };
        let mut e = Self::new(HttpCode::ValidationFailed, detail);
        e.errors = errors;
        e
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(
            HttpCode::TooManyRequests,
            "too many attempts; try again later",
        )
        .with_header("retry-after", retry_after_secs.to_string())
    }

    pub fn internal() -> Self {
        Self::new(
            HttpCode::InternalError,
            "the server failed to handle the request",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            HttpCode::ServiceUnavailable,
            "a backing service is unavailable; retry shortly",
        )
        .with_header("retry-after", "1")
    }

    pub fn to_problem(&self, request_id: &str) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.code.name),
            title: title(self.status).to_owned(),
            status: self.status,
            detail: self.detail.clone(),
            code: self.code.name.to_owned(),
            request_id: request_id.to_owned(),
            errors: self.errors.clone(),
            available: self.extras.as_ref().and_then(|e| e.available),
            order_id: self.extras.as_ref().and_then(|e| e.order_id.clone()),
        }
    }

    pub fn into_response(self, request_id: &str) -> ApiResponse {
        let body = serde_json::to_vec(&self.to_problem(request_id)).expect("problem serialises");
        let mut response = ApiResponse::new(self.status)
            .header("content-type", "application/problem+json")
            .body(body);
        for (name, value) in self.extras.map(|e| e.headers).unwrap_or_default() {
            response = response.header(&name, value);
        }
        response
    }
}

/// Store failures a handler did not map itself. Conditions that carry domain meaning (a taken
/// handle, a stale version) are mapped by the service that knows it; what reaches here is either
/// a conflict worth retrying or the backend failing.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConditionFailed | StoreError::TransactionCancelled { .. } => ApiError::new(
                HttpCode::Conflict,
                "the resource was changed by another request",
            ),
            StoreError::Conflict => ApiError::new(
                HttpCode::ConcurrentUpdate,
                "another request changed the same data at the same time; retry",
            ),
            StoreError::Invalid(message) => {
                tracing::error!(error = %message, "invalid store request");
                ApiError::internal()
            }
            StoreError::Unavailable(message) => {
                tracing::error!(error = %message, "store unavailable");
                ApiError::unavailable()
            }
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        tracing::error!(error = %e, "queue failure");
        ApiError::unavailable()
    }
}

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> Self {
        tracing::error!(error = %e, "blob store failure");
        ApiError::unavailable()
    }
}

impl From<MailError> for ApiError {
    fn from(e: MailError) -> Self {
        tracing::error!(error = %e, "mail failure");
        ApiError::unavailable()
    }
}

impl From<crate::secrets::MissingSecret> for ApiError {
    fn from(e: crate::secrets::MissingSecret) -> Self {
        tracing::error!(error = %e, "a secret this code needs is not available");
        ApiError::internal()
    }
}

impl From<crate::tokens::InvalidToken> for ApiError {
    fn from(e: crate::tokens::InvalidToken) -> Self {
        ApiError::unauthorized(e.to_string())
    }
}
