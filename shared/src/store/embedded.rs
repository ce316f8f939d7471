//! The embedded table adapter: SQLite through rusqlite, durable in a file or held in memory.
//!
//! It mirrors DynamoDB's semantics where the domain can observe them: conditions see expired items
//! as present (DynamoDB deletes them lazily), reads leave them out, transactions are all or
//! nothing and report which conditions failed, and every insert is appended to a change stream
//! that plays the part of DynamoDB Streams (filtered to INSERT events) for the sandbox's event
//! dispatcher.
//!
//! One connection behind a mutex serialises every operation. Each one is a few microseconds of
//! SQLite work, so it runs inline on the async worker rather than paying for a blocking-pool hop.

use super::{
    attr, is_expired, key_projection, validate_transaction, Condition, Index, Item, Key, Page,
    Query, SortKey, StoreError, Table, TxOp, Update, MAX_BATCH_GET_KEYS,
};
use crate::clock::Clock;
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, ToSql};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    gsi2pk TEXT,
    gsi2sk TEXT,
    ttl INTEGER,
    body TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
CREATE TABLE IF NOT EXISTS item_stream (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    new_image TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_messages (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    sent_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_visible ON queue_messages (queue, visible_at);
";

/// One SQLite database holding the table, its change stream and the embedded queues.
pub struct EmbeddedDb {
    conn: Mutex<Connection>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl EmbeddedDb {
    /// Opens (creating if needed) a durable database file.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Arc<Self>, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| unavailable(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(sql_err)?;
        // WAL keeps every committed transaction across a crash of the process; NORMAL
        // synchronisation defers fsync to checkpoints, which only matters on power loss.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )
        .map_err(sql_err)?;
        Self::init(conn, clock)
    }

    /// A database that lives only as long as the process (tests, `--memory`).
    pub fn memory(clock: Arc<dyn Clock>) -> Result<Arc<Self>, StoreError> {
        Self::init(Connection::open_in_memory().map_err(sql_err)?, clock)
    }

    fn init(conn: Connection, clock: Arc<dyn Clock>) -> Result<Arc<Self>, StoreError> {
        conn.execute_batch(SCHEMA).map_err(sql_err)?;
        Ok(Arc::new(EmbeddedDb {
            conn: Mutex::new(conn),
            clock,
        }))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (statements are atomic
        // and transactions roll back on drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads up to `limit` records of the change stream, oldest first.
    pub fn stream_read(&self, limit: u32) -> Result<Vec<StreamRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT seq, new_image FROM item_stream ORDER BY seq LIMIT ?1")
            .map_err(sql_err)?;
        let rows = stmt
            .query_map(params![limit], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, body) = row.map_err(sql_err)?;
            out.push(StreamRecord {
                seq,
                new_image: parse_body(&body)?,
            });
        }
        Ok(out)
    }

    /// Forgets every stream record up to and including `seq` (they were dispatched).
    pub fn stream_ack(&self, seq: i64) -> Result<(), StoreError> {
        self.lock()
            .execute("DELETE FROM item_stream WHERE seq <= ?1", params![seq])
            .map_err(sql_err)?;
        Ok(())
    }
}

/// A new item as recorded in the change stream.
#[derive(Debug, Clone)]
pub struct StreamRecord {
    pub seq: i64,
    pub new_image: Item,
}

/// The table port over an [`EmbeddedDb`].
#[derive(Clone)]
pub struct EmbeddedTable {
    db: Arc<EmbeddedDb>,
}

impl EmbeddedTable {
    pub fn new(db: Arc<EmbeddedDb>) -> Self {
        EmbeddedTable { db }
    }

    pub fn db(&self) -> &Arc<EmbeddedDb> {
        &self.db
    }

    fn now(&self) -> i64 {
        self.db.clock.epoch_seconds()
    }
}

fn sql_err(e: rusqlite::Error) -> StoreError {
    unavailable(e.to_string())
}

fn unavailable(message: String) -> StoreError {
    StoreError::Unavailable(message)
}

fn parse_body(body: &str) -> Result<Item, StoreError> {
    serde_json::from_str(body).map_err(|e| unavailable(format!("corrupt item: {e}")))
}

/// Reads the current item, expired or not (conditions see what DynamoDB would).
fn load(conn: &Connection, key: &Key) -> Result<Option<Item>, StoreError> {
    conn.prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk = ?2")
        .map_err(sql_err)?
        .query_row(params![key.pk, key.sk], |row| row.get::<_, String>(0))
        .optional()
        .map_err(sql_err)?
        .map(|body| parse_body(&body))
        .transpose()
}

fn index_attr(item: &Item, name: &str) -> Result<Option<String>, StoreError> {
    match item.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(StoreError::Invalid(format!(
            "`{name}` must be a non-empty string"
        ))),
    }
}

fn validate_key(key: &Key) -> Result<(), StoreError> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StoreError::Invalid(
            "key attributes must not be empty".into(),
        ));
    }
    Ok(())
}

