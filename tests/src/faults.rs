//! A table wrapper that fails chosen calls on purpose, so a test can stop a change that takes
//! several store calls halfway and check that it can be finished.

use async_trait::async_trait;
use shared::store::{Condition, Item, Key, Page, Query, StoreError, Table, TxOp, Update};
use std::sync::{Arc, Mutex};

/// The failures still to inject; every test app's table consults them (none by default).
#[derive(Default)]
pub struct Faults {
    /// Partition key parts, each with how many more deletes under it fail.
    deletes: Mutex<Vec<(String, usize)>>,
}

impl Faults {
    /// Makes the next `times` deletes of items whose partition key contains `pk_part` fail as
    /// an unreachable store would, without deleting anything.
    pub fn fail_deletes(&self, pk_part: &str, times: usize) {
        self.deletes
            .lock()
            .unwrap()
            .push((pk_part.to_owned(), times));
    }

    fn delete_fails(&self, key: &Key) -> bool {
        let mut rules = self.deletes.lock().unwrap();
        let hit = rules
            .iter_mut()
            .find(|(part, left)| *left > 0 && key.pk.contains(part.as_str()));
        match hit {
            Some((_, left)) => {
                *left -= 1;
                true
            }
            None => false,
        }
    }
}

pub struct FaultyTable {
    inner: Arc<dyn Table>,
    faults: Arc<Faults>,
}

impl FaultyTable {
    pub fn wrap(inner: Arc<dyn Table>, faults: Arc<Faults>) -> Arc<dyn Table> {
        Arc::new(FaultyTable { inner, faults })
    }
}

#[async_trait]
impl Table for FaultyTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.inner.batch_get(keys).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        self.inner.update(key, update, condition).await
    }
    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        if self.faults.delete_fails(key) {
            return Err(StoreError::Unavailable("injected failure".into()));
        }
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        self.inner.transact(ops).await
    }
}
