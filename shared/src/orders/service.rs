//! What staff do to orders: read and list them, add notes, capture, mark paid, cancel, refund.
//!
//! Every change is a `Put` of the order at the version read. A step that moves money holds the
//! payment first (`locked_until`, written at the payment's version), asks the provider, then
//! records the provider's answer on the payment and the order in one transaction; a second money
//! step meanwhile answers 409 rather than asking the provider too, so two refunds racing cannot
//! both be paid out. A step that dies while holding the payment releases it when the hold runs
//! out (30 seconds).

use super::errors::OrderError;
use super::model::{Order, StoredOrder, TimelineEntry};
use super::store;
use super::transitions::{self, Action, OrderStatus};
use crate::app::App;
use crate::clock::rfc3339;
use crate::identity::TenantId;
use crate::payments::ledger;
use crate::payments::model::{Payment, PaymentStatus, Transaction, TransactionKind};
use crate::payments::provider::PaymentProvider;
use crate::store::{StoreError, TxOp};
use serde_json::{json, Value};

/// How long a money step holds a payment while it asks the provider.
const HOLD_SECS: i64 = 30;
/// Notes one order keeps.
pub const MAX_NOTES: usize = 100;
const MAX_NOTE_CHARS: usize = 2_000;

pub async fn load(app: &App, tenant: &TenantId, id: &str) -> Result<StoredOrder, OrderError> {
    if !crate::ids::is_id(id, "ord") {
        return Err(OrderError::NotFound("order"));
    }
    store::order(app.table.as_ref(), tenant, id)
        .await?
        .ok_or(OrderError::NotFound("order"))
}

pub fn entry(kind: &str, actor: &str, message: String, data: Value, app: &App) -> TimelineEntry {
    TimelineEntry {
        kind: kind.to_owned(),
        actor: actor.to_owned(),
        message,
        data,
        at: rfc3339(app.clock.now()),
    }
}

/// Brings an order's own statuses in line with its units and money: its fulfilment status from
/// the lines, and an open order that is paid (or refunded) and fulfilled (or returned) completes;
/// a completed one that no longer is (a fulfilment canceled) opens again.
pub fn settle(order: &mut Order) {
    order.fulfillment_status = order.units_status();
    let mut as_open = order.standing();
    as_open.order = OrderStatus::Open;
    let settled = transitions::settled(as_open);
    match order.status {
        OrderStatus::Open if settled => order.status = OrderStatus::Completed,
        OrderStatus::Completed if !settled => order.status = OrderStatus::Open,
        _ => {}
    }
}

/// Writes `order` (changed from `expected`) with `extra`, or answers why not: 412 with
/// `if_match`, otherwise `Err(None)` for the caller to read again.
async fn write(
    app: &App,
    tenant: &TenantId,
    order: &mut StoredOrder,
    expected: u64,
    extra: Vec<TxOp>,
) -> Result<bool, OrderError> {
    order.order.version = expected + 1;
    order.order.updated_at = rfc3339(app.clock.now());
    let mut ops = vec![store::order_put(tenant, order, Some(expected))];
    ops.extend(extra);
    match app.table.transact(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::TransactionCancelled { failed }) if failed.contains(&0) => Ok(false),
        Err(StoreError::Conflict) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Changes an order with `apply` (which checks what it needs and may add operations to the
/// transaction), reading again when another change won; with `if_match`, only the version named.
pub async fn change(
    app: &App,
    tenant: &TenantId,
    id: &str,
    if_match: Option<u64>,
    apply: &(dyn Fn(&mut StoredOrder) -> Result<Vec<TxOp>, OrderError> + Send + Sync),
) -> Result<StoredOrder, OrderError> {
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let before = load(app, tenant, id).await?;
        if if_match.is_some_and(|v| v != before.order.version) {
            return Err(OrderError::Stale);
        }
        let mut order = before.clone();
        let extra = apply(&mut order)?;
        if write(app, tenant, &mut order, before.order.version, extra).await? {
            return Ok(order);
        }
        if if_match.is_some() {
            return Err(OrderError::Stale);
        }
    }
    Err(OrderError::Busy)
}

pub async fn add_note(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    text: &str,
) -> Result<Order, OrderError> {
    let text = text.trim();
    if text.is_empty()
        || text.chars().count() > MAX_NOTE_CHARS
        || text.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(OrderError::field(
            "text",
            "invalid",
            format!("1 to {MAX_NOTE_CHARS} characters, no control characters but new lines"),
        ));
    }
    let order = change(app, tenant, id, None, &|order| {
        transitions::check(order.order.standing(), Action::AddNote)?;
        let notes = order
            .order
            .timeline
            .iter()
            .filter(|e| e.kind == "note")
            .count();
        if notes >= MAX_NOTES {
            return Err(OrderError::field(
                "text",
                "too_many",
                format!("an order keeps at most {MAX_NOTES} notes"),
            ));
        }
        order.order.log(entry(
            "note",
            &format!("staff:{actor}"),
            text.to_owned(),
            Value::Null,
            app,
        ));
        Ok(vec![crate::events::event(
            app,
            tenant,
            super::events::OrderEvent::OrderNoteAdded,
            Some(actor),
            json!({"order_id": order.order.id}),
        )])
    })
    .await?;
    Ok(order.order)
}

