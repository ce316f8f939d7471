//! The test harness: every backend a test can run on, built the same way production builds it.
//!
//! Embedded backends always run. The DynamoDB Local and moto (SQS, S3) backends run when
//! `scripts/test` has started the emulators and exported their endpoints; without them those
//! cases are skipped with a message, unless `COMMERCE_TEST_REQUIRE_EMULATORS=1` (set by the test
//! command and CI) makes a missing endpoint a failure.

pub mod api;
pub mod faults;

use shared::blobs::local::LocalBlobs;
use shared::blobs::s3::S3Blobs;
use shared::blobs::Blobs;
use shared::clock::ManualClock;
use shared::queue::embedded::EmbeddedQueue;
use shared::queue::sqs::SqsQueue;
use shared::queue::Queue;
use shared::store::dynamo::DynamoTable;
use shared::store::embedded::{EmbeddedDb, EmbeddedTable};
use shared::store::Table;
use std::sync::Arc;
use std::time::Duration;

pub const DYNAMODB_ENDPOINT: &str = "COMMERCE_TEST_DYNAMODB_ENDPOINT";
pub const MOTO_ENDPOINT: &str = "COMMERCE_TEST_MOTO_ENDPOINT";
pub const REQUIRE_EMULATORS: &str = "COMMERCE_TEST_REQUIRE_EMULATORS";

/// The endpoint of an emulator, or `None` (with a note) when the tests run without it.
pub fn emulator(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(endpoint) if !endpoint.is_empty() => Some(endpoint),
        _ => {
            if std::env::var(REQUIRE_EMULATORS).as_deref() == Ok("1") {
                panic!("{variable} is not set but {REQUIRE_EMULATORS}=1: run scripts/test");
            }
            eprintln!("skipped: {variable} is not set (scripts/test starts the emulators)");
            None
        }
    }
}

/// A name no other test uses, for tables, queues and buckets on shared emulators.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// A clock for tests, starting at the real time so emulators that check request times agree.
pub fn test_clock() -> ManualClock {
    ManualClock::starting_now()
}

pub struct TableBackend {
    pub table: Arc<dyn Table>,
    pub clock: ManualClock,
    pub name: &'static str,
}

pub async fn embedded_table() -> TableBackend {
    let clock = test_clock();
    let db = EmbeddedDb::memory(Arc::new(clock.clone())).expect("in-memory database");
    TableBackend {
        table: Arc::new(EmbeddedTable::new(db)),
        clock,
        name: "embedded",
    }
}

/// A fresh table on DynamoDB Local, created with the same keys and indexes as production.
pub async fn dynamodb_table() -> Option<TableBackend> {
    let endpoint = emulator(DYNAMODB_ENDPOINT)?;
    let clock = test_clock();
    let config = shared::aws::for_emulator(&endpoint).await;
    let table = DynamoTable::new(
        shared::aws::dynamodb(&config),
        unique_name("test"),
        Arc::new(clock.clone()),
    );
    table
        .ensure_table_without_stream()
        .await
        .expect("create table on DynamoDB Local");
    Some(TableBackend {
        table: Arc::new(table),
        clock,
        name: "dynamodb",
    })
}

pub struct QueueBackend {
    pub queue: Arc<dyn Queue>,
    pub clock: ManualClock,
    /// A queue name unique to this test; `<queue>-dlq` receives what it dead-letters after
    /// [`QueueBackend::MAX_RECEIVES`] receives.
    pub queue_name: String,
    pub dead_letter: String,
    real_time: bool,
}

impl QueueBackend {
    pub const MAX_RECEIVES: u32 = 2;

    /// Lets `by` pass: the embedded queue moves its clock, SQS needs real time to pass.
    pub async fn pass(&self, by: Duration) {
        if self.real_time {
            tokio::time::sleep(by).await;
        } else {
            self.clock.advance(by);
        }
    }
}

pub async fn embedded_queue() -> QueueBackend {
    let clock = test_clock();
    let db = EmbeddedDb::memory(Arc::new(clock.clone())).expect("in-memory database");
    let queue_name = unique_name("q");
    let dead_letter = format!("{queue_name}-dlq");
    let queue =
        EmbeddedQueue::new(db).with_redrive(&queue_name, &dead_letter, QueueBackend::MAX_RECEIVES);
    QueueBackend {
        queue: Arc::new(queue),
        clock,
        queue_name,
        dead_letter,
        real_time: false,
    }
}

