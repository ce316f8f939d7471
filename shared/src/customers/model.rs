//! Customer records and the views of them each API shows.

use crate::ids::CustomerId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    Active,
    /// Cannot sign in or refresh; staff may enable the account again.
    Disabled,
    /// Personal data removed for good; the id stays for the records that point at it.
    Erased,
}

/// How far the erasure of a customer has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Erasure {
    /// The profile, addresses and email are gone, but session records (IP addresses, browsers)
    /// may remain: erasing again finishes the job.
    Pending,
    /// Nothing personal is left.
    Complete,
}

/// A customer as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    /// `cus_<ULID>`
    #[schema(value_type = String)]
    pub id: CustomerId,
    /// `null` once erased.
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub accepts_marketing: bool,
    pub email_verified: bool,
    pub status: CustomerStatus,
    /// Customer groups (`cgrp_...`) the customer belongs to.
    pub group_ids: Vec<String>,
    /// Pays no tax (so does a member of a tax-exempt group).
    #[serde(default)]
    pub tax_exempt: bool,
    pub tags: Vec<String>,
    /// Staff's note; never shown to the customer.
    pub note: String,
    pub default_shipping_address_id: Option<String>,
    pub default_billing_address_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub erased_at: Option<String>,
    /// `null` unless erased (or erased before erasures were tracked; erasing such a profile again
    /// finishes it as if it were pending).
    #[serde(default)]
    pub erasure: Option<Erasure>,
    pub version: u64,
}

/// A customer as stored: with the password hash and the session cut-off.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredCustomer {
    #[serde(flatten)]
    pub customer: Customer,
    /// argon2id PHC string; `None` once erased.
    pub password_hash: Option<String>,
    /// Sessions created at or before this instant (epoch ms) are void.
    pub sessions_valid_after_ms: i64,
    /// The email change waiting for its confirmation, if any (a new request replaces it).
    #[serde(default)]
    pub email_change: Option<EmailChange>,
}

impl crate::auth::credentials::PasswordAccount for StoredCustomer {
    fn password_hash(&self) -> Option<&str> {
        self.password_hash.as_deref()
    }

    fn may_sign_in(&self) -> bool {
        self.customer.status == CustomerStatus::Active
    }
}

/// A requested email change: the new address and the token that confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChange {
    /// Trimmed and lower-cased.
    pub email: String,
    /// Hex SHA-256 of the token's secret; the token itself is only in the email.
    pub token_hash: String,
    /// The token stops working at this instant (epoch seconds).
    pub expires_epoch: i64,
    /// When it was asked for (epoch ms): sessions cut off after that (a password change or
    /// reset, "log out everywhere", the account disabled) void it.
    #[serde(default)]
    pub requested_ms: i64,
}

/// The signed-in customer's own account, as the storefront shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub accepts_marketing: bool,
    pub email_verified: bool,
    pub default_shipping_address_id: Option<String>,
    pub default_billing_address_id: Option<String>,
    pub created_at: String,
    pub version: u64,
}

impl From<&Customer> for Account {
    fn from(c: &Customer) -> Self {
        Account {
            id: c.id.to_string(),
            email: c.email.clone().unwrap_or_default(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            phone: c.phone.clone(),
            accepts_marketing: c.accepts_marketing,
            email_verified: c.email_verified,
            default_shipping_address_id: c.default_shipping_address_id.clone(),
            default_billing_address_id: c.default_billing_address_id.clone(),
            created_at: c.created_at.clone(),
            version: c.version,
        }
    }
}

/// A postal address in a customer's address book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Address {
    /// `addr_<ULID>`
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    /// State, province or region.
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub phone: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// An address with whether it is one of the customer's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AddressView {
    #[serde(flatten)]
    pub address: Address,
    pub is_default_shipping: bool,
    pub is_default_billing: bool,
}

impl AddressView {
    pub fn of(address: Address, customer: &Customer) -> Self {
        AddressView {
            is_default_shipping: customer.default_shipping_address_id.as_deref()
                == Some(address.id.as_str()),
            is_default_billing: customer.default_billing_address_id.as_deref()
                == Some(address.id.as_str()),
            address,
        }
    }
}

/// A named set of customers (wholesale, VIP, staff...), for discounts and prices later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerGroup {
    /// `cgrp_<ULID>`
    pub id: String,
    pub name: String,
    pub description: String,
    /// Its members pay no tax.
    #[serde(default)]
    pub tax_exempt: bool,
    /// How many customers belong to it.
    pub member_count: i64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}