/// Archives a completed or canceled order (`archive`), or brings an archived one back to what it
/// was (`!archive`: `canceled` when it was canceled, else `completed`). Archiving only files the
/// order away: its money and units stay as they are.
pub async fn archive(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    archive: bool,
) -> Result<Order, OrderError> {
    let order = change(app, tenant, id, None, &|order| {
        let action = if archive {
            Action::Archive
        } else {
            Action::Unarchive
        };
        transitions::check(order.order.standing(), action)?;
        order.order.status = match (archive, &order.order.canceled_at) {
            (true, _) => OrderStatus::Archived,
            (false, Some(_)) => OrderStatus::Canceled,
            (false, None) => OrderStatus::Completed,
        };
        let (kind, kind_event) = if archive {
            ("archived", super::events::OrderEvent::OrderArchived)
        } else {
            ("unarchived", super::events::OrderEvent::OrderUnarchived)
        };
        order.order.log(entry(
            kind,
            &format!("staff:{actor}"),
            format!("Order {kind}"),
            Value::Null,
            app,
        ));
        Ok(vec![crate::events::event(
            app,
            tenant,
            kind_event,
            Some(actor),
            json!({"order_id": order.order.id, "status": order.order.status}),
        )])
    })
    .await?;
    Ok(order.order)
}

/// A money step: what it asks of the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Money {
    /// Capture this much of the authorization.
    Capture(i64),
    /// Refund this much of what was captured.
    Refund(i64),
    /// Release the authorization.
    Void,
    /// The manual provider: the money arrived outside the platform; record it captured.
    MarkPaid,
}

fn transaction(app: &App, kind: TransactionKind, amount: i64, reference: String) -> Transaction {
    Transaction {
        id: app.ids.new_id("ptx"),
        kind,
        amount,
        provider_reference: Some(reference),
        at: rfc3339(app.clock.now()),
    }
}

/// Records `money`'s outcome on the payment (through the ledger's rules).
fn record(
    app: &App,
    payment: &mut Payment,
    money: Money,
    reference: String,
) -> Result<(), OrderError> {
    let mut entries = Vec::new();
    match money {
        Money::Capture(amount) => entries.push(transaction(
            app,
            TransactionKind::Capture,
            amount,
            reference,
        )),
        Money::Refund(amount) => {
            entries.push(transaction(app, TransactionKind::Refund, amount, reference))
        }
        Money::Void => entries.push(transaction(app, TransactionKind::Void, 0, reference)),
        Money::MarkPaid => {
            if payment.status == PaymentStatus::Pending {
                entries.push(transaction(
                    app,
                    TransactionKind::Authorization,
                    payment.amount,
                    reference.clone(),
                ));
            }
            let left = payment.amount - payment.captured();
            entries.push(transaction(app, TransactionKind::Capture, left, reference));
        }
    }
    for e in entries {
        ledger::record(payment, e).map_err(|e| OrderError::AmountTooLarge(e.to_string()))?;
    }
    Ok(())
}

