//! The OpenAPI 3.1 document, generated from the route declarations.

use super::codes::{ErrorCode, HttpCode};
use super::route::{Access, Route, TableAccess};
use super::{FieldError, Problem};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    RefOr, Required, ResponseBuilder, Schema,
};
use utoipa::{PartialSchema, ToSchema};

const STAFF: &str = "staff_token";
const STORE_KEY: &str = "storefront_key";
const CUSTOMER: &str = "customer_token";

fn method(route: &Route) -> HttpMethod {
    match route.method {
        super::Method::Get => HttpMethod::Get,
        super::Method::Post => HttpMethod::Post,
        super::Method::Put => HttpMethod::Put,
        super::Method::Patch => HttpMethod::Patch,
        super::Method::Delete => HttpMethod::Delete,
        super::Method::Options => HttpMethod::Options,
    }
}

fn status_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed request",
        401 => "Missing or invalid credentials",
        403 => "The credentials lack the permission or scope",
        404 => "Not found (also another tenant's resource)",
        409 => "Conflict",
        412 => "If-Match names an older version",
        413 => "Body too large",
        415 => "Body is not JSON",
        422 => "Invalid fields or a broken business rule",
        429 => "Too many attempts",
        500 => "The server failed",
        503 => "A backing service is unavailable",
        _ => "Error",
    }
}

/// The problem answer for one status: its `code` is one of `codes`, each described.
fn problem_response(status: u16, codes: &[ErrorCode]) -> RefOr<utoipa::openapi::Response> {
    let mut description = format!("{}. `code` is one of:", status_description(status));
    for code in codes {
        description.push_str(&format!("\n- `{}`: {}", code.name, code.description));
    }
    let code_schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|c| c.name)));
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name("Problem"))
        .item(ObjectBuilder::new().property("code", code_schema));
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
        .into()
}

/// Every error code a route can answer: the ones its declaration lists and the ones its shape
/// implies (a body, a query, path parameters, credentials, idempotent replay, table writes).
/// The test client checks every error answer against this list.
pub fn route_codes(route: &Route) -> Vec<ErrorCode> {
    let doc = (route.doc)();
    let mut codes = doc.errors.clone();
    codes.extend([HttpCode::InternalError, HttpCode::ServiceUnavailable].map(ErrorCode::from));
    // A route that can answer 412 reads `If-Match`, which may be malformed.
    if codes.contains(&HttpCode::PreconditionFailed.into()) {
        codes.push(HttpCode::InvalidIfMatch.into());
    }
    if route.method.has_body() {
        codes.extend([HttpCode::BodyTooLarge, HttpCode::UnsupportedMediaType].map(ErrorCode::from));
    }
    if doc.request.is_some() {
        codes.extend(
            [
                HttpCode::MalformedJson,
                HttpCode::MissingBody,
                HttpCode::ValidationFailed,
            ]
            .map(ErrorCode::from),
        );
    }
    if !doc.query.is_empty() {
        codes.push(HttpCode::ValidationFailed.into());
    }
    if doc.query.iter().any(|(name, _, _)| *name == "cursor") {
        codes.push(HttpCode::InvalidCursor.into());
    }
    if !route.path_params().is_empty() {
        codes.push(HttpCode::NotFound.into());
    }
    if route.aws.table == TableAccess::ReadWrite {
        codes.extend([HttpCode::Conflict, HttpCode::ConcurrentUpdate].map(ErrorCode::from));
    }
    if route.replays_idempotently() {
        codes.extend(
            [
                HttpCode::InvalidIdempotencyKey,
                HttpCode::RequestInProgress,
                HttpCode::IdempotencyKeyReused,
            ]
            .map(ErrorCode::from),
        );
    }
    if route.path.starts_with("/admin/") {
        codes.push(HttpCode::OriginNotAllowed.into());
    }
    let store_key = [
        HttpCode::ApiKeyRequired,
        HttpCode::InvalidApiKey,
        HttpCode::MissingScope,
        HttpCode::OriginNotAllowed,
    ];
    match route.access {
        Access::Public => {}
        Access::Staff(_) => codes
            .extend([HttpCode::Unauthenticated, HttpCode::MissingPermission].map(ErrorCode::from)),
        Access::StaffSelf => codes.push(HttpCode::Unauthenticated.into()),
        Access::StoreKey(_) => codes.extend(store_key.map(ErrorCode::from)),
        Access::StoreCustomer(_) | Access::StoreShopper(_) => {
            codes.extend(store_key.map(ErrorCode::from));
            codes.extend(
                [HttpCode::Unauthenticated, HttpCode::AccountUnavailable].map(ErrorCode::from),
            );
        }
    }
    codes.sort_by_key(|c| (c.status, c.name));
    codes.dedup_by_key(|c| c.name);
    codes
}

