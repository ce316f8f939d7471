//! Counting a discount's uses when an order is placed, and giving them back when it is canceled.
//!
//! An order placed with discounts adds [`redeem_ops`] to its own transaction: each counter with a
//! limit is counted with a conditional add (`count < limit`, the counter created on first use),
//! and the code's own item is counted while it still exists (and has uses left). Either all of
//! them count, with the order, or the transaction fails and nothing is counted: of many
//! checkouts racing for a code's last use, exactly one gets it.
//!
//! Discounts without a limit on their total are counted after the order (`tally`), outside its
//! transaction: a popular automatic discount would otherwise make every checkout touch one item,
//! and concurrent transactions on one item conflict. Its count may lag an order that failed to
//! tally; its limits never do.

use super::engine::Refusal;
use super::errors::DiscountError;
use super::model::Discount;
use super::store::{self, Buyer};
use crate::app::App;
use crate::identity::TenantId;
use crate::store::{StoreError, TxOp, Update};

/// One discount an order uses.
#[derive(Debug, Clone)]
pub struct Redemption<'a> {
    pub discount: &'a Discount,
    /// The code entered (upper case), for a code discount.
    pub code: Option<&'a str>,
    /// Who ordered, under every identity they are counted as (see [`Buyer`]): for the
    /// per-customer limit.
    pub buyers: &'a [Buyer],
}

/// The operations that count the uses (see the module), for the order's transaction.
pub fn redeem_ops(tenant: &TenantId, redemption: &Redemption) -> Vec<TxOp> {
    let d = redemption.discount;
    let mut ops = Vec::new();
    if let Some(limit) = d.limits.total {
        ops.push(store::use_op(
            store::total_uses_key(tenant, &d.id),
            Some(limit),
        ));
    }
    if let Some(limit) = d.limits.per_customer {
        for buyer in redemption.buyers {
            ops.push(store::use_op(
                store::buyer_uses_key(tenant, &d.id, buyer),
                Some(limit),
            ));
        }
    }
    if let Some(code) = redemption.code {
        ops.push(store::code_use_op(tenant, code, d.limits.per_code));
    }
    ops
}

/// The operations that give the uses back (an order canceled), for its transaction.
pub fn give_back_ops(tenant: &TenantId, redemption: &Redemption) -> Vec<TxOp> {
    let d = redemption.discount;
    let mut ops = Vec::new();
    if d.limits.total.is_some() {
        ops.push(store::give_back_op(
            store::total_uses_key(tenant, &d.id),
            "count",
        ));
    }
    if d.limits.per_customer.is_some() {
        for buyer in redemption.buyers {
            ops.push(store::give_back_op(
                store::buyer_uses_key(tenant, &d.id, buyer),
                "count",
            ));
        }
    }
    if let Some(code) = redemption.code {
        ops.push(store::give_back_op(store::code_key(tenant, code), "uses"));
    }
    ops
}

/// Counts a use of a discount without a total limit (after its order; `delta` −1 gives it back).
pub async fn tally(
    app: &App,
    tenant: &TenantId,
    discount: &Discount,
    delta: i64,
) -> Result<(), StoreError> {
    if discount.limits.total.is_some() {
        return Ok(());
    }
    let key = store::total_uses_key(tenant, &discount.id);
    let result = if delta < 0 {
        // Never below zero.
        match app
            .table
            .transact(vec![store::give_back_op(key, "count")])
            .await
        {
            Err(StoreError::TransactionCancelled { .. }) => Ok(()),
            other => other,
        }
    } else {
        app.table
            .update(
                &key,
                Update::new()
                    .set(crate::store::attr::ENTITY, store::USES)
                    .add("count", delta),
                None,
            )
            .await
            .map(|_| ())
    };
    result
}

/// Whether any counter of the redemptions is used up, as read now.
pub async fn exhausted(
    app: &App,
    tenant: &TenantId,
    redemption: &Redemption<'_>,
) -> Result<bool, StoreError> {
    let d = redemption.discount;
    let mut checks: Vec<(crate::store::Key, i64)> = Vec::new();
    if let Some(limit) = d.limits.total {
        checks.push((store::total_uses_key(tenant, &d.id), limit));
    }
    if let Some(limit) = d.limits.per_customer {
        for buyer in redemption.buyers {
            checks.push((store::buyer_uses_key(tenant, &d.id, buyer), limit));
        }
    }
    if let (Some(limit), Some(code)) = (d.limits.per_code, redemption.code) {
        checks.push((store::code_key(tenant, code), limit));
    }
    if checks.is_empty() {
        return Ok(false);
    }
    let keys: Vec<_> = checks.iter().map(|(k, _)| k.clone()).collect();
    let counts = store::counts(app.table.as_ref(), &keys).await?;
    Ok(counts.iter().zip(&checks).any(|(n, (_, limit))| n >= limit))
}

