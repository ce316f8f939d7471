//! Running under AWS Lambda: API Gateway (HTTP API, payload v2) events through lambda_http into
//! the same dispatch pipeline the sandbox uses.

use super::dispatch::dispatch;
use super::route::Router;
use super::{ApiRequest, ApiResponse};
use crate::app::App;
use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use std::sync::Arc;

/// Converts an API Gateway request as lambda_http delivers it.
pub fn from_lambda(event: lambda_http::Request) -> ApiRequest {
    let (platform_request_id, source_ip) = match event.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            (ctx.request_id.clone(), ctx.http.source_ip.clone())
        }
        _ => (None, None),
    };
    let method = event.method().as_str().to_owned();
    let path = event.uri().path().to_owned();
    let query = event.uri().query().unwrap_or_default().to_owned();
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    ApiRequest {
        method,
        path,
        query,
        headers: parts.headers,
        body,
        source_ip,
        platform_request_id,
    }
}

/// Converts a response for lambda_http to return to API Gateway.
pub fn to_lambda(response: ApiResponse) -> lambda_http::Response<Body> {
    let mut builder = lambda_http::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = if response.body.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(response.body.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(bytes) => Body::Binary(bytes.into_bytes()),
        }
    };
    builder
        .body(body)
        .expect("status and header names come from the pipeline and are valid")
}

/// Answers one API Gateway event for the given router (used by the function binaries and by
/// tests that feed the sample events).
pub async fn handle_event(
    app: &Arc<App>,
    router: &Router,
    event: lambda_http::Request,
) -> lambda_http::Response<Body> {
    to_lambda(dispatch(app, router, from_lambda(event)).await)
}

/// The `main` of a route's function (through `routes::serve`): builds the app once per
/// container, then serves the router's one route.
pub async fn serve(
    router: Router,
    adapters: crate::app::AwsAdapters,
) -> Result<(), lambda_http::Error> {
    crate::observe::init_logging();
    let app = App::from_env(adapters).await?;
    let router = Arc::new(router);
    lambda_http::run(lambda_http::service_fn(move |event| {
        let app = app.clone();
        let router = router.clone();
        async move { Ok::<_, std::convert::Infallible>(handle_event(&app, &router, event).await) }
    }))
    .await
}
