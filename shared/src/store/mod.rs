//! The table port: typed operations on one single-table store.
//!
//! Domain modules build keys in their own `store.rs` and speak to the table only through the
//! [`Table`] trait. No expression strings and no SDK types cross this boundary; each adapter
//! translates these operations into its own backend (DynamoDB or embedded SQLite).
//!
//! Items are JSON objects. Every item has the string attributes `pk` and `sk`; items that appear in
//! an index also carry `gsi1pk`/`gsi1sk` or `gsi2pk`/`gsi2sk`. An item with a numeric `ttl`
//! attribute (epoch seconds) in the past is treated as absent on every read, as DynamoDB's TTL
//! deletes lazily.

pub mod dynamo;
pub mod embedded;
pub mod metered;
pub mod shelf;

use async_trait::async_trait;
use serde_json::{Map, Value};

/// A stored item: a JSON object holding at least `pk` and `sk`.
pub type Item = Map<String, Value>;

/// Attribute names the port itself knows about.
pub mod attr {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    pub const GSI1PK: &str = "gsi1pk";
    pub const GSI1SK: &str = "gsi1sk";
    pub const GSI2PK: &str = "gsi2pk";
    pub const GSI2SK: &str = "gsi2sk";
    pub const TTL: &str = "ttl";
    pub const VERSION: &str = "version";
    pub const ENTITY: &str = "entity";
}

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// Reads the key attributes of an item.
    pub fn of(item: &Item) -> Result<Key, StoreError> {
        let get = |name: &str| {
            item.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| StoreError::Invalid(format!("item has no string `{name}`")))
        };
        Ok(Key {
            pk: get(attr::PK)?,
            sk: get(attr::SK)?,
        })
    }
}

/// A condition on the current state of one item, checked atomically with the write it guards.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The item does not exist (uniqueness guards, creates).
    NotExists,
    /// The item exists.
    Exists,
    /// The item does not exist, or its `ttl` is at or before `now` (epoch seconds). Expired
    /// items linger until the backend deletes them, so leases and markers that may be taken over
    /// once expired use this instead of [`Condition::NotExists`].
    AbsentOrExpired { now: i64 },
    /// The item exists and its `version` equals this value (optimistic concurrency).
    VersionIs(u64),
    /// The item exists and the numeric attribute compares to the value as given.
    Number {
        attr: String,
        cmp: Comparison,
        value: i64,
    },
    /// The item exists and the attribute equals this JSON value.
    Equals { attr: String, value: Value },
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds (a counter that may not exist yet: absent, or below a limit).
    Any(Vec<Condition>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    pub fn holds<T: PartialOrd>(self, left: &T, right: &T) -> bool {
        match self {
            Comparison::Eq => left == right,
            Comparison::Lt => left < right,
            Comparison::Le => left <= right,
            Comparison::Gt => left > right,
            Comparison::Ge => left >= right,
        }
    }
}

impl Condition {
    /// Evaluates the condition against the current item (None when absent). Adapters that cannot
    /// push conditions into their backend use this; DynamoDB translates them instead.
    pub fn holds(&self, current: Option<&Item>) -> bool {
        match self {
            Condition::NotExists => current.is_none(),
            Condition::Exists => current.is_some(),
            Condition::AbsentOrExpired { now } => current.is_none_or(|i| is_expired(i, *now)),
            Condition::VersionIs(v) => current
                .and_then(|i| i.get(attr::VERSION))
                .and_then(Value::as_u64)
                .is_some_and(|cur| cur == *v),
            Condition::Number { attr, cmp, value } => current
                .and_then(|i| i.get(attr))
                .and_then(Value::as_i64)
                .is_some_and(|cur| cmp.holds(&cur, value)),
            Condition::Equals { attr, value } => current
                .and_then(|i| i.get(attr))
                .is_some_and(|cur| cur == value),
            Condition::All(all) => all.iter().all(|c| c.holds(current)),
            Condition::Any(any) => any.iter().any(|c| c.holds(current)),
        }
    }
}

/// A partial update of one item. `add` is an atomic numeric increment (negative to decrement)
/// that starts from zero when the attribute is absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Item,
    pub remove: Vec<String>,
    pub add: Vec<(String, i64)>,
}

