//! Driving the API in-process through the real router and pipeline, on every storage backend.

use crate::faults::{Faults, FaultyTable};
use crate::{emulator, test_clock, unique_name, DYNAMODB_ENDPOINT};
use serde_json::Value;
use shared::app::{App, EmbeddedApp, EmbeddedOptions, Parts};
use shared::blobs::local::LocalBlobs;
use shared::clock::{Clock, ManualClock};
use shared::http::dispatch::dispatch;
use shared::http::route::{Matched, Router};
use shared::http::ApiRequest;
use shared::ids::UlidGen;
use shared::mail::outbox::OutboxMailer;
use shared::queue::embedded::EmbeddedQueue;
use shared::store::dynamo::DynamoTable;
use shared::store::embedded::EmbeddedDb;
use std::sync::Arc;

pub struct Api {
    pub app: Arc<App>,
    router: Router,
    pub clock: ManualClock,
    pub backend: &'static str,
    pub outbox: std::path::PathBuf,
    /// Store failures to inject into the app's table (none unless a test asks).
    pub faults: Arc<Faults>,
    delivered: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The local blob adapter, whose URLs point at no running server: [`Api::blob_request`]
    /// serves them in-process, as the sandbox would.
    local_blobs: Option<Arc<LocalBlobs>>,
    /// The DynamoDB Local table this app made, deleted when it is dropped: the emulator keeps
    /// every table in memory and slows down as they pile up over a test run.
    table: Option<(aws_sdk_dynamodb::Client, String)>,
    _files: tempfile::TempDir,
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some((client, name)) = self.table.take() {
            // Drop may run inside a runtime, which cannot block on another: a thread of its own.
            let deleted = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| {
                        rt.block_on(client.delete_table().table_name(name).send())
                            .is_ok()
                    })
            })
            .join();
            if !matches!(deleted, Ok(Ok(true))) {
                eprintln!("could not delete a test table (the emulator keeps it)");
            }
        }
    }
}

/// The answer to a request sent to a presigned or published blob URL.
#[derive(Debug)]
pub struct BlobResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The problem's `code`, for error responses.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// One request to send.
pub struct Call {
    method: &'static str,
    path: String,
    headers: http::HeaderMap,
    body: Option<Vec<u8>>,
    source_ip: String,
}

impl Call {
    pub fn token(mut self, token: &str) -> Self {
        self.headers
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        self
    }
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.insert(name, value.parse().unwrap());
        self
    }
    pub fn json(mut self, body: Value) -> Self {
        self.headers
            .insert("content-type", "application/json".parse().unwrap());
        self.body = Some(serde_json::to_vec(&body).unwrap());
        self
    }
    /// A body sent as is with a JSON content type (for bodies that are not valid JSON).
    pub fn raw_json(mut self, body: &[u8]) -> Self {
        self.headers
            .insert("content-type", "application/json".parse().unwrap());
        self.body = Some(body.to_vec());
        self
    }
    pub fn from_ip(mut self, ip: &str) -> Self {
        self.source_ip = ip.into();
        self
    }
}

fn config() -> shared::config::Config {
    shared::config::Config::new(vec![42; 32]).unwrap()
}

