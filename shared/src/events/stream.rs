//! The DynamoDB Streams consumer that dispatches outbox items in AWS. The event source mapping
//! (infra) filters the stream to INSERTs of items whose `entity` is `event`, and reports batch
//! item failures so that only the records from the first failure on are retried.

use super::DomainEvent;
use crate::app::App;
use crate::queue::Queue;
use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use std::sync::Arc;

/// Dispatches a batch of stream records; on the first failure, reports it and stops, since
/// stream records must be processed in order.
pub async fn handle(queue: &dyn Queue, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        if record.event_name != "INSERT" {
            continue;
        }
        let sequence = record.change.sequence_number.clone();
        let event: Option<DomainEvent> =
            match crate::store::dynamo::item_from_stream_image(record.change.new_image) {
                Ok(item) => super::from_item(&item),
                Err(e) => {
                    tracing::error!(error = %e, "unreadable stream image; skipped");
                    None
                }
            };
        let Some(event) = event else { continue };
        if let Err(e) = super::dispatch::send(queue, &event).await {
            tracing::error!(error = %e, event_id = %event.id, "dispatch failed");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence;
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}

/// The `main` of the stream dispatcher function.
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    crate::observe::init_logging();
    let app: Arc<App> = App::from_env(crate::app::AwsAdapters::TABLE.with_queue()).await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Event>| {
            let app = app.clone();
            async move {
                Ok::<_, std::convert::Infallible>(handle(app.queue.as_ref(), event.payload).await)
            }
        },
    ))
    .await
}