impl Update {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set.insert(name.into(), value.into());
        self
    }
    pub fn remove(mut self, name: impl Into<String>) -> Self {
        self.remove.push(name.into());
        self
    }
    pub fn add(mut self, name: impl Into<String>, delta: i64) -> Self {
        self.add.push((name.into(), delta));
        self
    }

    /// Applies the update to an item in memory (used by the embedded adapter).
    pub fn apply(&self, item: &mut Item) -> Result<(), StoreError> {
        for (name, value) in &self.set {
            item.insert(name.clone(), value.clone());
        }
        for name in &self.remove {
            item.remove(name);
        }
        for (name, delta) in &self.add {
            let current = match item.get(name) {
                None | Some(Value::Null) => 0,
                Some(v) => v.as_i64().ok_or_else(|| {
                    StoreError::Invalid(format!("cannot add to non-integer attribute `{name}`"))
                })?,
            };
            let next = current.checked_add(*delta).ok_or_else(|| {
                StoreError::Invalid(format!("integer overflow adding to `{name}`"))
            })?;
            item.insert(name.clone(), Value::from(next));
        }
        Ok(())
    }

    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        let touched = self
            .set
            .keys()
            .chain(self.remove.iter())
            .chain(self.add.iter().map(|(n, _)| n));
        for name in touched {
            if name == attr::PK || name == attr::SK {
                return Err(StoreError::Invalid(
                    "an update cannot change the key".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Which key space a query runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    Table,
    Gsi1,
    Gsi2,
}

impl Index {
    pub fn key_attrs(self) -> (&'static str, &'static str) {
        match self {
            Index::Table => (attr::PK, attr::SK),
            Index::Gsi1 => (attr::GSI1PK, attr::GSI1SK),
            Index::Gsi2 => (attr::GSI2PK, attr::GSI2SK),
        }
    }
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Table => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
        }
    }
}

/// A condition on the sort key of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Any,
    Eq(String),
    BeginsWith(String),
    Between(String, String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
}

impl SortKey {
    pub fn matches(&self, sk: &str) -> bool {
        match self {
            SortKey::Any => true,
            SortKey::Eq(v) => sk == v,
            SortKey::BeginsWith(p) => sk.starts_with(p.as_str()),
            SortKey::Between(lo, hi) => sk >= lo.as_str() && sk <= hi.as_str(),
            SortKey::Lt(v) => sk < v.as_str(),
            SortKey::Le(v) => sk <= v.as_str(),
            SortKey::Gt(v) => sk > v.as_str(),
            SortKey::Ge(v) => sk >= v.as_str(),
        }
    }
}

/// A query on one partition of the table or of an index.
#[derive(Debug, Clone)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SortKey,
    pub forward: bool,
    pub limit: u32,
    /// Where the previous page stopped: the `last_key` of that page.
    pub after: Option<Item>,
}

impl Query {
    pub fn partition(index: Index, pk: impl Into<String>) -> Self {
        Query {
            index,
            pk: pk.into(),
            sk: SortKey::Any,
            forward: true,
            limit: 100,
            after: None,
        }
    }
    pub fn sk(mut self, sk: SortKey) -> Self {
        self.sk = sk;
        self
    }
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }
    pub fn after(mut self, after: Option<Item>) -> Self {
        self.after = after;
        self
    }
}

/// One page of query results. `last_key` is set when more items may follow; it holds only key
/// attributes (of the table and of the queried index) and is what a cursor seals.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub last_key: Option<Item>,
}

/// One operation of a transaction.
#[derive(Debug, Clone)]
pub enum TxOp {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        update: Update,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    Check {
        key: Key,
        condition: Condition,
    },
}

impl TxOp {
    pub fn key(&self) -> Result<Key, StoreError> {
        match self {
            TxOp::Put { item, .. } => Key::of(item),
            TxOp::Update { key, .. } | TxOp::Delete { key, .. } | TxOp::Check { key, .. } => {
                Ok(key.clone())
            }
        }
    }
}

/// The most operations one transaction may hold (DynamoDB's limit).
pub const MAX_TRANSACTION_OPS: usize = 100;
/// The most keys one batch get may hold (DynamoDB's limit).
pub const MAX_BATCH_GET_KEYS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A write's condition did not hold; nothing was written.
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction was cancelled; `failed` lists the indexes of the operations whose condition
    /// did not hold. Nothing was written.
    #[error("transaction cancelled (conditions failed at {failed:?})")]
    TransactionCancelled { failed: Vec<usize> },
    /// Another transaction touched the same items at the same time; retrying may succeed.
    #[error("transaction conflict")]
    Conflict,
    /// The request itself is invalid (bad key, too many operations, duplicate keys).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The backend could not be reached or failed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Whether a transaction failed on the condition of operation `index`.
    pub fn failed_at(&self, index: usize) -> bool {
        matches!(self, StoreError::TransactionCancelled { failed } if failed.contains(&index))
    }
}