impl Api {
    pub async fn embedded() -> Api {
        let clock = test_clock();
        let files = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::default());
        let opened = EmbeddedApp::open_wrapping(
            EmbeddedOptions {
                database: None,
                files: files.path().to_owned(),
                base_url: "http://127.0.0.1:9".into(),
                secret: vec![42; 32],
                staff_token_key: None,
                clock: Arc::new(clock.clone()),
            },
            |table| FaultyTable::wrap(table, faults.clone()),
        )
        .unwrap();
        Api {
            app: opened.app,
            router: shared::routes::router(shared::routes::ALL),
            clock,
            backend: "embedded",
            outbox: opened.outbox,
            faults,
            delivered: Default::default(),
            local_blobs: Some(opened.blobs),
            table: None,
            _files: files,
        }
    }

    /// The same app with its table on DynamoDB Local (queues, files and mail stay embedded).
    pub async fn dynamodb() -> Option<Api> {
        let endpoint = emulator(DYNAMODB_ENDPOINT)?;
        let clock = test_clock();
        let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let sdk = shared::aws::for_emulator(&endpoint).await;
        let table_name = unique_name("api");
        let client = shared::aws::dynamodb(&sdk);
        let table = DynamoTable::new(client.clone(), table_name.clone(), shared_clock.clone());
        table.ensure_table_without_stream().await.unwrap();
        let files = tempfile::tempdir().unwrap();
        let db = EmbeddedDb::memory(shared_clock.clone()).unwrap();
        let outbox = files.path().join("outbox");
        let blobs = Arc::new(LocalBlobs::new(
            &files.path().join("blobs"),
            "http://127.0.0.1:9",
            b"blob-secret",
            shared_clock.clone(),
        ));
        let faults = Arc::new(Faults::default());
        let app = App::new(Parts {
            table: FaultyTable::wrap(Arc::new(table), faults.clone()),
            queue: Arc::new(EmbeddedQueue::platform(db)),
            blobs: blobs.clone(),
            mailer: Arc::new(OutboxMailer::new(outbox.clone(), shared_clock.clone())),
            clock: shared_clock,
            ids: Arc::new(UlidGen::default()),
            config: config(),
        });
        Some(Api {
            app,
            router: shared::routes::router(shared::routes::ALL),
            clock,
            backend: "dynamodb",
            outbox,
            faults,
            delivered: Default::default(),
            local_blobs: Some(blobs),
            table: Some((client, table_name)),
            _files: files,
        })
    }

    /// The embedded app with its files on S3 in the moto server (presigned URLs point there).
    pub async fn with_s3() -> Option<Api> {
        let endpoint = emulator(crate::MOTO_ENDPOINT)?;
        let clock = test_clock();
        let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let sdk = shared::aws::for_emulator(&endpoint).await;
        let blobs = shared::blobs::s3::S3Blobs::new(
            shared::aws::s3(&sdk),
            unique_name("bucket"),
            shared_clock.clone(),
        );
        blobs.ensure_bucket().await.unwrap();
        let files = tempfile::tempdir().unwrap();
        let db = EmbeddedDb::memory(shared_clock.clone()).unwrap();
        let outbox = files.path().join("outbox");
        let faults = Arc::new(Faults::default());
        let app = App::new(Parts {
            table: FaultyTable::wrap(
                Arc::new(shared::store::embedded::EmbeddedTable::new(db.clone())),
                faults.clone(),
            ),
            queue: Arc::new(EmbeddedQueue::platform(db)),
            blobs: Arc::new(blobs),
            mailer: Arc::new(OutboxMailer::new(outbox.clone(), shared_clock.clone())),
            clock: shared_clock,
            ids: Arc::new(UlidGen::default()),
            config: config(),
        });
        Some(Api {
            app,
            router: shared::routes::router(shared::routes::ALL),
            clock,
            backend: "s3",
            outbox,
            faults,
            delivered: Default::default(),
            local_blobs: None,
            table: None,
            _files: files,
        })
    }

    /// Sends `method` to a presigned or published blob URL, with `headers` and `body`: to S3 over
    /// HTTP, or to the local adapter in-process.
    pub async fn blob_request(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> BlobResponse {
        if let Some(blobs) = &self.local_blobs {
            let (path, query) = url
                .split_once(shared::blobs::local::SERVE_PREFIX)
                .and_then(|(_, rest)| rest.split_once('?'))
                .unwrap_or_else(|| panic!("not a local blob URL: {url}"));
            let content_type = headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                .map(|(_, value)| value.as_str());
            let answer = blobs
                .serve(method, path, query, content_type, body.into())
                .await;
            return BlobResponse {
                status: answer.status,
                content_type: Some(answer.content_type),
                bytes: answer.body.to_vec(),
            };
        }
        let mut request =
            reqwest::Client::new().request(method.parse().expect("an HTTP method"), url);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request
            .body(body)
            .send()
            .await
            .expect("the blob store answers");
        BlobResponse {
            status: response.status().as_u16(),
            content_type: response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            bytes: response.bytes().await.unwrap().to_vec(),
        }
    }

    /// Sends a request and counts the store calls it made.
    pub async fn send_counted(&self, call: Call) -> (Response, u32) {
        let (response, counters) = self.send_measured(call).await;
        (response, counters.store_calls)
    }

    /// Sends a call and answers what it cost: store calls, and on DynamoDB Local the capacity
    /// units the emulator reports (as DynamoDB would bill them).
    pub async fn send_measured(&self, call: Call) -> (Response, shared::observe::Counters) {
        shared::observe::measure(self.send(call)).await
    }

    pub fn get(&self, path: &str) -> Call {
        self.call("GET", path)
    }
    pub fn post(&self, path: &str) -> Call {
        self.call("POST", path)
    }
    pub fn patch(&self, path: &str) -> Call {
        self.call("PATCH", path)
    }
    pub fn delete(&self, path: &str) -> Call {
        self.call("DELETE", path)
    }

    /// The access token of a new member of the company whose one custom role grants exactly
    /// `permissions`: the owner creates the role and invites the member, who accepts.
    pub async fn member_with(
        &self,
        owner_token: &str,
        tenant: &str,
        permissions: &[&str],
    ) -> String {
        let role = self
            .send(self.post("/admin/roles").token(owner_token).json(
                serde_json::json!({"name": format!("Only {permissions:?}"), "permissions": permissions}),
            ))
            .await;
        assert_eq!(role.status, 201, "{:?}", role.body);
        let email = format!(
            "member-{}@example.com",
            ulid::Ulid::new().to_string().to_lowercase()
        );
        let invite = self
            .send(
                self.post("/admin/staff/invites")
                    .token(owner_token)
                    .json(serde_json::json!({"email": email, "role_ids": [role.body["id"]]})),
            )
            .await;
        assert_eq!(invite.status, 201, "{:?}", invite.body);
        let mail = self.deliver_mail(tenant).await;
        let eml = mail
            .iter()
            .rev()
            .find(|m| m.contains(&format!("To: {email}")))
            .expect("the invitation email");
        let token = token_after(eml, "invitation token");
        let joined = self
            .send(self.post("/admin/auth/accept-invite").json(serde_json::json!({
                "token": token, "name": "Mia Member", "password": "plum-orbit-quiet-harbor-7"
            })))
            .await;
        assert_eq!(joined.status, 201, "{:?}", joined.body);
        joined.body["access_token"].as_str().unwrap().to_owned()
    }

    /// A request with any method (`OPTIONS` for preflights).
    pub fn call_method(&self, method: &'static str, path: &str) -> Call {
        self.call(method, path)
    }

    fn call(&self, method: &'static str, path: &str) -> Call {
        Call {
            method,
            path: path.to_owned(),
            headers: http::HeaderMap::new(),
            body: None,
            source_ip: "198.51.100.7".into(),
        }
    }

    pub async fn send(&self, call: Call) -> Response {
        let (path, query) = match call.path.split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (call.path.clone(), String::new()),
        };
        let response = dispatch(
            &self.app,
            &self.router,
            ApiRequest {
                method: call.method.into(),
                path: path.clone(),
                query,
                headers: call.headers,
                body: call.body.unwrap_or_default().into(),
                source_ip: Some(call.source_ip),
                platform_request_id: None,
            },
        )
        .await;
        let body = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body).unwrap_or(Value::Null)
        };
        self.check_documented(call.method, &path, response.status, &body);
        Response {
            status: response.status,
            headers: response.headers,
            body,
        }
    }
}