pub async fn sqs_queue() -> Option<QueueBackend> {
    let endpoint = emulator(MOTO_ENDPOINT)?;
    let config = shared::aws::for_emulator(&endpoint).await;
    let queue = SqsQueue::new(shared::aws::sqs(&config), "");
    let queue_name = unique_name("q");
    let dead_letter = format!("{queue_name}-dlq");
    queue
        .ensure_queue(
            &queue_name,
            Some((&dead_letter, QueueBackend::MAX_RECEIVES)),
        )
        .await
        .expect("create queue on the emulator");
    Some(QueueBackend {
        queue: Arc::new(queue),
        clock: test_clock(),
        queue_name,
        dead_letter,
        real_time: true,
    })
}

pub struct BlobBackend {
    pub blobs: Arc<dyn Blobs>,
    pub clock: ManualClock,
}

pub async fn s3_blobs() -> Option<BlobBackend> {
    let endpoint = emulator(MOTO_ENDPOINT)?;
    let config = shared::aws::for_emulator(&endpoint).await;
    let clock = test_clock();
    let blobs = S3Blobs::new(
        shared::aws::s3(&config),
        unique_name("bucket"),
        Arc::new(clock.clone()),
    );
    blobs
        .ensure_bucket()
        .await
        .expect("create bucket on the emulator");
    Some(BlobBackend {
        blobs: Arc::new(blobs),
        clock,
    })
}

impl BlobBackend {
    /// The local-folder adapter of a running sandbox, which serves its presigned URLs.
    pub fn shared(blobs: Arc<LocalBlobs>, clock: ManualClock) -> Self {
        BlobBackend { blobs, clock }
    }
}

/// Declares each named async case `fn(TableBackend)` once per table backend.
#[macro_export]
macro_rules! table_cases {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case($crate::embedded_table().await).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    if let Some(backend) = $crate::dynamodb_table().await {
                        super::$case(backend).await;
                    }
                }
            )*
        }
    };
}

/// Declares each named async case `fn(QueueBackend)` once per queue backend.
#[macro_export]
macro_rules! queue_cases {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::embedded_queue().await).await;
                }
            )*
        }
        mod sqs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(backend) = $crate::sqs_queue().await {
                        super::$case(backend).await;
                    }
                }
            )*
        }
    };
}

/// An embedded app on an in-memory database with its files in a temporary folder.
pub struct AppFixture {
    pub app: Arc<shared::app::App>,
    pub db: Arc<EmbeddedDb>,
    pub clock: ManualClock,
    pub outbox: std::path::PathBuf,
    _files: tempfile::TempDir,
}

impl AppFixture {
    /// The `.eml` files the outbox mailer wrote, oldest first.
    pub fn outbox_messages(&self) -> Vec<String> {
        read_outbox(&self.outbox)
    }
}

pub fn embedded_app() -> AppFixture {
    embedded_app_at(None)
}

/// An embedded app whose database is the given file (durability tests) or in memory.
pub fn embedded_app_at(database: Option<std::path::PathBuf>) -> AppFixture {
    let clock = test_clock();
    let files = tempfile::tempdir().expect("temp dir");
    let opened = shared::app::EmbeddedApp::open(shared::app::EmbeddedOptions {
        database,
        files: files.path().to_owned(),
        base_url: "http://127.0.0.1:9".into(),
        secret: vec![42; 32],
        staff_token_key: None,
        clock: Arc::new(clock.clone()),
    })
    .expect("embedded app");
    AppFixture {
        app: opened.app,
        db: opened.db,
        clock,
        outbox: opened.outbox,
        _files: files,
    }
}

/// A sandbox on an in-memory database and a free loopback port.
pub async fn start_sandbox() -> SandboxFixture {
    let files = tempfile::tempdir().expect("temp dir");
    let clock = test_clock();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = sandbox::Sandbox::start(sandbox::Options {
        listener,
        storage: sandbox::Storage::Memory(files.path().to_owned()),
        clock: Arc::new(clock.clone()),
        secret: Some(vec![7; 32]),
    })
    .await
    .expect("sandbox starts");
    SandboxFixture {
        sandbox,
        clock,
        _files: files,
    }
}

pub struct SandboxFixture {
    pub sandbox: sandbox::Sandbox,
    pub clock: ManualClock,
    _files: tempfile::TempDir,
}

impl SandboxFixture {
    pub fn base_url(&self) -> String {
        self.sandbox.base_url()
    }

    pub async fn stop(self) {
        self.sandbox.stop().await;
    }
}

/// The `.eml` files in an outbox folder, oldest first.
pub fn read_outbox(dir: &std::path::Path) -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
        .into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}
