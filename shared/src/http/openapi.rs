//! The OpenAPI 3.1 document, generated from the route declarations.

use super::route::{Access, Route};
use super::{FieldError, Problem};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
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

fn problem_response(status: u16) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(match status {
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
            _ => "Error",
        })
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// Builds the document for the given routes.
pub fn document(routes: &[&'static Route]) -> OpenApi {
    let mut schemas: Vec<(String, RefOr<Schema>)> = Vec::new();
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
        let mut errors: Vec<u16> = doc.errors.clone();
        if route.method.has_body() {
            errors.extend([400, 413, 415, 422]);
        }
        if !doc.query.is_empty() {
            // A malformed or foreign cursor (400) or a bad query value (422).
            errors.extend([400, 422]);
        }
        let mut extensions = ExtensionsBuilder::new();
        match route.access {
            Access::Public => {}
            Access::Staff(permission) => {
                errors.extend([401, 403]);
                op = op.security(SecurityRequirement::new(STAFF, Vec::<String>::new()));
                extensions = extensions.add("x-permission", permission);
            }
            Access::StaffSelf => {
                errors.push(401);
                op = op.security(SecurityRequirement::new(STAFF, Vec::<String>::new()));
            }
            Access::StoreKey(scope) => {
                errors.extend([401, 403]);
                op = op.security(SecurityRequirement::new(STORE_KEY, Vec::<String>::new()));
                extensions = extensions.add("x-scope", scope);
            }
            Access::StoreCustomer(scope) => {
                errors.extend([401, 403]);
                op = op.securities(Some([SecurityRequirement::new(
                    STORE_KEY,
                    Vec::<String>::new(),
                )
                .add(CUSTOMER, Vec::<String>::new())]));
                extensions = extensions.add("x-scope", scope);
            }
        }
        errors.sort_unstable();
        errors.dedup();
        for status in errors {
            op = op.response(status.to_string(), problem_response(status));
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
