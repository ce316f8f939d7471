//! Where orders live.
//!
//! | item | pk | sk | gsi1 (pk / sk) | gsi2 (pk / sk) |
//! |---|---|---|---|---|
//! | order (lines, totals, fulfilments, returns, refunds, timeline) | `T#<t>#ORDER#<order id>` | `ORDER` | `T#<t>#ORDERS` / `<created at>#<order id>` | a customer's: `T#<t>#CUSTOMER_ORDERS#<customer id>` / `<created at>#<order id>` |
//! | an order number, taken | `T#<t>#ORDER_NO#<number>` | `ORDER_NO` | | |
//! | an order by its total | `T#<t>#ORDER_TOTAL#<order id>` | `TOTAL` | `T#<t>#ORDERS_BY_TOTAL` / `<grand total, 19 digits>#<order id>` | |
//!
//! Checkout writes all three with the order, in its transaction. The number item finds an order
//! by its number with one read, and its `NotExists` condition is a second guard (after the
//! counter's) that no number is given twice. The total item exists to list orders by their total
//! (which never changes after checkout).

use super::model::StoredOrder;
use crate::identity::TenantId;
use crate::store::{
    self, attr, Condition, Index, Item, Key, Query, SortKey, StoreError, Table, TxOp,
};
use serde_json::Value;

pub const ORDER: &str = "order";
pub const ORDER_NUMBER_TAKEN: &str = "order_number_taken";
pub const ORDER_TOTAL: &str = "order_total";

pub fn order_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(format!("T#{tenant}#ORDER#{id}"), "ORDER")
}

fn number_key(tenant: &TenantId, number: i64) -> Key {
    Key::new(format!("T#{tenant}#ORDER_NO#{number}"), "ORDER_NO")
}

fn total_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(format!("T#{tenant}#ORDER_TOTAL#{id}"), "TOTAL")
}

fn created_sort(order: &StoredOrder) -> String {
    format!("{}#{}", order.order.created_at, order.order.id)
}

/// Writes an order: new (`expected`: `None`) or over the version read.
pub fn order_put(tenant: &TenantId, order: &StoredOrder, expected: Option<u64>) -> TxOp {
    let mut item = store::to_item(&order_key(tenant, &order.order.id), ORDER, order);
    item.insert(attr::GSI1PK.into(), format!("T#{tenant}#ORDERS").into());
    item.insert(attr::GSI1SK.into(), created_sort(order).into());
    if let Some(customer) = &order.order.customer_id {
        item.insert(
            attr::GSI2PK.into(),
            format!("T#{tenant}#CUSTOMER_ORDERS#{customer}").into(),
        );
        item.insert(attr::GSI2SK.into(), created_sort(order).into());
    }
    TxOp::Put {
        item,
        condition: Some(match expected {
            None => Condition::NotExists,
            Some(v) => Condition::VersionIs(v),
        }),
    }
}

/// The items a new order writes beside itself: its number, taken, and its total index entry.
pub fn order_index_puts(tenant: &TenantId, order: &StoredOrder) -> Vec<TxOp> {
    let o = &order.order;
    let number = store::to_item(
        &number_key(tenant, o.number),
        ORDER_NUMBER_TAKEN,
        &serde_json::json!({"order_id": o.id}),
    );
    let mut total = store::to_item(
        &total_key(tenant, &o.id),
        ORDER_TOTAL,
        &serde_json::json!({"order_id": o.id}),
    );
    total.insert(
        attr::GSI1PK.into(),
        format!("T#{tenant}#ORDERS_BY_TOTAL").into(),
    );
    total.insert(
        attr::GSI1SK.into(),
        format!("{:019}#{}", o.grand_total.max(0), o.id).into(),
    );
    vec![
        TxOp::Put {
            item: number,
            condition: Some(Condition::NotExists),
        },
        TxOp::Put {
            item: total,
            condition: Some(Condition::NotExists),
        },
    ]
}

pub async fn order(
    table: &dyn Table,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<StoredOrder>, StoreError> {
    table
        .get(&order_key(tenant, id))
        .await?
        .map(store::from_item)
        .transpose()
}

/// The id of the order with this number.
pub async fn order_id_by_number(
    table: &dyn Table,
    tenant: &TenantId,
    number: i64,
) -> Result<Option<String>, StoreError> {
    Ok(table
        .get(&number_key(tenant, number))
        .await?
        .and_then(|item| {
            item.get("order_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }))
}

/// Which index a listing of orders walks.
#[derive(Debug, Clone)]
pub enum Listing {
    /// Every order by creation, optionally within a range (RFC 3339, inclusive).
    Created {
        from: Option<String>,
        to: Option<String>,
        newest_first: bool,
    },
    /// One customer's orders, newest first.
    Customer(String),
    /// Every order by its grand total, largest first.
    Total,
}

/// One page of orders from a listing, each with where a cursor stopping at it resumes, and where
/// the page stopped.
pub async fn order_page(
    table: &dyn Table,
    tenant: &TenantId,
    listing: &Listing,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<(StoredOrder, Item)>, Option<Item>), StoreError> {
    let query = match listing {
        Listing::Created {
            from,
            to,
            newest_first,
        } => {
            // Sort keys are `<created_at>#<id>`: `~` sorts after every id character.
            let sk = match (from, to) {
                (None, None) => SortKey::Any,
                (Some(from), None) => SortKey::Ge(from.clone()),
                (None, Some(to)) => SortKey::Le(format!("{to}~")),
                (Some(from), Some(to)) => SortKey::Between(from.clone(), format!("{to}~")),
            };
            let query = Query::partition(Index::Gsi1, format!("T#{tenant}#ORDERS")).sk(sk);
            if *newest_first {
                query.backward()
            } else {
                query
            }
        }
        Listing::Customer(customer) => Query::partition(
            Index::Gsi2,
            format!("T#{tenant}#CUSTOMER_ORDERS#{customer}"),
        )
        .backward(),
        Listing::Total => {
            Query::partition(Index::Gsi1, format!("T#{tenant}#ORDERS_BY_TOTAL")).backward()
        }
    };
    let query = query.limit(limit).after(after);
    let page = table.query(&query).await?;
    let orders = match listing {
        Listing::Total => {
            // Index entries name their orders: read them in one batch, in the entries' order.
            let ids: Vec<String> = page
                .items
                .iter()
                .filter_map(|i| i.get("order_id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            let keys: Vec<Key> = ids.iter().map(|id| order_key(tenant, id)).collect();
            let mut found: Vec<StoredOrder> = Vec::new();
            for chunk in keys.chunks(store::MAX_BATCH_GET_KEYS) {
                for item in table.batch_get(chunk).await? {
                    found.push(store::from_item(item)?);
                }
            }
            page.items
                .iter()
                .filter_map(|entry| {
                    let id = entry.get("order_id").and_then(Value::as_str)?;
                    let order = found.iter().find(|o| o.order.id == id)?;
                    Some((order.clone(), store::key_projection(entry, Index::Gsi1)))
                })
                .collect()
        }
        _ => page
            .items
            .into_iter()
            .map(|item| {
                let at = store::key_projection(&item, query.index);
                store::from_item(item).map(|order| (order, at))
            })
            .collect::<Result<_, _>>()?,
    };
    Ok((orders, page.last_key))
}
