//! The sandbox: every route of the API in one process over HTTP, with the event dispatcher and
//! every queue worker running in-process. Embedded storage by default; AWS (or emulators) with
//! `--aws`.

pub mod docs;
pub mod logs;
pub mod seed;
pub mod stream_poller;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use shared::app::{App, EmbeddedApp, EmbeddedOptions};
use shared::blobs::local::LocalBlobs;
use shared::clock::{Clock, SystemClock};
use shared::http::dispatch::dispatch;
use shared::http::route::Router;
use shared::http::HttpCode;
use shared::http::{ApiError, ApiRequest, ApiResponse, MAX_BODY_BYTES};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Where the sandbox keeps its data.
#[derive(Debug, Clone)]
pub enum Storage {
    /// The database, blobs and outbox under this folder; kept across restarts.
    Durable(PathBuf),
    /// The database in memory; blobs and outbox in this (temporary) folder.
    Memory(PathBuf),
    /// The SDK adapters against whatever the standard AWS environment points to; with
    /// `create_resources`, the table, queues and bucket are created first if missing (for
    /// DynamoDB Local and emulators; in an account the infra template owns them).
    Aws { create_resources: bool },
}

pub struct Options {
    pub listener: TcpListener,
    pub storage: Storage,
    pub clock: Arc<dyn Clock>,
    /// The root secret; a durable sandbox keeps one in its data folder when this is `None`.
    pub secret: Option<Vec<u8>>,
}

/// A running sandbox.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    /// The embedded parts, when the storage is embedded.
    pub embedded: Option<EmbeddedParts>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

pub struct EmbeddedParts {
    pub db: Arc<shared::store::embedded::EmbeddedDb>,
    pub blobs: Arc<LocalBlobs>,
    pub outbox: PathBuf,
    pub files: PathBuf,
}

#[derive(Clone)]
struct Shared {
    app: Arc<App>,
    router: Arc<Router>,
    blobs: Option<Arc<LocalBlobs>>,
}

/// The durable sandbox's staff token signing key, kept beside its data (an RSA key cannot be
/// derived from the root secret), so sessions survive a restart.
fn staff_token_key(dir: &std::path::Path) -> anyhow::Result<String> {
    let path = dir.join("staff-token-key.pem");
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Ok(pem);
    }
    std::fs::create_dir_all(dir)?;
    let (pem, _) = shared::auth::tokens::generate_rsa_key();
    std::fs::write(&path, &pem)?;
    Ok(pem)
}

fn secret_for(storage: &Storage, given: Option<Vec<u8>>) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = given {
        return Ok(secret);
    }
    if let Ok(text) = std::env::var(shared::config::env::SECRET) {
        return Ok(shared::config::decode_secret(&text)?);
    }
    let fresh = || -> Vec<u8> { (0..32).map(|_| rand::random::<u8>()).collect() };
    match storage {
        Storage::Durable(dir) => {
            // Kept beside the data so that cursors and signed URLs stay valid across restarts.
            let path = dir.join("secret.key");
            if let Ok(text) = std::fs::read_to_string(&path) {
                return Ok(shared::config::decode_secret(&text)?);
            }
            std::fs::create_dir_all(dir)?;
            let secret = fresh();
            std::fs::write(&path, hex::encode(&secret))?;
            Ok(secret)
        }
        _ => Ok(fresh()),
    }
}

