//! The application: the ports every handler and worker uses, built once per container.

mod checked;
pub mod lists;

use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::config::Config;
use crate::ids::IdGen;
use crate::mail::Mailer;
use crate::queue::Queue;
use crate::store::metered::MeteredTable;
use crate::store::Table;
use std::sync::Arc;

pub struct App {
    /// The single table, metered per request.
    pub table: Arc<dyn Table>,
    pub queue: Arc<dyn Queue>,
    pub blobs: Arc<dyn Blobs>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    pub config: Config,
    /// Per-container caches, one of each type, owned by the module that defines the type
    /// ([`App::cache`]): adding one never changes the app.
    caches: std::sync::RwLock<
        std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>,
    >,
}

/// The parts an [`App`] is made of; each entry point chooses its adapters.
pub struct Parts {
    pub table: Arc<dyn Table>,
    pub queue: Arc<dyn Queue>,
    pub blobs: Arc<dyn Blobs>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    pub config: Config,
}

impl App {
    pub fn new(parts: Parts) -> Arc<Self> {
        Arc::new(App {
            table: MeteredTable::wrap(parts.table),
            queue: Arc::new(checked::CheckedQueue(parts.queue)),
            blobs: Arc::new(checked::CheckedBlobs(parts.blobs)),
            mailer: Arc::new(checked::CheckedMailer(parts.mailer)),
            clock: parts.clock,
            ids: parts.ids,
            config: parts.config,
            caches: Default::default(),
        })
    }

    /// This container's cache of type `T`, made empty on first use. A module keeps what it
    /// caches (settings groups, API keys, taxonomies, staff standing) in a type of its own.
    pub fn cache<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let id = std::any::TypeId::of::<T>();
        let found = self
            .caches
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&id)
            .cloned();
        let any = match found {
            Some(any) => any,
            None => self
                .caches
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry(id)
                .or_insert_with(|| Arc::new(T::default()))
                .clone(),
        };
        any.downcast::<T>()
            .unwrap_or_else(|_| unreachable!("the cache of a type holds that type"))
    }

    /// The app of a Lambda function: the table and the adapters its `main` chose, on AWS clients
    /// built from the standard environment.
    pub async fn from_env(adapters: AwsAdapters) -> Result<Arc<Self>, crate::config::ConfigError> {
        use crate::clock::SystemClock;
        use crate::ids::UlidGen;
        use crate::store::dynamo::DynamoTable;

        let mut config = Config::from_env()?;
        let sdk = crate::aws::from_env().await;
        // One Secrets Manager call at cold start, only in functions that declare secrets.
        let ids = Config::secret_ids_from_env()?;
        if !ids.is_empty() {
            let load = adapters.secrets.ok_or_else(|| {
                crate::config::ConfigError(format!(
                    "{} is set but this function was built without secrets",
                    crate::config::env::SECRET_IDS
                ))
            })?;
            for (secret, material) in load(&sdk, ids).await? {
                config.hold(secret, material)?;
            }
        }
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        // Building a client is cheap and makes no network call; credentials resolve on first use.
        Ok(App::new(Parts {
            table: Arc::new(DynamoTable::new(
                crate::aws::dynamodb(&sdk),
                config.table.clone(),
                clock.clone(),
            )),
            queue: (adapters.queue)(&sdk, &config, &clock),
            blobs: (adapters.blobs)(&sdk, &config, &clock),
            mailer: (adapters.mailer)(&sdk, &config, &clock),
            clock,
            ids: Arc::new(UlidGen::default()),
            config,
        }))
    }
}

/// The AWS adapters a function links besides the table, chosen by its generated `main` from the
/// access it declares. Each field is a constructor: a binary whose `main` never names a service's
/// constructor never links that service's SDK client, which keeps binaries small and cold starts
/// short. A port left out answers every call with an `Unavailable` error (its IAM role would
/// refuse the call anyway).
#[derive(Clone, Copy)]
pub struct AwsAdapters {
    queue: Build<dyn Queue>,
    blobs: Build<dyn Blobs>,
    mailer: Build<dyn Mailer>,
    secrets: Option<LoadSecrets>,
}

/// Loads the named secrets at cold start.
type LoadSecrets =
    fn(&aws_config::SdkConfig, Vec<(crate::secrets::Secret, String)>) -> crate::secrets::LoadFuture;

/// Builds one adapter from the SDK configuration, the app's configuration and its clock.
type Build<Port> = fn(&aws_config::SdkConfig, &Config, &Arc<dyn Clock>) -> Arc<Port>;

impl AwsAdapters {
    /// The table alone.
    pub const TABLE: AwsAdapters = AwsAdapters {
        queue: |_, _, _| Arc::new(crate::queue::absent::AbsentQueue),
        blobs: |_, _, _| Arc::new(crate::blobs::absent::AbsentBlobs),
        mailer: |_, _, _| Arc::new(crate::mail::absent::AbsentMailer),
        secrets: None,
    };

    /// Every adapter (the sandbox on AWS services).
    pub const ALL: AwsAdapters = Self::TABLE
        .with_queue()
        .with_blobs()
        .with_mailer()
        .with_secrets();

