//! Queue workers: each consumes one queue, processes every message idempotently, and reports
//! partial batch failures so that only failed messages are retried (and dead-lettered after
//! [`crate::queue::MAX_RECEIVES`] receives).

pub mod consumed;
pub mod notifications;

use crate::app::App;
use crate::queue::{Queue, Receive};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub type WorkerFuture = Pin<Box<dyn Future<Output = Result<(), WorkerError>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The message can never succeed (malformed); it is dropped with an error log rather than
    /// retried into the dead-letter queue.
    #[error("rejected message: {0}")]
    Rejected(String),
    /// Worth retrying: the message returns to the queue.
    #[error("retry: {0}")]
    Retry(String),
}

pub struct Worker {
    /// Names the Lambda binary and the infra function.
    pub name: &'static str,
    pub queue: &'static str,
    /// How long one message may take; the queue's visibility timeout is six times this.
    pub timeout: Duration,
    /// Whether it sends email (only such workers link the mail service and may call it).
    pub sends_mail: bool,
    /// Whether it sends messages back to its own queue, delayed (to act on them later than SQS
    /// can delay a message); only such workers link the queue client and may send.
    pub defers: bool,
    /// The secrets it uses (the function is given these and no others).
    pub secrets: &'static [crate::secrets::Secret],
    pub handle: fn(Arc<App>, String) -> WorkerFuture,
}

async fn process(app: &Arc<App>, worker: &Worker, message_id: &str, body: String) -> bool {
    let (result, counters) = crate::observe::measure((worker.handle)(app.clone(), body)).await;
    match &result {
        Ok(()) => tracing::info!(
            worker = worker.name,
            message_id,
            store_calls = counters.store_calls,
            "message processed"
        ),
        Err(WorkerError::Rejected(reason)) => {
            tracing::error!(worker = worker.name, message_id, reason = %reason, "message rejected")
        }
        Err(WorkerError::Retry(reason)) => {
            tracing::warn!(worker = worker.name, message_id, reason = %reason, "message will be retried")
        }
    }
    !matches!(result, Err(WorkerError::Retry(_)))
}

/// Handles one SQS event as Lambda delivers it.
pub async fn handle_sqs(app: &Arc<App>, worker: &Worker, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
        if !process(app, worker, &id, record.body.unwrap_or_default()).await {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// The `main` of a worker's function.
pub async fn serve(
    worker: &'static Worker,
    adapters: crate::app::AwsAdapters,
) -> Result<(), lambda_runtime::Error> {
    crate::observe::init_logging();
    let app = App::from_env(adapters).await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<SqsEvent>| {
            let app = app.clone();
            async move {
                Ok::<_, std::convert::Infallible>(handle_sqs(&app, worker, event.payload).await)
            }
        },
    ))
    .await
}

/// Receives and processes what is ready on the worker's queue once; returns how many messages
/// were handled (the sandbox's loop and tests drive this).
pub async fn poll_once(app: &Arc<App>, queue: &dyn Queue, worker: &Worker) -> usize {
    let options = Receive {
        max_messages: 10,
        visibility: worker.timeout * 6,
        wait: Duration::ZERO,
    };
    let messages = match queue.receive(worker.queue, options).await {
        Ok(messages) => messages,
        Err(e) => {
            tracing::error!(worker = worker.name, error = %e, "receive failed");
            return 0;
        }
    };
    let count = messages.len();
    for message in messages {
        if process(app, worker, &message.id, message.body).await {
            if let Err(e) = queue.delete(worker.queue, &message.receipt).await {
                tracing::error!(worker = worker.name, error = %e, "delete failed");
            }
        }
    }
    count
}

/// The sandbox's loop for one worker, until `shutdown` fires.
pub async fn run_polling(
    app: Arc<App>,
    worker: &'static Worker,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let handled = poll_once(&app, app.queue.as_ref(), worker).await;
        if handled == 0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