/// Whether the ledger allows `money` on the payment as read (the amount within what is left).
fn allowed(payment: &Payment, money: Money) -> Result<(), OrderError> {
    let mut trial = payment.clone();
    let mut probe = |kind, amount| {
        ledger::record(
            &mut trial,
            Transaction {
                id: String::new(),
                kind,
                amount,
                provider_reference: None,
                at: String::new(),
            },
        )
        .map(|_| ())
        .map_err(|e| match e {
            ledger::LedgerError::InvalidTransition { .. } => {
                OrderError::InvalidTransition(transitions::InvalidTransition {
                    action: "move money",
                    order: String::new(),
                    payment: ledger::status_name(payment.status).to_owned(),
                    fulfillment: String::new(),
                })
            }
            ledger::LedgerError::NotPositive => {
                OrderError::field("amount", "out_of_range", "at least 1")
            }
            other => OrderError::AmountTooLarge(other.to_string()),
        })
    };
    match money {
        Money::Capture(a) => probe(TransactionKind::Capture, a),
        Money::Refund(a) => probe(TransactionKind::Refund, a),
        Money::Void => probe(TransactionKind::Void, 0),
        Money::MarkPaid => Ok(()),
    }
}

async fn ask_provider(
    provider: &dyn PaymentProvider,
    payment: &Payment,
    money: Money,
) -> Result<String, OrderError> {
    let reference = payment.provider_reference.clone().unwrap_or_default();
    Ok(match money {
        Money::Capture(amount) => provider.capture(&reference, amount).await?,
        Money::Refund(amount) => provider.refund(&reference, amount).await?,
        Money::Void => provider.void(&reference).await?,
        Money::MarkPaid => format!("{reference}_marked_paid"),
    })
}

