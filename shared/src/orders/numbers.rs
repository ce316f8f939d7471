//! Order numbers: gap-free per company (1, 2, 3, … shown with the general settings'
//! `order_number_prefix`, `#1001`-style numbering being a prefix choice).
//!
//! | item | pk | sk |
//! |---|---|---|
//! | the company's next order number | `T#<t>#ORDER_NUMBER` | `NEXT` |
//!
//! Checkout reads the next number ([`next`]) and adds [`claim_op`] to the transaction that writes
//! the order: `SET next = n + 1` on condition that it is still `n` (or, for the first order, that
//! there is no counter). The order and its number commit together or not at all, so no number is
//! skipped or given twice; two checkouts racing for `n` see one of them fail its condition and
//! read again. Every order of a company therefore passes through one item, one at a time: see
//! docs/performance.md for what that allows per second.

use crate::app::App;
use crate::identity::TenantId;
use crate::store::{attr, Comparison, Condition, Key, StoreError, TxOp, Update};
use serde_json::Value;

pub const NUMBER: &str = "order_number";

pub fn key(tenant: &TenantId) -> Key {
    Key::new(format!("T#{tenant}#ORDER_NUMBER"), "NEXT")
}

/// The next number the company gives (1 before its first order).
pub async fn next(app: &App, tenant: &TenantId) -> Result<i64, StoreError> {
    Ok(app
        .table
        .get(&key(tenant))
        .await?
        .and_then(|item| item.get("next").and_then(Value::as_i64))
        .unwrap_or(1))
}

/// The next number, when a batched read's item is the counter.
pub fn next_in(item: &crate::store::Item) -> Option<i64> {
    (item.get(attr::ENTITY).and_then(Value::as_str) == Some(NUMBER))
        .then(|| item.get("next").and_then(Value::as_i64).unwrap_or(1))
}

/// Takes number `n` (as [`next`] read it) in the order's transaction.
pub fn claim_op(tenant: &TenantId, n: i64) -> TxOp {
    let still_n = Condition::Number {
        attr: "next".into(),
        cmp: Comparison::Eq,
        value: n,
    };
    TxOp::Update {
        key: key(tenant),
        update: Update::new().set(attr::ENTITY, NUMBER).set("next", n + 1),
        condition: Some(if n == 1 {
            Condition::Any(vec![Condition::NotExists, still_n])
        } else {
            still_n
        }),
    }
}

/// Takes the next number in a transaction of its own (with `with`, the operations that must
/// commit with it), reading again after losing a race; answers the number taken.
pub async fn take(
    app: &App,
    tenant: &TenantId,
    with: &(dyn Fn(i64) -> Vec<TxOp> + Send + Sync),
) -> Result<i64, StoreError> {
    let mut last = StoreError::Conflict;
    // Racers take turns: one wins each round, so the budget grows with how many may race.
    for attempt in 0..crate::store::ATTEMPTS * 16 {
        if attempt > 0 {
            crate::store::back_off(attempt.min(crate::store::ATTEMPTS)).await;
        }
        let n = next(app, tenant).await?;
        let mut ops = vec![claim_op(tenant, n)];
        ops.extend(with(n));
        match app.table.transact(ops).await {
            Ok(()) => return Ok(n),
            Err(e @ StoreError::TransactionCancelled { .. }) | Err(e @ StoreError::Conflict) => {
                last = e
            }
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Blocks of numbers this process holds, by company: the next to give and the end (exclusive).
static BLOCKS: std::sync::Mutex<Vec<(TenantId, i64, i64)>> = std::sync::Mutex::new(Vec::new());

/// A number from the block this process holds for the company, taking a new block of `size`
/// when it has none left (one `UpdateItem` adding `size` to the counter, unconditioned, so that
/// processes never wait for each other). Numbers a process holds when it stops are never given:
/// the gaps the checkout settings' `order_number_block_size` accepts.
pub async fn from_block(app: &App, tenant: &TenantId, size: i64) -> Result<i64, StoreError> {
    let take = || {
        let mut blocks = BLOCKS.lock().unwrap_or_else(|e| e.into_inner());
        let block = blocks
            .iter_mut()
            .find(|(t, next, end)| t == tenant && next < end)?;
        block.1 += 1;
        Some(block.1 - 1)
    };
    if let Some(n) = take() {
        return Ok(n);
    }
    // One refill at a time in a process: checkouts arriving together share its block.
    static REFILL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _refill = REFILL.lock().await;
    if let Some(n) = take() {
        return Ok(n);
    }
    let item = app
        .table
        .update(
            &key(tenant),
            Update::new().set(attr::ENTITY, NUMBER).add("next", size),
            None,
        )
        .await?;
    let end = item.get("next").and_then(Value::as_i64).unwrap_or(size);
    // A counter created by this update started at 0, and 0 is no order number.
    let start = (end - size).max(1);
    let mut blocks = BLOCKS.lock().unwrap_or_else(|e| e.into_inner());
    blocks.retain(|(_, next, end)| next < end);
    blocks.push((tenant.clone(), start + 1, end));
    Ok(start)
}

/// An order number as shown: the prefix, then the number.
pub fn shown(prefix: &str, n: i64) -> String {
    format!("{prefix}{n}")
}
