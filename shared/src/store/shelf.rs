//! A shelf: records of one kind that a company keeps together in one partition, each under
//! `<prefix>#<id>` at a version, with a counter item (`COUNT`) capping how many there are, so
//! that all of them are read with one query (shipping zones, tax rates). The module that owns the
//! records names the partition and the prefix; the shelf builds the keys.

use super::{capped_count_op, from_item, to_item, Condition, Index, Item, Key, Query, SortKey};
use super::{StoreError, Table, TxOp};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub struct Shelf {
    pub partition: String,
    /// The sort key prefix of a record (`RATE`: `RATE#<id>`).
    pub prefix: &'static str,
    /// The records' entity name.
    pub entity: &'static str,
}

impl Shelf {
    pub fn key(&self, id: &str) -> Key {
        Key::new(self.partition.clone(), format!("{}#{id}", self.prefix))
    }

    /// Counts a record in (only while fewer than `max` are kept) or out.
    pub fn count_op(&self, delta: i64, max: usize) -> TxOp {
        capped_count_op(
            Key::new(self.partition.clone(), "COUNT"),
            &format!("{}_count", self.entity),
            delta,
            max,
        )
    }

    /// Writes a record: new (`expected`: `None`) or over the version read.
    pub fn put<T: Serialize>(&self, id: &str, record: &T, expected: Option<u64>) -> TxOp {
        TxOp::Put {
            item: to_item(&self.key(id), self.entity, record),
            condition: Some(match expected {
                None => Condition::NotExists,
                Some(v) => Condition::VersionIs(v),
            }),
        }
    }

    pub fn delete(&self, id: &str, expected: u64) -> TxOp {
        TxOp::Delete {
            key: self.key(id),
            condition: Some(Condition::VersionIs(expected)),
        }
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        table: &dyn Table,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        table.get(&self.key(id)).await?.map(from_item).transpose()
    }

    /// A page of records, oldest first (ids are ULIDs).
    pub async fn page<T: DeserializeOwned>(
        &self,
        table: &dyn Table,
        limit: u32,
        after: Option<Item>,
    ) -> Result<(Vec<T>, Option<Item>), StoreError> {
        let page = table
            .query(
                &Query::partition(Index::Table, self.partition.clone())
                    .sk(SortKey::BeginsWith(format!("{}#", self.prefix)))
                    .limit(limit)
                    .after(after),
            )
            .await?;
        let records = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((records, page.last_key))
    }

    /// Every record (one query; more only past a megabyte).
    pub async fn all<T: DeserializeOwned>(&self, table: &dyn Table) -> Result<Vec<T>, StoreError> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let (page, last) = self.page(table, 1000, after).await?;
            all.extend(page);
            match last {
                Some(last) => after = Some(last),
                None => return Ok(all),
            }
        }
    }
}
