//! A table wrapper that counts every call and its time for the request it runs in, and refuses
//! calls the running route does not declare (see [`crate::access`]).

use super::{Condition, Item, Key, Page, Query, StoreError, Table, TxOp, Update};
use crate::access::{refusal, Need};
use crate::observe::record_store_call;
use async_trait::async_trait;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

pub struct MeteredTable {
    inner: Arc<dyn Table>,
}

impl MeteredTable {
    pub fn wrap(inner: Arc<dyn Table>) -> Arc<dyn Table> {
        Arc::new(MeteredTable { inner })
    }
}

async fn timed<T>(call: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    let started = Instant::now();
    let out = call.await;
    record_store_call(started.elapsed());
    out
}

fn allowed(need: Need) -> Result<(), StoreError> {
    refusal(need).map_or(Ok(()), |reason| Err(StoreError::Unavailable(reason)))
}

#[async_trait]
impl Table for MeteredTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        allowed(Need::TableRead)?;
        timed(self.inner.get(key)).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        allowed(Need::TableRead)?;
        timed(self.inner.batch_get(keys)).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        allowed(Need::TableWrite)?;
        timed(self.inner.put(item, condition)).await
    }
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        allowed(Need::TableUpdate(&key.pk))?;
        timed(self.inner.update(key, update, condition)).await
    }
    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        allowed(Need::TableWrite)?;
        timed(self.inner.delete(key, condition)).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        allowed(Need::TableRead)?;
        timed(self.inner.query(query)).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        allowed(Need::TableWrite)?;
        timed(self.inner.transact(ops)).await
    }
}
