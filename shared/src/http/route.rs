//! Route declarations: each route is declared once, as a static, with everything the platform
//! needs to know about it. The sandbox, the OpenAPI document, the Lambda binaries, the infra
//! template and the sample events are all derived from these declarations.

use super::{ApiError, ApiRequest, ApiResponse, ErrorCode};
pub use crate::access::{AwsAccess, BlobAccess, TableAccess};
use crate::app::App;
use crate::identity::Principal;
use crate::secrets::{Secret, SecretSet};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    /// CORS preflight; answered by the pipeline before routing.
    Options,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
        }
    }

    pub fn parse(method: &str) -> Option<Method> {
        Some(match method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => return None,
        })
    }

    /// Whether requests of this method carry a body the pipeline checks.
    pub fn has_body(self) -> bool {
        matches!(self, Method::Post | Method::Put | Method::Patch)
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, the OpenAPI document, sign-up and log-in).
    Public,
    /// A staff access token whose roles grant this permission (`products.write`). The permission
    /// may name a path parameter, `settings.{group}.write`, filled in from the request's path.
    Staff(&'static str),
    /// Any signed-in staff user of the tenant (their own profile and sessions).
    StaffSelf,
    /// A publishable storefront key with this scope.
    StoreKey(&'static str),
    /// A storefront key with this scope plus a customer token of the key's tenant.
    StoreCustomer(&'static str),
    /// A storefront key with this scope, for a guest or, when the request carries a customer
    /// token (which must then be valid), for that customer: carts.
    StoreShopper(&'static str),
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<ApiResponse, ApiError>> + Send>>;

/// What a handler receives: the application, the request, who is calling, and the path
/// parameters of its route.
pub struct Ctx {
    pub app: Arc<App>,
    pub req: ApiRequest,
    pub principal: Principal,
    pub params: Vec<(String, String)>,
    pub request_id: String,
}

impl Ctx {
    /// A path parameter of the route, e.g. `id` in `/admin/products/{id}`.
    pub fn param(&self, name: &str) -> &str {
        let value = self
            .params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        // The router fills every parameter the path declares, so a missing one is a name the
        // route's path does not have: a bug the tests should see, not an empty id.
        debug_assert!(
            value.is_some(),
            "path parameter `{name}` is not declared by this route"
        );
        value.unwrap_or_default()
    }
}

pub type Handler = fn(Ctx) -> HandlerFuture;

/// One schema of the OpenAPI document and those it refers to.
#[derive(Clone, Copy)]
pub struct SchemaDoc {
    pub name: fn() -> Cow<'static, str>,
    pub collect: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl SchemaDoc {
    /// A page of a list route: `{"data": [T], "next_cursor": string | null}`, named `<T>Page`.
    pub fn page_of<T: ToSchema>() -> Self {
        fn name<T: ToSchema>() -> Cow<'static, str> {
            Cow::Owned(format!("{}Page", T::name()))
        }
        fn collect<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
            use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
            use utoipa::openapi::Ref;
            let page = ObjectBuilder::new()
                .property(
                    "data",
                    ArrayBuilder::new().items(Ref::from_schema_name(T::name())),
                )
                .required("data")
                .property(
                    "next_cursor",
                    ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                            Type::String,
                            Type::Null,
                        ]))
                        .description(Some(
                            "Pass as ?cursor= for the next page; null on the last page",
                        )),
                )
                .required("next_cursor")
                .build();
            out.push((name::<T>().into_owned(), page.into()));
            out.push((T::name().into_owned(), T::schema()));
            T::schemas(out);
        }
        SchemaDoc {
            name: name::<T>,
            collect: collect::<T>,
        }
    }

    pub fn of<T: ToSchema>() -> Self {
        fn collect<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
            out.push((T::name().into_owned(), T::schema()));
            T::schemas(out);
        }
        SchemaDoc {
            name: T::name,
            collect: collect::<T>,
        }
    }
}

/// The parts of a route's OpenAPI operation that its declaration does not already say.
#[derive(Clone, Default)]
pub struct RouteDoc {
    pub description: Option<&'static str>,
    pub request: Option<SchemaDoc>,
    /// Success responses: status, description, body schema.
    pub responses: Vec<(u16, &'static str, Option<SchemaDoc>)>,
    /// Query parameters: name, description, required.
    pub query: Vec<(&'static str, &'static str, bool)>,
    /// Error codes this route answers besides those its shape implies (see
    /// [`openapi::route_codes`](super::openapi::route_codes)).
    pub errors: Vec<ErrorCode>,
}

impl RouteDoc {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn description(mut self, text: &'static str) -> Self {
        self.description = Some(text);
        self
    }
    pub fn request<T: ToSchema>(mut self) -> Self {
        self.request = Some(SchemaDoc::of::<T>());
        self
    }
    pub fn response<T: ToSchema>(mut self, status: u16, description: &'static str) -> Self {
        self.responses
            .push((status, description, Some(SchemaDoc::of::<T>())));
        self
    }
    /// A list response: a page of `T`.
    pub fn page<T: ToSchema>(mut self, description: &'static str) -> Self {
        self.responses
            .push((200, description, Some(SchemaDoc::page_of::<T>())));
        self
    }