/// Holds the order's payment for a money step: answers the order and payment as read (the
/// payment held, at its new version), after `check` accepted them.
async fn hold(
    app: &App,
    tenant: &TenantId,
    id: &str,
    check: &(dyn Fn(&StoredOrder, &Payment) -> Result<Money, OrderError> + Send + Sync),
) -> Result<(StoredOrder, Payment, Money), OrderError> {
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let order = load(app, tenant, id).await?;
        let payment =
            crate::payments::store::payment(app.table.as_ref(), tenant, &order.order.payment_id)
                .await?
                .ok_or(OrderError::NotFound("payment"))?;
        let now = app.clock.epoch_seconds();
        if payment.locked_until > now {
            return Err(OrderError::Busy);
        }
        let money = check(&order, &payment)?;
        allowed(&payment, money)?;
        let mut held = payment.clone();
        held.locked_until = now + HOLD_SECS;
        held.version = payment.version + 1;
        match app
            .table
            .transact(vec![crate::payments::store::payment_put(
                tenant,
                &held,
                Some(payment.version),
            )])
            .await
        {
            Ok(()) => return Ok((order, held, money)),
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(OrderError::Busy)
}

/// Releases a held payment unchanged (the provider refused).
async fn release(app: &App, tenant: &TenantId, held: &Payment) {
    let mut free = held.clone();
    free.locked_until = 0;
    free.version = held.version + 1;
    if let Err(error) = app
        .table
        .transact(vec![crate::payments::store::payment_put(
            tenant,
            &free,
            Some(held.version),
        )])
        .await
    {
        tracing::warn!(%error, payment = %held.id, "could not release a payment; it frees itself");
    }
}

/// How a money step records itself on the order: the operations it adds to the transaction.
pub type RecordMoney<'a> =
    dyn Fn(&mut StoredOrder, &Payment, Money) -> Result<Vec<TxOp>, OrderError> + Send + Sync + 'a;

/// Runs a money step on an order: `check` decides it from the order and payment as read (and
/// refuses what the transition table or the ledger does not allow), the provider is asked, and
/// `apply` records it on the order (fresh at each attempt) with the operations it adds.
pub async fn move_money(
    app: &App,
    tenant: &TenantId,
    id: &str,
    check: &(dyn Fn(&StoredOrder, &Payment) -> Result<Money, OrderError> + Send + Sync),
    apply: &RecordMoney<'_>,
) -> Result<StoredOrder, OrderError> {
    let (order, held, money) = hold(app, tenant, id, check).await?;
    finish_money(app, tenant, id, order, held, money, apply).await
}

/// The rest of a money step once the payment is held: ask the provider, then record.
async fn finish_money(
    app: &App,
    tenant: &TenantId,
    id: &str,
    order: StoredOrder,
    held: Payment,
    money: Money,
    apply: &RecordMoney<'_>,
) -> Result<StoredOrder, OrderError> {
    let provider = match crate::payments::provider::named(&held.provider) {
        Some(p) => p,
        None => {
            release(app, tenant, &held).await;
            return Err(crate::payments::errors::PaymentError::ProviderUnavailable(
                held.provider.clone(),
            )
            .into());
        }
    };
    let reference = match ask_provider(provider.as_ref(), &held, money).await {
        Ok(r) => r,
        Err(e) => {
            release(app, tenant, &held).await;
            return Err(e);
        }
    };
    let mut paid = held.clone();
    record(app, &mut paid, money, reference)?;
    paid.locked_until = 0;
    paid.version = held.version + 1;
    paid.updated_at = rfc3339(app.clock.now());
    // The provider moved the money: record it, whatever else changed the order meanwhile.
    let mut current = order;
    for attempt in 0..crate::store::ATTEMPTS * 2 {
        if attempt > 0 {
            crate::store::back_off(attempt.min(crate::store::ATTEMPTS)).await;
            current = load(app, tenant, id).await?;
        }
        let paid_on = |order: &StoredOrder| {
            let mut next = order.clone();
            next.order.payment_status = paid.status;
            next.order.captured_total = paid.captured();
            next.order.refunded_total = paid.refunded();
            next
        };
        let mut next = paid_on(&current);
        let mut extra = vec![crate::payments::store::payment_put(
            tenant,
            &paid,
            Some(held.version),
        )];
        // What the step does to the order may no longer apply (the order changed while the
        // provider was asked); the money moved all the same, so it is recorded regardless and
        // the step answers why the rest did not happen.
        let refused = match apply(&mut next, &paid, money) {
            Ok(ops) => {
                extra.extend(ops);
                None
            }
            Err(refusal) => {
                next = paid_on(&current);
                next.order.log(entry(
                    "payment.recorded",
                    "system",
                    format!("{money:?} done by the payment provider; the rest refused: {refusal}"),
                    Value::Null,
                    app,
                ));
                Some(refusal)
            }
        };
        settle(&mut next.order);
        if write(app, tenant, &mut next, current.order.version, extra).await? {
            return match refused {
                Some(refusal) => Err(refusal),
                None => Ok(next),
            };
        }
    }
    tracing::error!(order = %id, payment = %paid.id, "a money step was done by the provider but not recorded");
    Err(OrderError::Busy)
}

fn paid_event(app: &App, tenant: &TenantId, actor: &str, order: &Order, amount: i64) -> TxOp {
    crate::events::event(
        app,
        tenant,
        super::events::OrderEvent::OrderPaid,
        Some(actor),
        json!({
            "order_id": order.id,
            "amount": amount,
            "payment_status": order.payment_status,
        }),
    )
}

/// Captures `amount` (all that is authorized and not captured, when absent).
pub async fn capture(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    amount: Option<i64>,
) -> Result<Order, OrderError> {
    let order = move_money(
        app,
        tenant,
        id,
        &|order, payment| {
            transitions::check(order.order.standing(), Action::Capture)?;
            if amount.is_some_and(|a| a < 1) {
                return Err(OrderError::field("amount", "out_of_range", "at least 1"));
            }
            let left = payment.authorized() - payment.captured();
            Ok(Money::Capture(amount.unwrap_or(left)))
        },
        &|order, _, money| Ok(captured(app, tenant, actor, order, money)),
    )
    .await?;
    Ok(order.order)
}

/// How a capture records itself on the order.
fn captured(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    order: &mut StoredOrder,
    money: Money,
) -> Vec<TxOp> {
    let Money::Capture(amount) = money else {
        return Vec::new();
    };
    order.order.log(entry(
        "payment.captured",
        actor,
        format!("{amount} captured"),
        json!({"amount": amount}),
        app,
    ));
    vec![paid_event(app, tenant, actor, &order.order, amount)]
}

/// The manual provider's payment arrived (a transfer, cash on delivery): recorded captured.
pub async fn mark_paid(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
) -> Result<Order, OrderError> {
    let order = move_money(
        app,
        tenant,
        id,
        &|order, payment| {
            transitions::check(order.order.standing(), Action::MarkPaid)?;
            if payment.provider != "manual" {
                return Err(OrderError::field(
                    "payment",
                    "not_manual",
                    format!(
                        "only payments of the manual provider are marked paid; this one is {}'s: \
                         capture it",
                        payment.provider
                    ),
                ));
            }
            Ok(Money::MarkPaid)
        },
        &|order, payment, _| {
            let amount = payment.captured() - order.order.captured_total;
            order.order.log(entry(
                "payment.marked_paid",
                actor,
                "Marked as paid".into(),
                json!({"amount": payment.captured()}),
                app,
            ));
            Ok(vec![paid_event(app, tenant, actor, &order.order, amount)])
        },
    )
    .await?;
    Ok(order.order)
}

/// Captures a new order's authorization when the company captures automatically, from the
/// order and payment checkout just wrote (no reads: the payment is held at the version written).
/// A failure leaves the order authorized, with the failure on its timeline, for staff to capture.
pub async fn capture_after_checkout(
    app: &App,
    tenant: &TenantId,
    order: StoredOrder,
    payment: Payment,
) -> StoredOrder {
    let id = order.order.id.clone();
    let money = Money::Capture(payment.authorized() - payment.captured());
    let mut held = payment.clone();
    held.locked_until = app.clock.epoch_seconds() + HOLD_SECS;
    held.version = payment.version + 1;
    let hold = app
        .table
        .transact(vec![crate::payments::store::payment_put(
            tenant,
            &held,
            Some(payment.version),
        )])
        .await;
    let outcome = match hold {
        Ok(()) => {
            finish_money(app, tenant, &id, order.clone(), held, money, &|o, _, m| {
                Ok(captured(app, tenant, "system", o, m))
            })
            .await
        }
        // Changed since checkout wrote it (staff were quicker): the general path reads it.
        Err(_) => match capture(app, tenant, "system", &id, None).await {
            Ok(_) => load(app, tenant, &id).await,
            Err(e) => Err(e),
        },
    };
    match outcome {
        Ok(captured) => captured,
        Err(error) => {
            tracing::warn!(%error, order = %id, "automatic capture failed");
            let message = format!("Automatic capture failed: {error}");
            match change(app, tenant, &id, None, &|o| {
                o.order.log(entry(
                    "payment.capture_failed",
                    "system",
                    message.clone(),
                    Value::Null,
                    app,
                ));
                Ok(Vec::new())
            })
            .await
            {
                Ok(o) => o,
                Err(_) => order,
            }
        }
    }
}

/// What `GET /admin/orders` filters and sorts by.
#[derive(Debug, Default, serde::Deserialize)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub fulfillment_status: Option<transitions::FulfillmentStatus>,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub number: Option<i64>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub total_min: Option<i64>,
    pub total_max: Option<i64>,
    /// `newest` (the default), `oldest` or `total` (largest first).
    pub sort: Option<String>,
}

