//! The DynamoDB table adapter (aws-sdk-dynamodb).
//!
//! Typed port operations become expressions here and nowhere else. Every read is strongly
//! consistent where DynamoDB allows it (not on GSIs), expired items are left out of reads, and
//! consumed capacity is reported to the request's metrics.

use super::{
    attr, is_expired, key_projection, validate_transaction, Comparison, Condition, Index, Item,
    Key, Page, Query, SortKey, StoreError, Table, TxOp, Update, MAX_BATCH_GET_KEYS,
};
use crate::clock::Clock;
use crate::observe;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, ConsumedCapacity, Delete,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType,
    Put, ReturnConsumedCapacity, ReturnValue, ScalarAttributeType, StreamSpecification,
    StreamViewType, TimeToLiveSpecification, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use serde_dynamo::aws_sdk_dynamodb_1 as convert;
use std::collections::HashMap;
use std::sync::Arc;

type AttrMap = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        DynamoTable {
            client,
            table: table.into(),
            clock,
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    fn now(&self) -> i64 {
        self.clock.epoch_seconds()
    }

    /// Creates the table with the keys, indexes, TTL and stream the data model needs, unless it
    /// exists. Used against DynamoDB Local and by tests; in AWS the infra template owns the table.
    pub async fn ensure_table(&self) -> Result<(), StoreError> {
        self.create_table(true).await
    }

    /// [`DynamoTable::ensure_table`] without the stream, for tests that never read it:
    /// DynamoDB Local keeps every stream record, even a deleted table's, and slows down more
    /// with each one (a test run's 400th table took ten times as long to fill as its first).
    pub async fn ensure_table_without_stream(&self) -> Result<(), StoreError> {
        self.create_table(false).await
    }

    async fn create_table(&self, stream: bool) -> Result<(), StoreError> {
        let s = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition is complete")
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("key schema is complete")
        };
        let gsi = |index: Index| {
            let (pk, sk) = index.key_attrs();
            GlobalSecondaryIndex::builder()
                .index_name(index.name().expect("a GSI has a name"))
                .key_schema(key(pk, KeyType::Hash))
                .key_schema(key(sk, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("index is complete")
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(
                [
                    attr::PK,
                    attr::SK,
                    attr::GSI1PK,
                    attr::GSI1SK,
                    attr::GSI2PK,
                    attr::GSI2SK,
                ]
                .into_iter()
                .map(s)
                .collect(),
            ))
            .key_schema(key(attr::PK, KeyType::Hash))
            .key_schema(key(attr::SK, KeyType::Range))
            .global_secondary_indexes(gsi(Index::Gsi1))
            .global_secondary_indexes(gsi(Index::Gsi2))
            // As in the template: the event dispatcher reads new outbox items from the stream.
            .set_stream_specification(stream.then(|| {
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
                    .expect("stream specification is complete")
            }))
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
            Err(e) => return Err(sdk_error(e)),
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attr::TTL)
                    .enabled(true)
                    .build()
                    .expect("ttl specification is complete"),
            )
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }
}

/// Placeholders for one expression: `#n0`/`:v0` and so on, never user text in the expression.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: AttrMap,
}

impl Expr {
    fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| n.as_str() == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn condition(&mut self, condition: &Condition) -> Result<String, StoreError> {
        Ok(match condition {
            Condition::NotExists => format!("attribute_not_exists({})", self.name(attr::PK)),
            Condition::Exists => format!("attribute_exists({})", self.name(attr::PK)),
            Condition::AbsentOrExpired { now } => format!(
                "(attribute_not_exists({}) OR {} <= {})",
                self.name(attr::PK),
                self.name(attr::TTL),
                self.value(number(*now))
            ),
            Condition::VersionIs(v) => format!(
                "{} = {}",
                self.name(attr::VERSION),
                self.value(AttributeValue::N(v.to_string()))
            ),
            Condition::Number { attr, cmp, value } => format!(
                "{} {} {}",
                self.name(attr),
                operator(*cmp),
                self.value(number(*value))
            ),
            Condition::Equals { attr, value } => {
                format!("{} = {}", self.name(attr), self.value(to_value(value)?))
            }
            Condition::All(list) | Condition::Any(list) => {
                if list.is_empty() {
                    return Err(StoreError::Invalid("an empty condition list".into()));
                }
                let parts = list
                    .iter()
                    .map(|c| self.condition(c))
                    .collect::<Result<Vec<_>, _>>()?;
                let joiner = if matches!(condition, Condition::All(_)) {
                    " AND "
                } else {
                    " OR "
                };
                format!("({})", parts.join(joiner))
            }
        })
    }