/// The typed operations every backend provides.
#[async_trait]
pub trait Table: Send + Sync {
    /// Reads one item; `None` when absent or expired. Reads are strongly consistent.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    /// Reads up to [`MAX_BATCH_GET_KEYS`] items; absent and expired items are left out. The
    /// order of the result is not specified.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError>;
    /// Writes a whole item, replacing any existing one, if the condition holds.
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError>;
    /// Applies a partial update (creating the item when absent unless the condition forbids it)
    /// and returns the item as it is after the update.
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError>;
    /// Deletes an item if the condition holds, returning what was deleted.
    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError>;
    /// Queries one partition of the table or of an index.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;
    /// Runs up to [`MAX_TRANSACTION_OPS`] operations on distinct items as one: all or nothing.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError>;

    /// Atomically adds `delta` to a numeric attribute, only if the result stays at or above
    /// `floor` (when given), and returns the new value. Stock and counters move this way, never
    /// by read-modify-write.
    async fn add(
        &self,
        key: &Key,
        name: &str,
        delta: i64,
        floor: Option<i64>,
    ) -> Result<i64, StoreError> {
        let condition = floor.map(|floor| Condition::Number {
            attr: name.to_owned(),
            cmp: Comparison::Ge,
            value: floor.saturating_sub(delta),
        });
        let item = self
            .update(key, Update::new().add(name, delta), condition)
            .await?;
        item.get(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| StoreError::Invalid(format!("`{name}` is not an integer")))
    }
}

/// How many times a read-modify-write that loses races tries before answering 409.
pub const ATTEMPTS: u32 = 8;

/// Waits before another attempt of a read-modify-write that lost a race: longer after each loss
/// (2.5 ms up to 80 ms) and with jitter, so that concurrent writers stop colliding.
pub async fn back_off(attempt: u32) {
    let base = 5u64 << attempt.min(4);
    let wait = base / 2 + rand::random::<u64>() % base;
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
}

/// Whether an item's `ttl` (epoch seconds) has passed.
pub fn is_expired(item: &Item, now_epoch: i64) -> bool {
    item.get(attr::TTL)
        .and_then(Value::as_i64)
        .is_some_and(|ttl| ttl <= now_epoch)
}

/// Checks what every adapter requires of a transaction before it touches the backend.
pub(crate) fn validate_transaction(ops: &[TxOp]) -> Result<(), StoreError> {
    if ops.is_empty() {
        return Err(StoreError::Invalid(
            "a transaction needs an operation".into(),
        ));
    }
    if ops.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::Invalid(format!(
            "a transaction holds at most {MAX_TRANSACTION_OPS} operations, got {}",
            ops.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for op in ops {
        let key = op.key()?;
        if !seen.insert(key.clone()) {
            return Err(StoreError::Invalid(format!(
                "a transaction touches {}/{} twice",
                key.pk, key.sk
            )));
        }
        if let TxOp::Update { update, .. } = op {
            update.validate()?;
        }
    }
    Ok(())
}

/// Keeps only the key attributes of an item for the given index (the page's `last_key`).
pub fn key_projection(item: &Item, index: Index) -> Item {
    let (ipk, isk) = index.key_attrs();
    let mut out = Item::new();
    for name in [attr::PK, attr::SK, ipk, isk] {
        if let Some(v) = item.get(name) {
            out.insert(name.to_owned(), v.clone());
        }
    }
    out
}

/// Counts something in (`delta` +1, only while fewer than `max` are counted) or out (−1) on a
/// counter item at `key` (created on first use): how a module caps what a company keeps, in the
/// transaction that creates or deletes the thing counted.
pub fn capped_count_op(key: Key, entity: &str, delta: i64, max: usize) -> TxOp {
    let condition = (delta > 0).then(|| {
        Condition::Any(vec![
            Condition::NotExists,
            Condition::Number {
                attr: "count".into(),
                cmp: Comparison::Lt,
                value: max as i64,
            },
        ])
    });
    TxOp::Update {
        key,
        update: Update::new().set(attr::ENTITY, entity).add("count", delta),
        condition,
    }
}

/// Serialises a domain record into an item under `key`, with its `entity` name. The record's own
/// fields must not use the key attribute names.
pub fn to_item<T: serde::Serialize>(key: &Key, entity: &str, record: &T) -> Item {
    let mut item = match serde_json::to_value(record).expect("records serialise") {
        Value::Object(map) => map,
        _ => panic!("records serialise to objects"),
    };
    item.insert(attr::PK.into(), key.pk.clone().into());
    item.insert(attr::SK.into(), key.sk.clone().into());
    item.insert(attr::ENTITY.into(), entity.into());
    item
}

/// Reads a domain record back from an item (key and index attributes are ignored).
pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item))
        .map_err(|e| StoreError::Unavailable(format!("corrupt record: {e}")))
}