impl OrderFilter {
    /// The filter as a cursor's scope: a cursor is only good for the query it came from.
    pub fn scope(&self) -> String {
        format!("orders:{self:?}")
    }

    fn matches(&self, order: &Order) -> bool {
        self.status.is_none_or(|s| s == order.status)
            && self
                .payment_status
                .is_none_or(|s| s == order.payment_status)
            && self
                .fulfillment_status
                .is_none_or(|s| s == order.fulfillment_status)
            && self
                .customer_id
                .as_ref()
                .is_none_or(|c| order.customer_id.as_ref() == Some(c))
            && self
                .email
                .as_ref()
                .is_none_or(|e| crate::validate::normalize_email(e) == order.email)
            && self
                .created_after
                .as_ref()
                .is_none_or(|a| order.created_at.as_str() >= a.as_str())
            && self
                .created_before
                .as_ref()
                .is_none_or(|b| order.created_at.as_str() <= b.as_str())
            && self.total_min.is_none_or(|m| order.grand_total >= m)
            && self.total_max.is_none_or(|m| order.grand_total <= m)
    }

    fn check(&self) -> Result<(), OrderError> {
        let mut errors = crate::validate::Errors::new();
        for (field, value) in [
            ("created_after", &self.created_after),
            ("created_before", &self.created_before),
        ] {
            if let Some(v) = value {
                if time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                    .is_err()
                {
                    errors.push(crate::http::FieldError::new(
                        field,
                        "invalid",
                        "an RFC 3339 instant",
                    ));
                }
            }
        }
        if let (Some(lo), Some(hi)) = (self.total_min, self.total_max) {
            if lo > hi {
                errors.push(crate::http::FieldError::new(
                    "total_min",
                    "out_of_range",
                    "at most total_max",
                ));
            }
        }
        if let Some(sort) = &self.sort {
            if !matches!(sort.as_str(), "newest" | "oldest" | "total") {
                errors.push(crate::http::FieldError::new(
                    "sort",
                    "invalid",
                    "newest, oldest or total",
                ));
            }
        }
        if self
            .customer_id
            .as_ref()
            .is_some_and(|c| !crate::ids::is_id(c, "cus"))
        {
            errors.push(crate::http::FieldError::new(
                "customer_id",
                "invalid",
                "a customer id (cus_…)",
            ));
        }
        match errors.into_vec() {
            Some(errors) => Err(OrderError::Invalid(errors)),
            None => Ok(()),
        }
    }
}