    fn update(&mut self, update: &Update) -> Result<Option<String>, StoreError> {
        update.validate()?;
        let mut clauses = Vec::new();
        if !update.set.is_empty() {
            let mut parts = Vec::new();
            for (name, value) in &update.set {
                parts.push(format!(
                    "{} = {}",
                    self.name(name),
                    self.value(to_value(value)?)
                ));
            }
            clauses.push(format!("SET {}", parts.join(", ")));
        }
        if !update.remove.is_empty() {
            let parts: Vec<String> = update.remove.iter().map(|n| self.name(n)).collect();
            clauses.push(format!("REMOVE {}", parts.join(", ")));
        }
        if !update.add.is_empty() {
            let mut parts = Vec::new();
            for (name, delta) in &update.add {
                parts.push(format!(
                    "{} {}",
                    self.name(name),
                    self.value(number(*delta))
                ));
            }
            clauses.push(format!("ADD {}", parts.join(", ")));
        }
        Ok((!clauses.is_empty()).then(|| clauses.join(" ")))
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<AttrMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn operator(cmp: Comparison) -> &'static str {
    match cmp {
        Comparison::Eq => "=",
        Comparison::Lt => "<",
        Comparison::Le => "<=",
        Comparison::Gt => ">",
        Comparison::Ge => ">=",
    }
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn to_value(value: &serde_json::Value) -> Result<AttributeValue, StoreError> {
    convert::to_attribute_value(value).map_err(|e| StoreError::Invalid(e.to_string()))
}

fn to_attrs(item: &Item) -> Result<AttrMap, StoreError> {
    convert::to_item(item).map_err(|e| StoreError::Invalid(e.to_string()))
}

fn from_attrs(attrs: AttrMap) -> Result<Item, StoreError> {
    convert::from_item(attrs).map_err(|e| StoreError::Unavailable(format!("corrupt item: {e}")))
}

fn key_attrs(key: &Key) -> AttrMap {
    HashMap::from([
        (attr::PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (attr::SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn sdk_error<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match e.code() {
        Some("ConditionalCheckFailedException") => StoreError::ConditionFailed,
        Some("TransactionConflictException") => StoreError::Conflict,
        // DynamoDB Local gives up on a request that waited too long for an item's lock (which
        // it applies nowhere) with this error; DynamoDB itself answers such a collision as a
        // transaction conflict. Either way nothing was written and reading again is the answer.
        Some("InternalServerError")
            if e.message()
                .is_some_and(|m| m.contains("waiting for a lock")) =>
        {
            StoreError::Conflict
        }
        Some("ValidationException") => {
            StoreError::Invalid(e.message().unwrap_or("validation failed").to_owned())
        }
        _ => StoreError::Unavailable(describe(&e)),
    }
}

fn describe<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => format!("{e:?}"),
    }
}

/// Reports the capacity a call consumed; `write` for puts, updates, deletes and transactions
/// (whose condition checks are billed with them).
fn report(capacity: Option<&ConsumedCapacity>, write: bool) {
    if let Some(units) = capacity.and_then(ConsumedCapacity::capacity_units) {
        observe::record_capacity(units, write);
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk_error)?;
        report(out.consumed_capacity(), false);
        let now = self.now();
        match out.item {
            Some(attrs) => Ok(Some(from_attrs(attrs)?).filter(|i| !is_expired(i, now))),
            None => Ok(None),
        }
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        if keys.len() > MAX_BATCH_GET_KEYS {
            return Err(StoreError::Invalid(format!(
                "a batch get holds at most {MAX_BATCH_GET_KEYS} keys"
            )));
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut unique: Vec<&Key> = Vec::with_capacity(keys.len());
        for key in keys {
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(unique.into_iter().map(key_attrs).collect()))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
        );
        let now = self.now();
        let mut out = Vec::with_capacity(keys.len());
        let mut backoff = std::time::Duration::from_millis(20);
        while let Some(request) = pending.take() {
            let response = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(sdk_error)?;
            for capacity in response.consumed_capacity() {
                report(Some(capacity), false);
            }
            if let Some(mut responses) = response.responses {
                for attrs in responses.remove(&self.table).unwrap_or_default() {
                    let item = from_attrs(attrs)?;
                    if !is_expired(&item, now) {
                        out.push(item);
                    }
                }
            }
            // Throttled keys come back unprocessed; ask again after a short, growing pause.
            pending = response
                .unprocessed_keys
                .and_then(|mut left| left.remove(&self.table))
                .filter(|left| !left.keys().is_empty());
            if pending.is_some() {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(1));
            }
        }
        Ok(out)
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        let mut expr = Expr::default();
        let condition = condition.map(|c| expr.condition(&c)).transpose()?;
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)?))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk_error)?;
        report(out.consumed_capacity(), true);
        Ok(())
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        let mut expr = Expr::default();
        let update_expression = expr.update(&update)?;
        let condition = condition.map(|c| expr.condition(&c)).transpose()?;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_update_expression(update_expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk_error)?;
        report(out.consumed_capacity(), true);
        from_attrs(out.attributes.unwrap_or_else(|| key_attrs(key)))
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        let mut expr = Expr::default();
        let condition = condition.map(|c| expr.condition(&c)).transpose()?;
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk_error)?;
        report(out.consumed_capacity(), true);
        let now = self.now();
        out.attributes
            .map(from_attrs)
            .transpose()
            .map(|item| item.filter(|i| !is_expired(i, now)))
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let mut expr = Expr::default();
        let (pk_attr, sk_attr) = query.index.key_attrs();
        let pk = expr.name(pk_attr);
        let pk_value = expr.value(AttributeValue::S(query.pk.clone()));
        let mut key_condition = format!("{pk} = {pk_value}");
        let mut sk_clause = |op: &str, value: &str, expr: &mut Expr| {
            let sk = expr.name(sk_attr);
            let v = expr.value(AttributeValue::S(value.to_owned()));
            key_condition.push_str(&format!(" AND {sk} {op} {v}"));
        };
        match &query.sk {
            SortKey::Any => {}
            SortKey::Eq(v) => sk_clause("=", v, &mut expr),
            SortKey::Lt(v) => sk_clause("<", v, &mut expr),
            SortKey::Le(v) => sk_clause("<=", v, &mut expr),
            SortKey::Gt(v) => sk_clause(">", v, &mut expr),
            SortKey::Ge(v) => sk_clause(">=", v, &mut expr),
            SortKey::Between(lo, hi) => {
                let sk = expr.name(sk_attr);
                let lo = expr.value(AttributeValue::S(lo.clone()));
                let hi = expr.value(AttributeValue::S(hi.clone()));
                key_condition.push_str(&format!(" AND {sk} BETWEEN {lo} AND {hi}"));
            }
            SortKey::BeginsWith(prefix) => {
                let sk = expr.name(sk_attr);
                let p = expr.value(AttributeValue::S(prefix.clone()));
                key_condition.push_str(&format!(" AND begins_with({sk}, {p})"));
            }
        }
        let start = query.after.as_ref().map(to_attrs).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.name().map(str::to_owned))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .scan_index_forward(query.forward)
            .limit(query.limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start)
            .consistent_read(query.index == Index::Table)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk_error)?;
        report(out.consumed_capacity(), false);
        let now = self.now();
        let mut items = Vec::with_capacity(out.items().len());
        for attrs in out.items.unwrap_or_default() {
            let item = from_attrs(attrs)?;
            if !is_expired(&item, now) {
                items.push(item);
            }
        }
        let last_key = out
            .last_evaluated_key
            .map(from_attrs)
            .transpose()?
            .map(|k| key_projection(&k, query.index));
        Ok(Page { items, last_key })
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        validate_transaction(&ops)?;
        let mut items = Vec::with_capacity(ops.len());
        for op in &ops {
            let mut expr = Expr::default();
            let built = match op {
                TxOp::Put { item, condition } => {
                    let condition = condition.as_ref().map(|c| expr.condition(c)).transpose()?;
                    TransactWriteItem::builder().put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(to_attrs(item)?))
                            .set_condition_expression(condition)
                            .set_expression_attribute_names(expr.names())
                            .set_expression_attribute_values(expr.values())
                            .build()
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )
                }
                TxOp::Update {
                    key,
                    update,
                    condition,
                } => {
                    let update_expression = expr.update(update)?.ok_or_else(|| {
                        StoreError::Invalid("a transactional update needs an action".into())
                    })?;
                    let condition = condition.as_ref().map(|c| expr.condition(c)).transpose()?;
                    TransactWriteItem::builder().update(
                        aws_sdk_dynamodb::types::Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_attrs(key)))
                            .update_expression(update_expression)
                            .set_condition_expression(condition)
                            .set_expression_attribute_names(expr.names())
                            .set_expression_attribute_values(expr.values())
                            .build()
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )
                }
                TxOp::Delete { key, condition } => {
                    let condition = condition.as_ref().map(|c| expr.condition(c)).transpose()?;
                    TransactWriteItem::builder().delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_attrs(key)))
                            .set_condition_expression(condition)
                            .set_expression_attribute_names(expr.names())
                            .set_expression_attribute_values(expr.values())
                            .build()
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )
                }
                TxOp::Check { key, condition } => {
                    let condition = expr.condition(condition)?;
                    TransactWriteItem::builder().condition_check(
                        ConditionCheck::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_attrs(key)))
                            .condition_expression(condition)
                            .set_expression_attribute_names(expr.names())
                            .set_expression_attribute_values(expr.values())
                            .build()
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )
                }
            };
            items.push(built.build());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                for capacity in out.consumed_capacity() {
                    report(Some(capacity), true);
                }
                Ok(())
            }
            Err(e) => Err(transaction_error(e)),
        }
    }
}