impl Api {
    /// Every error answer must carry a code the route's OpenAPI documentation lists, with the
    /// status that code answers: the documentation is the contract clients switch on, so every
    /// test that provokes an error also checks it is documented.
    fn check_documented(&self, method: &str, path: &str, status: u16, body: &Value) {
        if status < 400 || method == "OPTIONS" {
            return;
        }
        let Matched::Found(route, _) = self.router.find(method, path) else {
            return;
        };
        let code = body["code"].as_str().unwrap_or_default();
        let documented = shared::http::openapi::route_codes(route);
        assert!(
            documented
                .iter()
                .any(|c| c.name == code && c.status == status),
            "{} answered {status} `{code}`, which its documentation does not list: {:?}",
            route.name,
            documented.iter().map(|c| c.name).collect::<Vec<_>>()
        );
    }
}

/// Declares each named async case `fn(Api)` once per backend.
#[macro_export]
macro_rules! api_cases {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case($crate::api::Api::embedded().await).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    if let Some(api) = $crate::api::Api::dynamodb().await {
                        super::$case(api).await;
                    }
                }
            )*
        }
    };
}

impl Api {
    /// The tenant's outbox items as stored, oldest first.
    pub async fn event_items(&self, tenant: &str) -> Vec<shared::store::Item> {
        let mut items = Vec::new();
        for shard in 0..shared::events::store::SHARDS {
            items.extend(
                self.app
                    .table
                    .query(
                        &shared::store::Query::partition(
                            shared::store::Index::Table,
                            shared::events::store::partition(tenant, shard),
                        )
                        .limit(1000),
                    )
                    .await
                    .unwrap()
                    .items,
            );
        }
        // Event ids are ULIDs: by id is by time.
        items.sort_by(|a, b| a["sk"].as_str().cmp(&b["sk"].as_str()));
        items
    }

