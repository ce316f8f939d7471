//! The HTTP layer: requests and responses independent of where they come from (API Gateway
//! through lambda_http, or the sandbox's server), route declarations, the dispatch pipeline
//! every request goes through, problem+json errors, cursors, idempotency and ETags.

pub mod codes;
pub mod cors;
pub mod cursor;
pub mod dispatch;
pub mod error;
pub mod idempotency;
pub mod lambda;
pub mod openapi;
pub mod route;

pub use codes::{ErrorCode, HttpCode};
pub use error::{ApiError, FieldError, Problem};
pub use route::{
    Access, AwsAccess, BlobAccess, Ctx, HandlerFuture, Method, Route, RouteDoc, TableAccess,
};

use bytes::Bytes;
use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest request body accepted (413 beyond it). API Gateway's own limit is 10 MB; nothing
/// in this API needs more than a small JSON document, since files go straight to S3.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request as the handlers see it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub source_ip: Option<String>,
    /// The id the platform gave the request (API Gateway's, or the sandbox's).
    pub platform_request_id: Option<String>,
}

impl ApiRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Parses the JSON body. Malformed JSON answers 400; well-formed JSON of the wrong shape
    /// answers 422 naming the field.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.body.is_empty() {
            return Err(ApiError::new(
                HttpCode::MissingBody,
                "a JSON body is required",
            ));
        }
        // Every body this API takes is an object. serde would also bind a JSON array to a
        // struct, field by field in declaration order; the API's schemas say object, so an
        // array (or any other value) is refused here.
        let first = self.body.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            return Err(
                match serde_json::from_slice::<serde::de::IgnoredAny>(&self.body) {
                    Ok(_) => ApiError::validation(vec![FieldError::new(
                        "",
                        "invalid",
                        "the body must be a JSON object",
                    )]),
                    Err(syntax) => ApiError::new(
                        HttpCode::MalformedJson,
                        format!("the body is not valid JSON: {syntax}"),
                    ),
                },
            );
        }
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
        let value = match parsed {
            Ok(value) => value,
            Err(e) => {
                // The typed parser stops at the first field it cannot take, possibly before a
                // syntax error further on; a body that is not JSON at all is malformed (400),
                // whatever its first field says. Only failed parses pay for this second pass.
                if let Err(syntax) = serde_json::from_slice::<serde::de::IgnoredAny>(&self.body) {
                    return Err(ApiError::new(
                        HttpCode::MalformedJson,
                        format!("the body is not valid JSON: {syntax}"),
                    ));
                }
                let path = e.path().to_string();
                let inner = e.into_inner();
                return Err(match inner.classify() {
                    serde_json::error::Category::Data => {
                        ApiError::validation(vec![FieldError::new(
                            if path == "." { String::new() } else { path },
                            "invalid",
                            inner.to_string(),
                        )])
                    }
                    _ => ApiError::new(
                        HttpCode::MalformedJson,
                        format!("the body is not valid JSON: {inner}"),
                    ),
                });
            }
        };
        de.end().map_err(|e| {
            ApiError::new(
                HttpCode::MalformedJson,
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        Ok(value)
    }

    /// Parses the query string into a typed struct; bad values answer 422 naming the parameter.
    pub fn query_params<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_urlencoded::from_str(&self.query).map_err(|e| {
            ApiError::validation(vec![FieldError::new("query", "invalid", e.to_string())])
        })
    }

    /// The version named by `If-Match` (an ETag this API issued), if the header is present.
    /// `If-Match: *` (RFC 9110: any current version) names none: every route that takes
    /// `If-Match` changes an existing resource, and answers 404 when there is none.
    pub fn if_match(&self) -> Result<Option<u64>, ApiError> {
        match self.header("if-match") {
            None => Ok(None),
            Some(value) if value.trim() == "*" => Ok(None),
            Some(value) => parse_etag(value).map(Some).ok_or_else(|| {
                ApiError::new(
                    HttpCode::InvalidIfMatch,
                    "If-Match must be an ETag from this API",
                )
            }),
        }
    }
}

/// The ETag of a resource at a version: a strong validator, `"<version>"`.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

fn parse_etag(value: &str) -> Option<u64> {
    let value = value.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    value.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// A response built by a handler or by the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl ApiResponse {
    pub fn new(status: u16) -> Self {
        ApiResponse {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A JSON response.
    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("response bodies serialise");
        ApiResponse::new(status)
            .header("content-type", "application/json")
            .body(body)
    }

    /// 201 with the created resource and its `Location`.
    pub fn created<T: Serialize>(location: &str, value: &T) -> Self {
        Self::json(201, value).header("location", location)
    }

    pub fn no_content() -> Self {
        ApiResponse::new(204)
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn with_etag(self, version: u64) -> Self {
        self.header("etag", etag(version))
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `?limit=&cursor=` of every list route.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ListParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

impl ListParams {
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::validation(vec![FieldError::new(
                "limit",
                "out_of_range",
                format!("limit is between 1 and {MAX_LIMIT}"),
            )])),
        }
    }
}

/// The body of every list response.
#[derive(Debug, Clone, Serialize)]
pub struct ListPage<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag(7)), Some(7));
        assert_eq!(parse_etag("W/\"3\""), Some(3));
        assert_eq!(parse_etag("3"), None);
        assert_eq!(parse_etag("\"x\""), None);
    }
}