impl Sandbox {
    pub async fn start(options: Options) -> anyhow::Result<Sandbox> {
        let addr = options.listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let secret = secret_for(&options.storage, options.secret)?;
        let (shutdown, watcher) = watch::channel(false);
        let mut tasks = Vec::new();
        let (app, embedded) = match &options.storage {
            Storage::Durable(dir) | Storage::Memory(dir) => {
                let database = match &options.storage {
                    Storage::Durable(dir) => Some(dir.join("commerce.db")),
                    _ => None,
                };
                let staff_token_key = match &options.storage {
                    Storage::Durable(dir) => Some(staff_token_key(dir)?),
                    _ => None,
                };
                let opened = EmbeddedApp::open(EmbeddedOptions {
                    database,
                    files: dir.clone(),
                    base_url: base_url.clone(),
                    secret,
                    staff_token_key,
                    clock: options.clock.clone(),
                })
                .map_err(|e| anyhow::anyhow!(e))?;
                tasks.push(tokio::spawn(shared::events::dispatch::run_embedded(
                    opened.db.clone(),
                    opened.app.queue.clone(),
                    watcher.clone(),
                )));
                let parts = EmbeddedParts {
                    db: opened.db,
                    blobs: opened.blobs,
                    outbox: opened.outbox,
                    files: dir.clone(),
                };
                (opened.app, Some(parts))
            }
            Storage::Aws { create_resources } => {
                std::env::set_var(shared::config::env::SECRET, hex::encode(&secret));
                if std::env::var_os(shared::config::env::TOKEN_ISSUER).is_none() {
                    std::env::set_var(shared::config::env::TOKEN_ISSUER, &base_url);
                }
                if *create_resources {
                    create_aws_resources(options.clock.clone()).await?;
                }
                let app = App::from_env(shared::app::AwsAdapters::ALL).await?;
                // Events are dispatched from the table's stream, as the deployed dispatcher does.
                let sdk = shared::aws::from_env().await;
                if let Some(poller) =
                    stream_poller::StreamPoller::new(&sdk, &app.config.table, app.queue.clone())
                        .await?
                {
                    tasks.push(tokio::spawn(poller.run(watcher.clone())));
                }
                (app, None)
            }
        };
        for worker in shared::routes::WORKERS {
            tasks.push(tokio::spawn(shared::workers::run_polling(
                app.clone(),
                worker,
                watcher.clone(),
            )));
        }
        let state = Shared {
            app: app.clone(),
            router: Arc::new(shared::routes::router(shared::routes::ALL)),
            blobs: embedded.as_ref().map(|e| e.blobs.clone()),
        };
        let service = axum::Router::new()
            .route("/_blobs/{*key}", any(serve_blob))
            .route("/docs", get(docs_page))
            .route("/docs/{name}", get(docs_asset))
            .fallback(serve_api)
            .with_state(state)
            .into_make_service_with_connect_info::<SocketAddr>();
        let mut stop = watcher.clone();
        tasks.push(tokio::spawn(async move {
            let graceful =
                axum::serve(options.listener, service).with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                });
            if let Err(e) = graceful.await {
                tracing::error!(error = %e, "server failed");
            }
        }));
        Ok(Sandbox {
            addr,
            app,
            embedded,
            shutdown,
            tasks,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, lets those in flight finish, stops the dispatcher and workers.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn create_aws_resources(clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    use shared::blobs::s3::S3Blobs;
    use shared::queue::sqs::SqsQueue;
    use shared::store::dynamo::DynamoTable;
    let config = shared::config::Config::from_env()?;
    let sdk = shared::aws::from_env().await;
    DynamoTable::new(
        shared::aws::dynamodb(&sdk),
        config.table.clone(),
        clock.clone(),
    )
    .ensure_table()
    .await?;
    SqsQueue::new(shared::aws::sqs(&sdk), config.queue_prefix.clone())
        .ensure_platform_queues()
        .await?;
    S3Blobs::new(shared::aws::s3(&sdk), config.bucket.clone(), clock)
        .ensure_bucket()
        .await?;
    Ok(())
}

/// A sandbox on the system clock with default storage, as `cargo run -p sandbox` starts it.
pub async fn start_default(listener: TcpListener, storage: Storage) -> anyhow::Result<Sandbox> {
    Sandbox::start(Options {
        listener,
        storage,
        clock: Arc::new(SystemClock),
        secret: None,
    })
    .await
}

fn to_axum(response: ApiResponse) -> Response {
    let mut builder = Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(Body::from(response.body)).unwrap_or_else(|_| {
        (http::StatusCode::INTERNAL_SERVER_ERROR, "bad response").into_response()
    })
}

async fn serve_api(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let id = format!("req_{}", ulid::Ulid::new());
            let error = ApiError::new(
                HttpCode::BodyTooLarge,
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            );
            return to_axum(error.into_response(&id).header("x-request-id", id));
        }
    };
    let req = ApiRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
        source_ip: Some(peer.ip().to_string()),
        platform_request_id: None,
    };
    to_axum(dispatch(&state.app, &state.router, req).await)
}

async fn serve_blob(State(state): State<Shared>, request: Request) -> Response {
    let Some(blobs) = state.blobs else {
        return (http::StatusCode::NOT_FOUND, "blobs are in S3").into_response();
    };
    let (parts, body) = request.into_parts();
    // Presigned uploads may be larger than API bodies (images up to 20 MB).
    let Ok(body) = axum::body::to_bytes(body, 32 * 1024 * 1024).await else {
        return (http::StatusCode::PAYLOAD_TOO_LARGE, "too large").into_response();
    };
    let path = parts
        .uri
        .path()
        .strip_prefix(shared::blobs::local::SERVE_PREFIX)
        .unwrap_or_default();
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    let answer = blobs
        .serve(
            parts.method.as_str(),
            path,
            parts.uri.query().unwrap_or_default(),
            content_type,
            body,
        )
        .await;
    // Browsers must take an object for the type it was stored with, never guess from its bytes.
    Response::builder()
        .status(answer.status)
        .header("content-type", answer.content_type)
        .header("x-content-type-options", "nosniff")
        .body(Body::from(answer.body))
        .unwrap_or_else(|_| http::StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn docs_page() -> Html<String> {
    Html(docs::render(shared::routes::ALL))
}

async fn docs_asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match docs::asset(&name) {
        Some((content_type, bytes)) => Response::builder()
            .header("content-type", content_type)
            .header("cache-control", "public, max-age=3600")
            .body(Body::from(bytes))
            .unwrap_or_else(|_| http::StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        None => http::StatusCode::NOT_FOUND.into_response(),
    }
}
