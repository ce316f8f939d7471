//! The event dispatcher of the sandbox on AWS services (`--aws`). Deployed, a Lambda function
//! reads the table's DynamoDB stream through an event source mapping; the sandbox has no event
//! source mapping, so this polls the same stream and sends each new outbox event to the queues
//! that consume it, as that function does. At least once: a record whose event could not be sent
//! is read again (consumers deduplicate on the event id).

use aws_sdk_dynamodbstreams::types::{AttributeValue, OperationType, Record, ShardIteratorType};
use shared::queue::Queue;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the stream is read when it had nothing, and its shards listed again.
const IDLE: Duration = Duration::from_millis(500);
const RELIST: Duration = Duration::from_secs(10);

pub struct StreamPoller {
    streams: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    queue: Arc<dyn Queue>,
    /// The next iterator of each open shard.
    iterators: HashMap<String, String>,
    /// Shards read to their end.
    finished: HashSet<String>,
}

impl StreamPoller {
    /// A poller of `table`'s stream, from the oldest record it keeps; `None` (with a warning)
    /// when the table has no stream.
    pub async fn new(
        sdk: &aws_config::SdkConfig,
        table: &str,
        queue: Arc<dyn Queue>,
    ) -> anyhow::Result<Option<Self>> {
        let described = shared::aws::dynamodb(sdk)
            .describe_table()
            .table_name(table)
            .send()
            .await?;
        let Some(stream_arn) = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .map(str::to_owned)
        else {
            tracing::warn!(
                table,
                "the table has no stream, so events are not dispatched: enable a NEW_IMAGE stream \
                 (the generated template and --create-resources do)"
            );
            return Ok(None);
        };
        Ok(Some(StreamPoller {
            streams: aws_sdk_dynamodbstreams::Client::new(sdk),
            stream_arn,
            queue,
            iterators: HashMap::new(),
            finished: HashSet::new(),
        }))
    }

    /// Starts reading shards not seen yet (a stream splits and rolls its shards over time).
    async fn list_shards(&mut self) -> anyhow::Result<()> {
        let mut start: Option<String> = None;
        loop {
            let described = self
                .streams
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await?;
            let Some(description) = described.stream_description() else {
                return Ok(());
            };
            for shard in description.shards() {
                let Some(id) = shard.shard_id() else { continue };
                if self.iterators.contains_key(id) || self.finished.contains(id) {
                    continue;
                }
                let iterator = self
                    .streams
                    .get_shard_iterator()
                    .stream_arn(&self.stream_arn)
                    .shard_id(id)
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send()
                    .await?;
                if let Some(iterator) = iterator.shard_iterator() {
                    self.iterators.insert(id.to_owned(), iterator.to_owned());
                }
            }
            match description.last_evaluated_shard_id() {
                Some(last) => start = Some(last.to_owned()),
                None => return Ok(()),
            }
        }
    }

    /// Reads every open shard once and dispatches what it holds; returns the events sent.
    pub async fn poll(&mut self) -> anyhow::Result<usize> {
        let mut sent = 0;
        let shards: Vec<(String, String)> = self
            .iterators
            .iter()
            .map(|(shard, iterator)| (shard.clone(), iterator.clone()))
            .collect();
        for (shard, iterator) in shards {
            let read = self
                .streams
                .get_records()
                .shard_iterator(iterator)
                .limit(100)
                .send()
                .await?;
            for record in read.records() {
                // A failure leaves the shard's iterator where it was: the batch is read again.
                sent += self.dispatch(record).await?;
            }
            match read.next_shard_iterator() {
                Some(next) => {
                    self.iterators.insert(shard, next.to_owned());
                }
                None => {
                    self.iterators.remove(&shard);
                    self.finished.insert(shard);
                }
            }
        }
        Ok(sent)
    }

    async fn dispatch(&self, record: &Record) -> anyhow::Result<usize> {
        if record.event_name() != Some(&OperationType::Insert) {
            return Ok(0);
        }
        let Some(image) = record.dynamodb().and_then(|d| d.new_image()) else {
            return Ok(0);
        };
        let image: HashMap<String, serde_dynamo::AttributeValue> = image
            .iter()
            .map(|(name, value)| (name.clone(), convert(value)))
            .collect();
        let item = shared::store::dynamo::item_from_stream_image(image.into())?;
        let Some(event) = shared::events::from_item(&item) else {
            return Ok(0);
        };
        shared::events::dispatch::send(self.queue.as_ref(), &event).await?;
        Ok(1)
    }

    /// Polls until `shutdown` fires, logging and retrying failures.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut listed: Option<tokio::time::Instant> = None;
        loop {
            if listed.is_none_or(|at| at.elapsed() >= RELIST) || self.iterators.is_empty() {
                match self.list_shards().await {
                    Ok(()) => listed = Some(tokio::time::Instant::now()),
                    Err(e) => tracing::error!(error = %e, "listing the stream's shards failed"),
                }
            }
            let sent = match self.poll().await {
                Ok(sent) => sent,
                Err(e) => {
                    tracing::error!(error = %e, "event dispatch failed; retrying");
                    0
                }
            };
            if sent == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}

/// A stream image's value as the table's item conversion reads it.
fn convert(value: &AttributeValue) -> serde_dynamo::AttributeValue {
    use serde_dynamo::AttributeValue as Out;
    match value {
        AttributeValue::S(s) => Out::S(s.clone()),
        AttributeValue::N(n) => Out::N(n.clone()),
        AttributeValue::Bool(b) => Out::Bool(*b),
        AttributeValue::Null(_) => Out::Null(true),
        AttributeValue::B(b) => Out::B(b.clone().into_inner()),
        AttributeValue::Ss(list) => Out::Ss(list.clone()),
        AttributeValue::Ns(list) => Out::Ns(list.clone()),
        AttributeValue::Bs(list) => Out::Bs(list.iter().map(|b| b.clone().into_inner()).collect()),
        AttributeValue::L(list) => Out::L(list.iter().map(convert).collect()),
        AttributeValue::M(map) => Out::M(
            map.iter()
                .map(|(name, value)| (name.clone(), convert(value)))
                .collect(),
        ),
        // A type this SDK does not know yet: nothing an outbox item holds.
        _ => Out::Null(true),
    }
}