/// The `ErrorCode` schema: every code the API answers, each with its status and meaning.
fn error_code_schema(codes: &[ErrorCode]) -> Schema {
    let mut codes = codes.to_vec();
    codes.sort_by_key(|c| (c.status, c.name));
    codes.dedup_by_key(|c| c.name);
    let mut description = String::from(
        "Stable, machine-readable error code; clients switch on it. Each answers one status:",
    );
    for code in &codes {
        description.push_str(&format!(
            "\n- `{}` ({}): {}",
            code.name, code.status, code.description
        ));
    }
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|c| c.name)))
        .description(Some(description))
        .into()
}

/// Builds the document for the given routes, whose error codes are among `codes`.
pub fn document(routes: &[&'static Route], codes: &[ErrorCode]) -> OpenApi {
    let mut schemas: Vec<(String, RefOr<Schema>)> = Vec::new();
    schemas.push(("ErrorCode".to_owned(), error_code_schema(codes).into()));
    schemas.push((Problem::name().into_owned(), Problem::schema()));
    schemas.push((FieldError::name().into_owned(), FieldError::schema()));
    let mut paths = utoipa::openapi::Paths::new();

    // Preflights are CORS plumbing, not part of the API's contract.
    for route in routes.iter().filter(|r| r.method != super::Method::Options) {
        let doc = (route.doc)();
        let mut op = OperationBuilder::new()
            .operation_id(Some(route.name))
            .summary(Some(route.summary))
            .description(doc.description)
            .tag(route.tag);
        for name in route.path_params() {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(string_schema())),
            );
        }
        for (name, description, required) in &doc.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .description(Some(*description))
                    .required(if *required {
                        Required::True
                    } else {
                        Required::False
                    })
                    .schema(Some(string_schema())),
            );
        }
        if let Some(request) = &doc.request {
            (request.collect)(&mut schemas);
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name((request.name)())))
                            .build(),
                    )
                    .build(),
            ));
        }
        for (status, description, body) in &doc.responses {
            let mut response = ResponseBuilder::new().description(*description);
            if let Some(body) = body {
                (body.collect)(&mut schemas);
                response = response.content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name((body.name)())))
                        .build(),
                );
            }
            op = op.response(status.to_string(), response.build());
        }
        let mut extensions = ExtensionsBuilder::new();
        match route.access {
            Access::Public => {}
            Access::Staff(permission) => {
                op = op.security(SecurityRequirement::new(STAFF, Vec::<String>::new()));
                extensions = extensions.add("x-permission", permission);
            }
            Access::StaffSelf => {
                op = op.security(SecurityRequirement::new(STAFF, Vec::<String>::new()));
            }
            Access::StoreKey(scope) => {
                op = op.security(SecurityRequirement::new(STORE_KEY, Vec::<String>::new()));
                extensions = extensions.add("x-scope", scope);
            }
            Access::StoreShopper(scope) => {
                // A guest with the key alone, or a customer with the key and a token.
                op = op.securities(Some([
                    SecurityRequirement::new(STORE_KEY, Vec::<String>::new()),
                    SecurityRequirement::new(STORE_KEY, Vec::<String>::new())
                        .add(CUSTOMER, Vec::<String>::new()),
                ]));
                extensions = extensions.add("x-scope", scope);
            }
            Access::StoreCustomer(scope) => {
                op = op.securities(Some([SecurityRequirement::new(
                    STORE_KEY,
                    Vec::<String>::new(),
                )
                .add(CUSTOMER, Vec::<String>::new())]));
                extensions = extensions.add("x-scope", scope);
            }
        }
        let codes = route_codes(route);
        for group in codes.chunk_by(|a, b| a.status == b.status) {
            let status = group[0].status;
            op = op.response(status.to_string(), problem_response(status, group));
        }
        op = op.extensions(Some(extensions.build()));
        paths.add_path_operation(route.path, vec![method(route)], op.build());
    }

    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    schemas.dedup_by(|a, b| a.0 == b.0);
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            STAFF,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Staff access token from /admin/auth/login"))
                    .build(),
            ),
        )
        .security_scheme(
            STORE_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "Publishable storefront key",
            ))),
        )
        .security_scheme(
            CUSTOMER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Customer access token from /store/auth/login"))
                    .build(),
            ),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Commerce API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Multi-tenant commerce backend: /admin for staff, /store for storefronts.",
                ))
                .build(),
        )
        .paths(PathsBuilder::from(paths))
        .components(Some(components))
        .build()
}

fn string_schema() -> Schema {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .into()
}