/// Writes an item (insert or replace) and records inserts in the change stream.
fn store(conn: &Connection, item: &Item, existed: bool) -> Result<(), StoreError> {
    let key = Key::of(item)?;
    validate_key(&key)?;
    // An item appears in an index only when both of its key attributes are present.
    let pair = |p: &str, s: &str| -> Result<(Option<String>, Option<String>), StoreError> {
        match (index_attr(item, p)?, index_attr(item, s)?) {
            (Some(a), Some(b)) => Ok((Some(a), Some(b))),
            _ => Ok((None, None)),
        }
    };
    let (g1p, g1s) = pair(attr::GSI1PK, attr::GSI1SK)?;
    let (g2p, g2s) = pair(attr::GSI2PK, attr::GSI2SK)?;
    let ttl = item.get(attr::TTL).and_then(serde_json::Value::as_i64);
    let body = serde_json::Value::Object(item.clone()).to_string();
    conn.prepare_cached(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, ttl, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .map_err(sql_err)?
    .execute(params![key.pk, key.sk, g1p, g1s, g2p, g2s, ttl, body])
    .map_err(sql_err)?;
    if !existed {
        conn.prepare_cached("INSERT INTO item_stream (new_image) VALUES (?1)")
            .map_err(sql_err)?
            .execute(params![body])
            .map_err(sql_err)?;
    }
    Ok(())
}

fn remove(conn: &Connection, key: &Key) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
        .map_err(sql_err)?
        .execute(params![key.pk, key.sk])
        .map_err(sql_err)?;
    Ok(())
}

fn check(condition: Option<&Condition>, current: Option<&Item>) -> bool {
    condition.is_none_or(|c| c.holds(current))
}

