//! `cargo run -p sandbox`: the whole API on 127.0.0.1:3000.

use clap::Parser;
use sandbox::{start_default, Storage};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    about = "Runs the commerce API locally, with every route, the event dispatcher and the queue workers"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SANDBOX_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "SANDBOX_PORT", default_value_t = 3000)]
    port: u16,
    /// Where data, uploaded files and the mail outbox are kept.
    #[arg(long, env = "SANDBOX_DATA_DIR", default_value = ".sandbox")]
    data_dir: PathBuf,
    /// Keep the database in memory (throwaway data); files go to a temporary folder.
    #[arg(long, env = "SANDBOX_MEMORY", conflicts_with = "aws")]
    memory: bool,
    /// Use DynamoDB, SQS, S3 and SES as the standard AWS environment configures them (an
    /// account, or emulators through AWS_ENDPOINT_URL).
    #[arg(long, env = "SANDBOX_AWS")]
    aws: bool,
    /// With --aws: create the table, queues and bucket if they are missing (emulators).
    #[arg(long, env = "SANDBOX_CREATE_RESOURCES", requires = "aws")]
    create_resources: bool,
    /// Fill the sandbox with demo data: `demo` makes a company with a storefront key, categories,
    /// two stock locations, about fifty products with stock and three collections (skipped when
    /// the demo company exists).
    #[arg(long, value_enum)]
    seed: Option<Seed>,
    /// `pretty`: one readable line per request; `json`: JSON lines, as deployed functions write.
    #[arg(long, value_enum, env = "SANDBOX_LOG_FORMAT", default_value = "pretty")]
    log_format: sandbox::logs::LogFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Seed {
    Demo,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    sandbox::logs::init(args.log_format);
    let storage = if args.aws {
        Storage::Aws {
            create_resources: args.create_resources,
        }
    } else if args.memory {
        let dir = std::env::temp_dir().join(format!("commerce-sandbox-{}", std::process::id()));
        Storage::Memory(dir)
    } else {
        Storage::Durable(args.data_dir.clone())
    };
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await?;
    let sandbox = start_default(listener, storage.clone()).await?;
    let base = sandbox.base_url();
    println!("Commerce sandbox listening on {base}");
    println!("  API reference   {base}/docs   (OpenAPI: {base}/openapi.json)");
    match &storage {
        Storage::Durable(dir) => {
            println!("  data            {}", dir.join("commerce.db").display());
            println!("  mail outbox     {}", dir.join("outbox").display());
        }
        Storage::Memory(dir) => {
            println!("  data            in memory (gone when the sandbox stops)");
            println!("  mail outbox     {}", dir.join("outbox").display());
        }
        Storage::Aws { .. } => println!("  data            AWS services from the environment"),
    }
    if let Some(Seed::Demo) = args.seed {
        // Quietly: the hundreds of requests seeding makes would bury the summary.
        use tracing::instrument::WithSubscriber;
        println!("Seeding demo data…");
        let seeded = sandbox::seed::demo(
            sandbox.app.clone(),
            sandbox.embedded.as_ref().map(|e| e.blobs.clone()),
        )
        .with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await?;
        println!();
        match &seeded.storefront_key {
            Some(key) => {
                println!(
                    "Demo data: {} products, stock at {} locations, {} collections",
                    seeded.products, seeded.locations, seeded.collections
                );
                println!("  storefront key  {key}");
            }
            None => println!("Demo data: already there (its storefront key was printed then)"),
        }
        println!(
            "  owner sign-in   company {}, {} / {}",
            sandbox::seed::HANDLE,
            sandbox::seed::OWNER_EMAIL,
            sandbox::seed::OWNER_PASSWORD
        );
        println!("  try             curl -H 'x-api-key: <key>' {base}/store/products");
        println!();
    }
    println!("Press Ctrl-C to stop.");
    shutdown_signal().await;
    println!("Stopping: finishing requests in flight…");
    sandbox.stop().await;
    if let Storage::Memory(dir) = &storage {
        let _ = std::fs::remove_dir_all(dir);
    }
    println!("Stopped.");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