/// Counts the uses of one order's discounts in a transaction of their own: what the order's
/// transaction does with [`redeem_ops`], for callers that hold no transaction. Answers
/// `discount_usage_exhausted` (or `discount_not_found` for a code deleted meanwhile) when a
/// limit is reached; nothing is counted then.
pub async fn redeem(
    app: &App,
    tenant: &TenantId,
    redemptions: &[Redemption<'_>],
) -> Result<(), DiscountError> {
    let ops: Vec<TxOp> = redemptions
        .iter()
        .flat_map(|r| redeem_ops(tenant, r))
        .collect();
    let mut counted = false;
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        // A limit already reached answers at once, without a transaction that would conflict
        // with the one that reached it.
        for r in redemptions {
            if exhausted(app, tenant, r).await? {
                return Err(DiscountError::refused(Refusal::UsageExhausted));
            }
        }
        if ops.is_empty() {
            counted = true;
            break;
        }
        match app.table.transact(ops.clone()).await {
            Ok(()) => {
                counted = true;
                break;
            }
            Err(StoreError::Conflict) => continue,
            Err(StoreError::TransactionCancelled { .. }) => {
                for r in redemptions {
                    if let Some(code) = r.code {
                        if store::code(app.table.as_ref(), tenant, code)
                            .await?
                            .is_none()
                        {
                            return Err(DiscountError::refused(Refusal::NotFound));
                        }
                    }
                }
                return Err(DiscountError::refused(Refusal::UsageExhausted));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !counted {
        return Err(StoreError::Conflict.into());
    }
    // The limits are counted; a tally that fails only lags the count of an unlimited discount.
    for r in redemptions {
        if let Err(e) = tally(app, tenant, r.discount, 1).await {
            tracing::warn!(error = %e, discount = %r.discount.id, "could not tally a discount use");
        }
    }
    Ok(())
}

/// Gives back the uses [`redeem`] counted.
pub async fn give_back(
    app: &App,
    tenant: &TenantId,
    redemptions: &[Redemption<'_>],
) -> Result<(), DiscountError> {
    let ops: Vec<TxOp> = redemptions
        .iter()
        .flat_map(|r| give_back_ops(tenant, r))
        .collect();
    for op in ops {
        // Each alone: a counter already at zero (or a code deleted since) stays as it is.
        match app.table.transact(vec![op]).await {
            Ok(()) | Err(StoreError::TransactionCancelled { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for r in redemptions {
        if let Err(e) = tally(app, tenant, r.discount, -1).await {
            tracing::warn!(error = %e, discount = %r.discount.id, "could not tally a discount use back");
        }
    }
    Ok(())
}

/// A use checkout counted, as its order recorded it: which counters it moved.
#[derive(Debug, Clone)]
pub struct Counted<'a> {
    pub discount_id: &'a str,
    /// The code whose own uses were counted.
    pub code: Option<&'a str>,
    /// The discount's total was counted (with its limit, or tallied without one).
    pub total: bool,
    /// The buyer's counters that were counted.
    pub buyers: Vec<Buyer>,
}

/// Gives back the uses an order counted, as it counted them (whatever the discount's limits are
/// now): each counter by one, never below zero; a code or discount deleted since is left be.
pub async fn give_back_counted(
    app: &App,
    tenant: &TenantId,
    counted: &[Counted<'_>],
) -> Result<(), StoreError> {
    let mut ops = Vec::new();
    for c in counted {
        if c.total {
            ops.push(store::give_back_op(
                store::total_uses_key(tenant, c.discount_id),
                "count",
            ));
        }
        for buyer in &c.buyers {
            ops.push(store::give_back_op(
                store::buyer_uses_key(tenant, c.discount_id, buyer),
                "count",
            ));
        }
        if let Some(code) = c.code {
            ops.push(store::give_back_op(store::code_key(tenant, code), "uses"));
        }
    }
    for op in ops {
        match app.table.transact(vec![op]).await {
            Ok(()) | Err(StoreError::TransactionCancelled { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
