//! Where discounts, their codes and their uses live.
//!
//! | item | pk | sk | gsi1 (pk / sk) |
//! |---|---|---|---|
//! | discount | `T#<t>#DISCOUNTS` | `DISC#<discount id>` | |
//! | discount count (caps discounts per company) | `T#<t>#DISCOUNTS` | `COUNT` | |
//! | code (unique per company, any case) | `T#<t>#DISCOUNT_CODE#<CODE>` | `CODE` | `T#<t>#DISCOUNT_CODES#<discount id>` / `<CODE>` |
//! | uses in all | `T#<t>#DISCOUNT_USES#<discount id>` | `TOTAL` | |
//! | uses of one buyer | `T#<t>#DISCOUNT_USES#<discount id>` | `BUYER#<customer id, or sha256 of the email>` | |
//! | codes of a discount (caps them) | `T#<t>#DISCOUNT_USES#<discount id>` | `CODES` | |
//!
//! A company's discounts share one partition (a [`Shelf`]), so pricing reads them all with one
//! query (kept per container, see `service::cached`). A code's own item holds its uses, so a
//! single-use code is used once whatever the traffic; counters never share an item with the
//! discount staff edit.

use super::model::Code;
use crate::identity::TenantId;
use crate::store::shelf::Shelf;
use crate::store::{
    self, attr, Comparison, Condition, Index, Item, Key, Query, SortKey, StoreError, Table, TxOp,
    Update,
};
use sha2::{Digest, Sha256};

pub const DISCOUNT: &str = "discount";
pub const CODE: &str = "discount_code";
pub const USES: &str = "discount_uses";

pub fn discounts(tenant: &TenantId) -> Shelf {
    Shelf {
        partition: format!("T#{tenant}#DISCOUNTS"),
        prefix: "DISC",
        entity: DISCOUNT,
    }
}

pub fn code_key(tenant: &TenantId, code: &str) -> Key {
    Key::new(format!("T#{tenant}#DISCOUNT_CODE#{code}"), "CODE")
}

fn codes_index(tenant: &TenantId, discount: &str) -> String {
    format!("T#{tenant}#DISCOUNT_CODES#{discount}")
}

fn uses_partition(tenant: &TenantId, discount: &str) -> String {
    format!("T#{tenant}#DISCOUNT_USES#{discount}")
}

pub fn total_uses_key(tenant: &TenantId, discount: &str) -> Key {
    Key::new(uses_partition(tenant, discount), "TOTAL")
}

/// A buyer's uses: a customer by id, an email hashed (the key holds no address).
pub fn buyer_uses_key(tenant: &TenantId, discount: &str, buyer: &Buyer) -> Key {
    let who = match buyer {
        Buyer::Customer(id) => id.clone(),
        Buyer::Email(email) => hex::encode(Sha256::digest(email.as_bytes())),
    };
    Key::new(uses_partition(tenant, discount), format!("BUYER#{who}"))
}

fn code_count_key(tenant: &TenantId, discount: &str) -> Key {
    Key::new(uses_partition(tenant, discount), "CODES")
}

/// One identity a buyer is counted under, for a discount's per-customer limit.
///
/// An order counts every identity it has: a signed-in customer by id **and** by the order's
/// email, a guest by the email. So checking out once signed in and once as a guest with the same
/// address is one buyer using the discount twice, and so is a signed-in customer who changes the
/// cart's email between orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Buyer {
    Customer(String),
    /// An email address, normalised (lower case).
    Email(String),
}

impl Buyer {
    /// The identities the buyer of a cart is counted under: its customer, and the emails it
    /// has (the cart's, and a signed-in customer's account email), each once.
    pub fn all_of<'a>(
        customer: Option<String>,
        emails: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Vec<Buyer> {
        let mut buyers: Vec<Buyer> = customer.map(Buyer::Customer).into_iter().collect();
        for email in emails.into_iter().flatten() {
            let buyer = Buyer::Email(email.to_owned());
            if !buyers.contains(&buyer) {
                buyers.push(buyer);
            }
        }
        buyers
    }

    /// How an order records a counter it counted: `customer:<id>` or `email:<address>`.
    pub fn label(&self) -> String {
        match self {
            Buyer::Customer(id) => format!("customer:{id}"),
            Buyer::Email(email) => format!("email:{email}"),
        }
    }

    /// Reads a [`Buyer::label`] back (`guest:<address>` is how orders placed before
    /// 2026-12-04 recorded an email).
    pub fn from_label(label: &str) -> Option<Buyer> {
        if let Some(id) = label.strip_prefix("customer:") {
            return Some(Buyer::Customer(id.to_owned()));
        }
        label
            .strip_prefix("email:")
            .or_else(|| label.strip_prefix("guest:"))
            .map(|email| Buyer::Email(email.to_owned()))
    }
}