    pub fn empty_response(mut self, status: u16, description: &'static str) -> Self {
        self.responses.push((status, description, None));
        self
    }
    pub fn query(mut self, name: &'static str, description: &'static str, required: bool) -> Self {
        self.query.push((name, description, required));
        self
    }
    /// An error code the route answers besides those its shape implies.
    pub fn error(mut self, code: impl Into<ErrorCode>) -> Self {
        self.errors.push(code.into());
        self
    }
}

pub struct Route {
    /// Unique, snake_case; names the Lambda binary, the infra function and the sample event.
    pub name: &'static str,
    pub method: Method,
    /// The path template, with `{param}` segments as in OpenAPI.
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
    /// The OpenAPI tag: the module the route belongs to.
    pub tag: &'static str,
    /// The AWS resources its function may touch (least-privilege IAM in the infra template).
    pub aws: AwsAccess,
    pub handler: Handler,
    pub doc: fn() -> RouteDoc,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.method.as_str(), self.path, self.name)
    }
}

impl Route {
    /// The path parameter names, in order.
    pub fn path_params(&self) -> Vec<&'static str> {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            // A greedy `{proxy+}` is named `proxy` in API Gateway's events.
            .map(|name| name.trim_end_matches('+'))
            .collect()
    }

    /// Whether the route answers with fresh tokens (sign-up, log-in, refresh). Such answers are
    /// never stored for idempotent replay: on the storefront a stored answer would be scoped to a
    /// publishable key every shopper shares, and no token should rest in the table.
    pub fn issues_tokens(&self) -> bool {
        self.aws.signs_staff_tokens() || self.aws.signs_customer_tokens()
    }

    /// Whether a `POST` with an `Idempotency-Key` is replayed: every signed-in change except
    /// the ones that answer with tokens.
    pub fn replays_idempotently(&self) -> bool {
        self.method == Method::Post && self.access != Access::Public && !self.issues_tokens()
    }

    /// Every secret the route's function holds: those it declares, and the one that encrypts
    /// stored answers when it replays them.
    pub fn secrets(&self) -> SecretSet {
        let declared = SecretSet::of(self.aws.secrets);
        if self.replays_idempotently() {
            declared.with(Secret::Idempotency)
        } else {
            declared
        }
    }

    /// Whether the route records its API key's last use although it only reads the table: every
    /// storefront route authenticates with a key, and a read-only one declares that one update
    /// on the keys' partitions (`AwsAccess::updates`, `api_keys::STORE_READ`) and nothing else.
    pub fn records_key_use(&self) -> bool {
        !self.aws.updates.is_empty()
    }

    /// What the route declares, as the access checks read it while it runs.
    pub fn declared(&self) -> crate::access::Declared {
        crate::access::Declared {
            name: self.name,
            aws: self.aws,
            secrets: self.secrets(),
        }
    }
}

/// How the pipeline learns who is calling, from the app, the route's access rule, the request
/// and its path parameters. The composition root supplies it (`authentication::authenticate`):
/// it reads what credentials mean in the domain (keys, members, roles, settings), which the
/// platform below does not know.
pub type Authenticate =
    for<'a> fn(
        &'a App,
        Access,
        &'a ApiRequest,
        &'a [(String, String)],
    ) -> Pin<Box<dyn Future<Output = Result<Principal, ApiError>> + Send + 'a>>;

/// Matches a method and path to a declared route, and authenticates requests for it.
pub struct Router {
    paths: matchit::Router<Vec<&'static Route>>,
    pub authenticate: Authenticate,
}

pub enum Matched {
    Found(&'static Route, Vec<(String, String)>),
    /// The path exists with other methods (405, with `Allow`).
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

impl Router {
    pub fn new(routes: &[&'static Route], authenticate: Authenticate) -> Self {
        let mut by_path: Vec<(&'static str, Vec<&'static Route>)> = Vec::new();
        // Preflights are answered before routing; their catch-all path matches nothing here.
        for route in routes.iter().filter(|r| r.method != Method::Options) {
            match by_path.iter_mut().find(|(p, _)| *p == route.path) {
                Some((_, list)) => list.push(route),
                None => by_path.push((route.path, vec![route])),
            }
        }
        let mut paths = matchit::Router::new();
        for (path, list) in by_path {
            paths
                .insert(path, list)
                .unwrap_or_else(|e| panic!("route path {path} conflicts: {e}"));
        }
        Router {
            paths,
            authenticate,
        }
    }

    pub fn find(&self, method: &str, path: &str) -> Matched {
        let Ok(found) = self.paths.at(path) else {
            return Matched::NotFound;
        };
        let params: Vec<(String, String)> = found
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        // Path parameters arrive percent-encoded; ids and handles never need decoding, and a
        // parameter that is not valid UTF-8 after decoding cannot name anything.
        let params = match params
            .into_iter()
            .map(|(k, v)| urlencoding::decode(&v).map(|d| (k, d.into_owned())))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(params) => params,
            Err(_) => return Matched::NotFound,
        };
        let method = Method::parse(method);
        match found.value.iter().find(|r| Some(r.method) == method) {
            Some(route) => Matched::Found(route, params),
            None => Matched::MethodNotAllowed(found.value.iter().map(|r| r.method).collect()),
        }
    }
}