/// Applies an update to the current item (or a new one holding only the key).
fn updated(key: &Key, current: Option<Item>, update: &Update) -> Result<Item, StoreError> {
    update.validate()?;
    let mut item = current.unwrap_or_else(|| {
        let mut fresh = Item::new();
        fresh.insert(attr::PK.into(), key.pk.clone().into());
        fresh.insert(attr::SK.into(), key.sk.clone().into());
        fresh
    });
    update.apply(&mut item)?;
    Ok(item)
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let now = self.now();
        let conn = self.db.lock();
        Ok(load(&conn, key)?.filter(|item| !is_expired(item, now)))
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        if keys.len() > MAX_BATCH_GET_KEYS {
            return Err(StoreError::Invalid(format!(
                "a batch get holds at most {MAX_BATCH_GET_KEYS} keys"
            )));
        }
        let now = self.now();
        let conn = self.db.lock();
        let mut out = Vec::with_capacity(keys.len());
        let mut seen = std::collections::HashSet::new();
        for key in keys.iter().filter(|k| seen.insert(*k)) {
            if let Some(item) = load(&conn, key)?.filter(|item| !is_expired(item, now)) {
                out.push(item);
            }
        }
        Ok(out)
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        let key = Key::of(&item)?;
        let mut conn = self.db.lock();
        let tx = conn.transaction().map_err(sql_err)?;
        let current = load(&tx, &key)?;
        if !check(condition.as_ref(), current.as_ref()) {
            return Err(StoreError::ConditionFailed);
        }
        store(&tx, &item, current.is_some())?;
        tx.commit().map_err(sql_err)
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        validate_key(key)?;
        let mut conn = self.db.lock();
        let tx = conn.transaction().map_err(sql_err)?;
        let current = load(&tx, key)?;
        if !check(condition.as_ref(), current.as_ref()) {
            return Err(StoreError::ConditionFailed);
        }
        let existed = current.is_some();
        let item = updated(key, current, &update)?;
        store(&tx, &item, existed)?;
        tx.commit().map_err(sql_err)?;
        Ok(item)
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        let now = self.now();
        let mut conn = self.db.lock();
        let tx = conn.transaction().map_err(sql_err)?;
        let current = load(&tx, key)?;
        if !check(condition.as_ref(), current.as_ref()) {
            return Err(StoreError::ConditionFailed);
        }
        remove(&tx, key)?;
        tx.commit().map_err(sql_err)?;
        Ok(current.filter(|item| !is_expired(item, now)))
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let now = self.now();
        let (pk_col, sk_col) = query.index.key_attrs();
        let mut sql = format!("SELECT body FROM items WHERE {pk_col} = ?");
        let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(query.pk.clone())];
        let mut bind = |sql: &mut String, op: &str, value: &str| {
            sql.push_str(&format!(" AND {sk_col} {op} ?"));
            args.push(Box::new(value.to_owned()));
        };
        match &query.sk {
            SortKey::Any => {}
            SortKey::Eq(v) => bind(&mut sql, "=", v),
            SortKey::Lt(v) => bind(&mut sql, "<", v),
            SortKey::Le(v) => bind(&mut sql, "<=", v),
            SortKey::Gt(v) => bind(&mut sql, ">", v),
            SortKey::Ge(v) => bind(&mut sql, ">=", v),
            SortKey::Between(lo, hi) => {
                bind(&mut sql, ">=", lo);
                bind(&mut sql, "<=", hi);
            }
            SortKey::BeginsWith(prefix) => match prefix_end(prefix) {
                // A range the index can seek to: a prefix that is a condition on every row
                // would walk the whole partition (every other sort order's entries too).
                Some(end) => {
                    bind(&mut sql, ">=", prefix);
                    bind(&mut sql, "<", &end);
                }
                // substr compares bytes exactly, unlike LIKE with its wildcards and case folding.
                None => {
                    bind(&mut sql, ">=", prefix);
                    sql.push_str(&format!(" AND substr({sk_col}, 1, length(?)) = ?"));
                    args.push(Box::new(prefix.clone()));
                    args.push(Box::new(prefix.clone()));
                }
            },
        }
        let direction = if query.forward { ">" } else { "<" };
        if let Some(after) = &query.after {
            let text = |name: &str| {
                after
                    .get(name)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| StoreError::Invalid(format!("query start has no `{name}`")))
            };
            match query.index {
                Index::Table => {
                    sql.push_str(&format!(" AND sk {direction} ?"));
                    args.push(Box::new(text(attr::SK)?));
                }
                Index::Gsi1 | Index::Gsi2 => {
                    sql.push_str(&format!(" AND ({sk_col}, pk, sk) {direction} (?, ?, ?)"));
                    args.push(Box::new(text(sk_col)?));
                    args.push(Box::new(text(attr::PK)?));
                    args.push(Box::new(text(attr::SK)?));
                }
            }
        }
        let order = if query.forward { "ASC" } else { "DESC" };
        match query.index {
            Index::Table => sql.push_str(&format!(" ORDER BY sk {order}")),
            _ => sql.push_str(&format!(
                " ORDER BY {sk_col} {order}, pk {order}, sk {order}"
            )),
        }
        let limit = query.limit.clamp(1, 1000);
        // One row past the limit tells whether another page exists. Expired rows are counted
        // like DynamoDB counts them against Limit, then left out of the page.
        sql.push_str(&format!(" LIMIT {}", limit + 1));

        let conn = self.db.lock();
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_err)?;
        let refs: Vec<&dyn ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let rows = stmt
            .query_map(refs.as_slice(), |row| row.get::<_, String>(0))
            .map_err(sql_err)?;
        let mut evaluated = Vec::new();
        for row in rows {
            evaluated.push(parse_body(&row.map_err(sql_err)?)?);
        }
        let more = evaluated.len() > limit as usize;
        evaluated.truncate(limit as usize);
        let last_key = if more {
            evaluated
                .last()
                .map(|item| key_projection(item, query.index))
        } else {
            None
        };
        let items = evaluated
            .into_iter()
            .filter(|item| !is_expired(item, now))
            .collect();
        Ok(Page { items, last_key })
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        validate_transaction(&ops)?;
        let mut conn = self.db.lock();
        let tx = conn.transaction().map_err(sql_err)?;
        let mut current = Vec::with_capacity(ops.len());
        let mut failed = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            let key = op.key()?;
            validate_key(&key)?;
            let item = load(&tx, &key)?;
            let condition = match op {
                TxOp::Put { condition, .. }
                | TxOp::Update { condition, .. }
                | TxOp::Delete { condition, .. } => condition.as_ref(),
                TxOp::Check { condition, .. } => Some(condition),
            };
            if !check(condition, item.as_ref()) {
                failed.push(index);
            }
            current.push(item);
        }
        if !failed.is_empty() {
            return Err(StoreError::TransactionCancelled { failed });
        }
        for (op, item) in ops.into_iter().zip(current) {
            match op {
                TxOp::Put { item: new, .. } => store(&tx, &new, item.is_some())?,
                TxOp::Update { key, update, .. } => {
                    let existed = item.is_some();
                    store(&tx, &updated(&key, item, &update)?, existed)?
                }
                TxOp::Delete { key, .. } => remove(&tx, &key)?,
                TxOp::Check { .. } => {}
            }
        }
        tx.commit().map_err(sql_err)
    }
}
/// The first text after every text that starts with `prefix`, when the prefix ends in a
/// printable ASCII character below `~` (every prefix the domain modules use): the prefix with
/// that character's successor. Texts compare bytewise, so `prefix <= sk < end` holds exactly
/// for the texts with the prefix.
fn prefix_end(prefix: &str) -> Option<String> {
    let last = *prefix.as_bytes().last()?;
    if !(b' '..b'~').contains(&last) {
        return None;
    }
    let mut end = prefix[..prefix.len() - 1].to_owned();
    end.push(char::from(last + 1));
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn a_prefix_ends_before_the_next_text_without_it() {
        assert_eq!(prefix_end("C#").as_deref(), Some("C$"));
        assert_eq!(prefix_end("LOC#").as_deref(), Some("LOC$"));
        assert_eq!(prefix_end("a}").as_deref(), Some("a~"));
        // No printable successor: the query falls back to comparing the prefix.
        assert_eq!(prefix_end("a~"), None);
        assert_eq!(prefix_end("é"), None);
        assert_eq!(prefix_end(""), None);
    }
}