/// Writes a new code (failing if the company has it already, in any case).
pub fn code_put(tenant: &TenantId, code: &Code) -> TxOp {
    let mut item = store::to_item(&code_key(tenant, &code.code), CODE, code);
    item.insert(
        attr::GSI1PK.into(),
        codes_index(tenant, &code.discount_id).into(),
    );
    item.insert(attr::GSI1SK.into(), code.code.clone().into());
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

pub fn code_delete(tenant: &TenantId, code: &str) -> TxOp {
    TxOp::Delete {
        key: code_key(tenant, code),
        condition: Some(Condition::Exists),
    }
}

/// Counts `delta` codes in (only while the discount keeps at most `max` in all) or out.
pub fn code_count_op(tenant: &TenantId, discount: &str, delta: i64, max: i64) -> TxOp {
    let condition = (delta > 0).then(|| {
        Condition::Any(vec![
            Condition::NotExists,
            Condition::Number {
                attr: "count".into(),
                cmp: Comparison::Le,
                value: max - delta,
            },
        ])
    });
    TxOp::Update {
        key: code_count_key(tenant, discount),
        update: Update::new()
            .set(attr::ENTITY, "discount_code_count")
            .add("count", delta),
        condition,
    }
}

pub fn code_count_delete(tenant: &TenantId, discount: &str) -> TxOp {
    TxOp::Delete {
        key: code_count_key(tenant, discount),
        condition: None,
    }
}

pub async fn code(
    table: &dyn Table,
    tenant: &TenantId,
    code: &str,
) -> Result<Option<Code>, StoreError> {
    table
        .get(&code_key(tenant, code))
        .await?
        .map(store::from_item)
        .transpose()
}

/// A page of a discount's codes, in code order.
pub async fn code_page(
    table: &dyn Table,
    tenant: &TenantId,
    discount: &str,
    limit: u32,
    after: Option<Item>,
) -> Result<(Vec<Code>, Option<Item>), StoreError> {
    let page = table
        .query(
            &Query::partition(Index::Gsi1, codes_index(tenant, discount))
                .sk(SortKey::Any)
                .limit(limit)
                .after(after),
        )
        .await?;
    let codes = page
        .items
        .into_iter()
        .map(store::from_item)
        .collect::<Result<_, _>>()?;
    Ok((codes, page.last_key))
}

/// Uses counted on counters (absent: 0), in the order of `keys`.
pub async fn counts(table: &dyn Table, keys: &[Key]) -> Result<Vec<i64>, StoreError> {
    let mut found = Vec::new();
    for chunk in keys.chunks(store::MAX_BATCH_GET_KEYS) {
        found.extend(table.batch_get(chunk).await?);
    }
    Ok(keys
        .iter()
        .map(|k| {
            found
                .iter()
                .find(|i| {
                    i.get(attr::PK).and_then(|v| v.as_str()) == Some(k.pk.as_str())
                        && i.get(attr::SK).and_then(|v| v.as_str()) == Some(k.sk.as_str())
                })
                .and_then(|i| i.get("count").or_else(|| i.get("uses")))
                .and_then(|v| v.as_i64())
                .unwrap_or(0)
        })
        .collect())
}

/// Counts one use on a counter (created on first use), only while it holds fewer than `limit`
/// (no limit: always).
pub fn use_op(key: Key, limit: Option<i64>) -> TxOp {
    TxOp::Update {
        key,
        update: Update::new().set(attr::ENTITY, USES).add("count", 1),
        condition: limit.map(|limit| {
            Condition::Any(vec![
                Condition::NotExists,
                Condition::Number {
                    attr: "count".into(),
                    cmp: Comparison::Lt,
                    value: limit,
                },
            ])
        }),
    }
}

/// Counts one use on a code, which must still exist, only while it has fewer than `limit`.
pub fn code_use_op(tenant: &TenantId, code: &str, limit: Option<i64>) -> TxOp {
    let mut all = vec![Condition::Exists];
    if let Some(limit) = limit {
        all.push(Condition::Number {
            attr: "uses".into(),
            cmp: Comparison::Lt,
            value: limit,
        });
    }
    TxOp::Update {
        key: code_key(tenant, code),
        update: Update::new().add("uses", 1),
        condition: Some(Condition::All(all)),
    }
}

/// Gives one use back (an order canceled): never below zero.
pub fn give_back_op(key: Key, attribute: &str) -> TxOp {
    TxOp::Update {
        key,
        update: Update::new().add(attribute, -1),
        condition: Some(Condition::Number {
            attr: attribute.into(),
            cmp: Comparison::Ge,
            value: 1,
        }),
    }
}

/// Every counter of a discount (when it is deleted).
pub async fn counters(
    table: &dyn Table,
    tenant: &TenantId,
    discount: &str,
) -> Result<Vec<Key>, StoreError> {
    let mut keys = Vec::new();
    let mut after = None;
    loop {
        let page = table
            .query(
                &Query::partition(Index::Table, uses_partition(tenant, discount))
                    .limit(1000)
                    .after(after),
            )
            .await?;
        for item in &page.items {
            keys.push(Key::of(item)?);
        }
        match page.last_key {
            Some(last) => after = Some(last),
            None => return Ok(keys),
        }
    }
}
