//! Discounts and their codes, as stored and shown.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a discount reaches a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscountMethod {
    /// Applies by itself to every cart that meets its conditions.
    Automatic,
    /// Applies to a cart that enters one of its codes.
    Code,
}

/// What a discount takes off, and of what. Amounts are minor units of the discount's
/// `currency`; percentages have at most four decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DiscountValue {
    /// A percentage off the targeted lines (all lines: an order discount; some: a product
    /// discount), worked out on their amount together and shared over them in proportion.
    Percentage {
        percentage: f64,
        #[serde(default)]
        targets: Targets,
    },
    /// An amount off every targeted unit (never more than the unit's price): a product discount.
    FixedPerItem {
        amount: i64,
        #[serde(default)]
        targets: Targets,
    },
    /// An amount off the targeted lines together (never more than they cost), shared over them
    /// in proportion to their amounts: an order discount.
    FixedOrder {
        amount: i64,
        #[serde(default)]
        targets: Targets,
    },
    /// The shipping price off (at most `max_amount`; only for the listed methods when some
    /// are): a shipping discount.
    FreeShipping {
        #[serde(default)]
        max_amount: Option<i64>,
        /// Shipping method ids (`shm_…`); empty: every method.
        #[serde(default)]
        method_ids: Vec<String>,
    },
    /// Buy `buy.quantity` units of one set, get `get.quantity` units of another (or the same) at
    /// `get.percentage` off (100: free), up to `max_applications` times: a product discount.
    BuyXGetY {
        buy: BuyRule,
        get: GetRule,
        #[serde(default)]
        max_applications: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyRule {
    pub quantity: i64,
    #[serde(default)]
    pub targets: Targets,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetRule {
    pub quantity: i64,
    #[serde(default)]
    pub targets: Targets,
    /// Off each unit got, 0 to 100 (100: free).
    pub percentage: f64,
}

/// Which lines a discount looks at: those matching any list; every list empty: every line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Product ids (`prod_…`).
    #[serde(default)]
    pub products: Vec<String>,
    /// Variant ids (`var_…`).
    #[serde(default)]
    pub variants: Vec<String>,
    /// Collection ids (`col_…`).
    #[serde(default)]
    pub collections: Vec<String>,
    /// Category ids (`cat_…`).
    #[serde(default)]
    pub categories: Vec<String>,
}

impl Targets {
    pub fn is_all(&self) -> bool {
        self.products.is_empty()
            && self.variants.is_empty()
            && self.collections.is_empty()
            && self.categories.is_empty()
    }

    pub fn len(&self) -> usize {
        self.products.len() + self.variants.len() + self.collections.len() + self.categories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.is_all()
    }
}

/// Who and what a cart must be for the discount to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// The targeted lines' subtotal before any discount must reach this (minor units of the
    /// discount's currency; free shipping: the cart's subtotal).
    #[serde(default)]
    pub minimum_subtotal: Option<i64>,
    /// The targeted lines must hold at least this many units.
    #[serde(default)]
    pub minimum_quantity: Option<i64>,
    /// Only customers in one of these groups (`cgrp_…`).
    #[serde(default)]
    pub customer_groups: Vec<String>,
    /// Only these customers (`cus_…`).
    #[serde(default)]
    pub customers: Vec<String>,
    /// Only a buyer's first order: checked when the order is placed.
    #[serde(default)]
    pub first_order_only: bool,
}

/// How often a discount may be used (each order placed with it is one use).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Orders in all.
    #[serde(default)]
    pub total: Option<i64>,
    /// Orders per customer (guests are counted by their email).
    #[serde(default)]
    pub per_customer: Option<i64>,
    /// Orders per code (1: every code is single-use).
    #[serde(default)]
    pub per_code: Option<i64>,
}

impl Limits {
    pub fn any(&self) -> bool {
        self.total.is_some() || self.per_customer.is_some() || self.per_code.is_some()
    }
}