    /// Adds SQS, with the queue URLs the template passes in `COMMERCE_QUEUE_URL_<NAME>`.
    pub const fn with_queue(self) -> Self {
        AwsAdapters {
            queue: sqs_queue,
            ..self
        }
    }

    /// Adds the S3 files bucket.
    pub const fn with_blobs(self) -> Self {
        AwsAdapters {
            blobs: |sdk, config, clock| {
                Arc::new(crate::blobs::s3::S3Blobs::new(
                    crate::aws::s3(sdk),
                    config.bucket.clone(),
                    clock.clone(),
                ))
            },
            ..self
        }
    }

    /// Adds Secrets Manager, read once at cold start for the secrets the function declares.
    pub const fn with_secrets(self) -> Self {
        AwsAdapters {
            secrets: Some(|sdk, ids| {
                crate::secrets::load_from_secrets_manager(crate::aws::secrets_manager(sdk), ids)
            }),
            ..self
        }
    }

    /// Adds SES.
    pub const fn with_mailer(self) -> Self {
        AwsAdapters {
            mailer: |sdk, _, _| Arc::new(crate::mail::ses::SesMailer::new(crate::aws::ses(sdk))),
            ..self
        }
    }
}

fn sqs_queue(sdk: &aws_config::SdkConfig, config: &Config, _: &Arc<dyn Clock>) -> Arc<dyn Queue> {
    let mut queue =
        crate::queue::sqs::SqsQueue::new(crate::aws::sqs(sdk), config.queue_prefix.clone());
    for name in crate::queue::names::ALL {
        let var = format!(
            "COMMERCE_QUEUE_URL_{}",
            name.to_ascii_uppercase().replace('-', "_")
        );
        if let Some(url) = std::env::var(var).ok().filter(|u| !u.is_empty()) {
            queue = queue.with_url(name, url);
        }
    }
    Arc::new(queue)
}

/// An app on embedded storage: the sandbox's, and the one HTTP tests run on.
pub struct EmbeddedApp {
    pub app: Arc<App>,
    pub db: Arc<crate::store::embedded::EmbeddedDb>,
    pub blobs: Arc<crate::blobs::local::LocalBlobs>,
    /// Where the outbox mailer writes `.eml` files.
    pub outbox: std::path::PathBuf,
}

pub struct EmbeddedOptions {
    /// The database file; `None` keeps everything in memory.
    pub database: Option<std::path::PathBuf>,
    /// Where blobs and the mail outbox live (a temporary folder for in-memory runs).
    pub files: std::path::PathBuf,
    /// Where the sandbox listens, for presigned blob URLs.
    pub base_url: String,
    pub secret: Vec<u8>,
    /// The staff token signing key (PEM); `None` makes one for this root secret, kept for the
    /// process's life. A durable sandbox keeps its own so sessions survive restarts.
    pub staff_token_key: Option<String>,
    pub clock: Arc<dyn Clock>,
}

impl EmbeddedApp {
    pub fn open(
        options: EmbeddedOptions,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Self::open_wrapping(options, |table| table)
    }

    /// Opens the app with its table wrapped by `wrap` (tests inject store failures this way).
    pub fn open_wrapping(
        options: EmbeddedOptions,
        wrap: impl FnOnce(Arc<dyn Table>) -> Arc<dyn Table>,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        use crate::blobs::local::LocalBlobs;
        use crate::ids::UlidGen;
        use crate::mail::outbox::OutboxMailer;
        use crate::queue::embedded::EmbeddedQueue;
        use crate::store::embedded::{EmbeddedDb, EmbeddedTable};

        let db = match &options.database {
            Some(path) => EmbeddedDb::open(path, options.clock.clone())?,
            None => EmbeddedDb::memory(options.clock.clone())?,
        };
        let blob_url_key = crate::secrets::derive_from_root(&options.secret, "blob-url");
        let mut config = Config::new(options.secret)?;
        config.public_url = options.base_url.clone();
        config.set_token_issuer(options.base_url.trim_end_matches('/'));
        if let Some(pem) = options.staff_token_key {
            config.hold(crate::secrets::Secret::StaffTokens, pem.into_bytes())?;
        }
        config.server_timing = true;
        // The sandbox's own pages (`/docs`) call the admin API from its origin; more come from
        // the environment, as in Lambda.
        config.admin_origins = vec![options.base_url.clone()];
        if let Ok(more) = std::env::var(crate::config::env::ADMIN_ORIGINS) {
            config
                .admin_origins
                .extend(crate::config::parse_origins(&more));
        }
        let blobs = Arc::new(LocalBlobs::new(
            &options.files.join("blobs"),
            &options.base_url,
            &blob_url_key,
            options.clock.clone(),
        ));
        let outbox = options.files.join("outbox");
        let app = App::new(Parts {
            table: wrap(Arc::new(EmbeddedTable::new(db.clone()))),
            queue: Arc::new(EmbeddedQueue::platform(db.clone())),
            blobs: blobs.clone(),
            mailer: Arc::new(OutboxMailer::new(outbox.clone(), options.clock.clone())),
            clock: options.clock,
            ids: Arc::new(UlidGen::default()),
            config,
        });
        Ok(EmbeddedApp {
            app,
            db,
            blobs,
            outbox,
        })
    }
}