    /// The kinds of the tenant's events, oldest first.
    pub async fn event_kinds(&self, tenant: &str) -> Vec<String> {
        self.event_items(tenant)
            .await
            .iter()
            .filter_map(|item| shared::events::from_item(item).map(|e| e.kind))
            .collect()
    }

    /// Delivers the tenant's outbox events as the stream consumer would (through the real
    /// consumer code, fed the stored items as stream records), runs the notifications worker,
    /// and returns every email sent so far, oldest first.
    pub async fn deliver_mail(&self, tenant: &str) -> Vec<String> {
        use aws_lambda_events::dynamodb::{Event, EventRecord};
        let mut records = Vec::new();
        for item in self.event_items(tenant).await {
            let id = item["sk"].as_str().unwrap().to_owned();
            if !self.delivered.lock().unwrap().insert(id) {
                continue;
            }
            let mut record = EventRecord::default();
            record.event_name = "INSERT".into();
            record.change.new_image = serde_dynamo::to_item(&item).unwrap();
            records.push(record);
        }
        let mut event = Event::default();
        event.records = records;
        let response = shared::events::stream::handle(self.app.queue.as_ref(), event).await;
        assert!(response.batch_item_failures.is_empty());
        while shared::workers::poll_once(
            &self.app,
            self.app.queue.as_ref(),
            &shared::workers::notifications::WORKER,
        )
        .await
            > 0
        {}
        crate::read_outbox(&self.outbox)
    }

    /// One dispatcher cycle for the tenant's new events, then `worker` until its queue is empty;
    /// answers how many messages it handled.
    pub async fn run_worker(&self, tenant: &str, worker: &shared::workers::Worker) -> usize {
        self.deliver_mail(tenant).await;
        let mut handled = 0;
        loop {
            let n = shared::workers::poll_once(&self.app, self.app.queue.as_ref(), worker).await;
            if n == 0 {
                return handled;
            }
            handled += n;
        }
    }
}

/// Tests that send a crowd of concurrent requests (a hundred or more) take turns: DynamoDB Local
/// runs requests one at a time and gives up on a transaction that waits too long for an item's
/// lock, so two crowds meeting there would time each other out, which says nothing about the
/// code under test. Hold the guard for the crowd's duration.
pub async fn crowd() -> tokio::sync::MutexGuard<'static, ()> {
    static CROWD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    CROWD.lock().await
}

/// Sends `count` requests at once, each built by `call` from its index, and answers the responses
/// in that order.
pub async fn all_at_once(
    api: &Arc<Api>,
    count: usize,
    call: impl Fn(&Api, usize) -> Call,
) -> Vec<Response> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let api = api.clone();
            let call = call(&api, i);
            tokio::spawn(async move { api.send(call).await })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.expect("request task"));
    }
    responses
}

/// The token the newest email carrying `marker` has on the line after it (other emails, such as
/// a sign-up's own, may have been delivered in the same batch).
pub fn newest_token(mail: &[String], marker: &str) -> String {
    let eml = mail
        .iter()
        .rev()
        .find(|m| m.contains(marker))
        .unwrap_or_else(|| panic!("no email with `{marker}` among {}", mail.len()));
    token_after(eml, marker)
}

/// The token an email carries on the line after `marker`.
pub fn token_after(eml: &str, marker: &str) -> String {
    let mut lines = eml.lines();
    while let Some(line) = lines.next() {
        if line.contains(marker) {
            return lines.next().unwrap().trim().to_owned();
        }
    }
    panic!("no `{marker}` in {eml}");
}