/// What other discounts a discount may apply together with, by their class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CombinesWith {
    #[serde(default)]
    pub product_discounts: bool,
    #[serde(default)]
    pub order_discounts: bool,
    #[serde(default)]
    pub shipping_discounts: bool,
}

impl CombinesWith {
    pub fn allows(&self, class: DiscountClass) -> bool {
        match class {
            DiscountClass::Product => self.product_discounts,
            DiscountClass::Order => self.order_discounts,
            DiscountClass::Shipping => self.shipping_discounts,
        }
    }
}

/// What a discount reduces: some products' lines, the order's lines, or shipping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscountClass {
    Product,
    Order,
    Shipping,
}

/// A discount as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Discount {
    /// `disc_<ULID>`
    pub id: String,
    /// What shoppers see on the cart (`Summer sale 15 %`).
    pub title: String,
    pub method: DiscountMethod,
    pub value: DiscountValue,
    /// The currency of its amounts (fixed amounts, minimum subtotal, free shipping cap): it
    /// applies only to carts in it. Absent: any currency (a percentage without amounts).
    pub currency: Option<String>,
    pub conditions: Conditions,
    pub limits: Limits,
    pub combines_with: CombinesWith,
    pub active: bool,
    /// RFC 3339: applies from then (absent: at once).
    pub starts_at: Option<String>,
    /// RFC 3339: applies until then (absent: without end).
    pub ends_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Discount {
    pub fn class(&self) -> DiscountClass {
        match &self.value {
            DiscountValue::Percentage { targets, .. } if targets.is_all() => DiscountClass::Order,
            DiscountValue::Percentage { .. }
            | DiscountValue::FixedPerItem { .. }
            | DiscountValue::BuyXGetY { .. } => DiscountClass::Product,
            DiscountValue::FixedOrder { .. } => DiscountClass::Order,
            DiscountValue::FreeShipping { .. } => DiscountClass::Shipping,
        }
    }

    /// Whether two discounts may apply together: each must allow the other's class.
    pub fn combines(&self, other: &Discount) -> bool {
        self.combines_with.allows(other.class()) && other.combines_with.allows(self.class())
    }

    /// Whether anything it targets is a collection (carts then read their products'
    /// collections).
    pub fn targets_collections(&self) -> bool {
        match &self.value {
            DiscountValue::Percentage { targets, .. }
            | DiscountValue::FixedPerItem { targets, .. }
            | DiscountValue::FixedOrder { targets, .. } => !targets.collections.is_empty(),
            DiscountValue::BuyXGetY { buy, get, .. } => {
                !buy.targets.collections.is_empty() || !get.targets.collections.is_empty()
            }
            DiscountValue::FreeShipping { .. } => false,
        }
    }
}

/// Where a discount stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscountStatus {
    /// Switched off by staff.
    Disabled,
    /// Active, but its start is still ahead.
    Scheduled,
    /// Active and within its dates.
    Live,
    /// Its end has passed.
    Expired,
}

/// A discount as staff see it: with its class, status and uses.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DiscountView {
    #[serde(flatten)]
    pub discount: Discount,
    pub class: DiscountClass,
    pub status: DiscountStatus,
    /// Orders placed with it.
    pub usage_count: i64,
}

/// A code of a discount, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    /// Upper case: codes are matched without regard to case.
    pub code: String,
    pub discount_id: String,
    /// Orders placed with it.
    #[serde(default)]
    pub uses: i64,
    pub created_at: String,
}

/// A code as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CodeView {
    /// Upper case: codes are matched without regard to case.
    pub code: String,
    pub discount_id: String,
    /// Orders placed with it.
    pub usage_count: i64,
    pub created_at: String,
}

impl From<Code> for CodeView {
    fn from(code: Code) -> Self {
        CodeView {
            code: code.code,
            discount_id: code.discount_id,
            usage_count: code.uses,
            created_at: code.created_at,
        }
    }
}