fn transaction_error(
    e: SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> StoreError {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    if let SdkError::ServiceError(service) = &e {
        if let E::TransactionCanceledException(cancelled) = service.err() {
            let reasons = cancelled.cancellation_reasons();
            let failed: Vec<usize> = reasons
                .iter()
                .enumerate()
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(i, _)| i)
                .collect();
            if !failed.is_empty() {
                return StoreError::TransactionCancelled { failed };
            }
            if reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"))
            {
                return StoreError::Conflict;
            }
        }
    }
    sdk_error(e)
}

/// Exposed for the stream dispatcher, which receives DynamoDB images from Lambda.
pub fn item_from_stream_image(image: serde_dynamo::Item) -> Result<Item, StoreError> {
    serde_dynamo::from_item(image).map_err(|e| StoreError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_use_placeholders_only() {
        let mut expr = Expr::default();
        let text = expr
            .condition(&Condition::All(vec![
                Condition::VersionIs(3),
                Condition::Number {
                    attr: "on hand; DROP".into(),
                    cmp: Comparison::Ge,
                    value: 2,
                },
            ]))
            .unwrap();
        assert_eq!(text, "(#n0 = :v0 AND #n1 >= :v1)");
        assert_eq!(expr.names.get("#n1").unwrap(), "on hand; DROP");
        assert_eq!(expr.values.get(":v0"), Some(&AttributeValue::N("3".into())));
    }

    #[test]
    fn any_joins_its_conditions_with_or() {
        let mut expr = Expr::default();
        let text = expr
            .condition(&Condition::Any(vec![
                Condition::NotExists,
                Condition::Number {
                    attr: "pending".into(),
                    cmp: Comparison::Lt,
                    value: 100,
                },
            ]))
            .unwrap();
        assert_eq!(text, "(attribute_not_exists(#n0) OR #n1 < :v0)");
        assert!(expr.condition(&Condition::Any(Vec::new())).is_err());
    }

    #[test]
    fn update_expression_has_set_remove_and_add() {
        let mut expr = Expr::default();
        let text = expr
            .update(&Update::new().set("a", 1).remove("b").add("c", -2))
            .unwrap()
            .unwrap();
        assert_eq!(text, "SET #n0 = :v0 REMOVE #n1 ADD #n2 :v1");
    }
}