/// Orders examined at most for one page of a filtered listing (the page may then be short,
/// with a cursor to go on).
pub const MAX_SCANNED: usize = 1000;

/// A page of the company's orders (see [`OrderFilter`]), and where the next one starts.
pub async fn list(
    app: &App,
    tenant: &TenantId,
    filter: &OrderFilter,
    limit: u32,
    mut start: Option<crate::store::Item>,
) -> Result<(Vec<Order>, Option<crate::store::Item>), OrderError> {
    filter.check()?;
    if let Some(number) = filter.number {
        // Numbers are unique: one read finds the order.
        if start.is_some() {
            return Ok((Vec::new(), None));
        }
        let found = match store::order_id_by_number(app.table.as_ref(), tenant, number).await? {
            Some(id) => store::order(app.table.as_ref(), tenant, &id).await?,
            None => None,
        };
        return Ok((
            found
                .map(|o| o.order)
                .filter(|o| filter.matches(o))
                .into_iter()
                .collect(),
            None,
        ));
    }
    let listing = match (&filter.customer_id, filter.sort.as_deref()) {
        (_, Some("total")) => store::Listing::Total,
        (Some(customer), _) => store::Listing::Customer(customer.clone()),
        (None, sort) => store::Listing::Created {
            from: filter.created_after.clone(),
            to: filter.created_before.clone(),
            newest_first: sort != Some("oldest"),
        },
    };
    let limit = limit as usize;
    let mut found = Vec::new();
    let mut scanned = 0;
    loop {
        let want = if found.is_empty() && scanned == 0 {
            (limit as u32).max(20)
        } else {
            100
        };
        let (page, last) =
            store::order_page(app.table.as_ref(), tenant, &listing, want, start.take()).await?;
        for (stored, at) in page {
            scanned += 1;
            if filter.matches(&stored.order) {
                found.push(stored.order);
            }
            if found.len() == limit || scanned >= MAX_SCANNED {
                return Ok((found, Some(at)));
            }
        }
        match last {
            Some(last) => start = Some(last),
            None => return Ok((found, None)),
        }
    }
}

/// A customer's orders, newest first.
pub async fn customer_orders(
    app: &App,
    tenant: &TenantId,
    customer: &str,
    limit: u32,
    start: Option<crate::store::Item>,
) -> Result<(Vec<Order>, Option<crate::store::Item>), OrderError> {
    let (page, last) = store::order_page(
        app.table.as_ref(),
        tenant,
        &store::Listing::Customer(customer.to_owned()),
        limit,
        start,
    )
    .await?;
    Ok((page.into_iter().map(|(o, _)| o.order).collect(), last))
}

/// An order its customer (or a guest with its lookup token) may read; any other answers 404.
pub async fn shopper_order(
    app: &App,
    tenant: &TenantId,
    id: &str,
    customer: Option<&str>,
    token: Option<&str>,
) -> Result<Order, OrderError> {
    let order = load(app, tenant, id).await?;
    let by_customer = customer.is_some() && order.order.customer_id.as_deref() == customer;
    let by_token = token.is_some_and(|t| {
        use sha2::{Digest, Sha256};
        let hash = hex::encode(Sha256::digest(t.as_bytes()));
        hash == order.lookup_token_hash
    });
    if by_customer || by_token {
        Ok(order.order)
    } else {
        Err(OrderError::NotFound("order"))
    }
}
