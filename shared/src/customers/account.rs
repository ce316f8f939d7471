//! The signed-in customer's own account: profile and address book.
//!
//! Default addresses are fields of the profile, so "at most one default shipping and one default
//! billing address" holds by construction. Every change to the address book also moves the
//! profile's version, so concurrent changes serialise on it: a loser re-reads and re-applies its
//! change (a few times) instead of overwriting the winner's.

use super::model::{Account, Address, AddressView, CustomerStatus, StoredCustomer};
use super::{postal, store};
use crate::app::App;
use crate::auth::TenantId;
use crate::clock::rfc3339;
use crate::customers::errors::CustomerError;
use crate::events::event;
use crate::http::FieldError;
use crate::store::{Condition, StoreError, TxOp};
use crate::validate::{self, Errors};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// Addresses one customer may keep.
pub const MAX_ADDRESSES: usize = 50;

fn gone() -> CustomerError {
    CustomerError::Unavailable
}

/// The signed-in customer, while the account is active (a disabled or erased account's access
/// tokens stop working here at once, and at refresh everywhere else).
pub async fn load_active(
    app: &App,
    tenant: &TenantId,
    customer_id: &str,
) -> Result<StoredCustomer, CustomerError> {
    store::get(app.table.as_ref(), tenant, customer_id)
        .await?
        .filter(|c| c.customer.status == CustomerStatus::Active)
        .ok_or_else(gone)
}

/// The signed-in customer, while the account is active and the access token's session is still
/// live: a password change or reset, "log out everywhere", logging this session out and
/// disabling the account stop the token here at once, not when it expires. One batched read of
/// the profile and the session.
pub async fn load_live(
    app: &App,
    tenant: &TenantId,
    me: &crate::identity::CustomerSession,
) -> Result<StoredCustomer, CustomerError> {
    if !crate::ids::is_id(&me.customer_id, "cus") {
        return Err(gone());
    }
    let keys = [
        store::key(tenant, &me.customer_id),
        crate::auth::sessions::key(tenant, &me.customer_id, &me.session_id),
    ];
    let mut customer = None;
    let mut session: Option<crate::auth::sessions::Session> = None;
    for item in app.table.batch_get(&keys).await? {
        match store::customer_in(&item) {
            Some(found) => customer = Some(found?),
            None => session = Some(crate::store::from_item(item)?),
        }
    }
    let customer = customer
        .filter(|c| c.customer.status == CustomerStatus::Active)
        .ok_or_else(gone)?;
    let live = session.is_some_and(|s| {
        !s.revoked
            && s.created_ms > customer.sessions_valid_after_ms
            && s.expires_epoch > app.clock.epoch_seconds()
    });
    if !live {
        return Err(CustomerError::SessionEnded);
    }
    Ok(customer)
}

fn optional_text(errors: &mut Errors, field: &str, value: Option<&str>, max: usize) {
    if let Some(value) = value {
        if value.chars().count() > max || value.chars().any(char::is_control) {
            errors.push(FieldError::new(
                field,
                "invalid",
                format!("use at most {max} characters, without control characters"),
            ));
        }
    }
}

fn required_text(errors: &mut Errors, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, "required", "must not be empty"));
    } else {
        optional_text(errors, field, Some(value), max);
    }
}

fn check_phone(errors: &mut Errors, field: &str, phone: Option<&str>) {
    if let Some(phone) = phone {
        let digits = phone.bytes().filter(u8::is_ascii_digit).count();
        let ok = phone.len() <= 30
            && (5..=15).contains(&digits)
            && phone
                .bytes()
                .all(|b| b.is_ascii_digit() || b" +-().".contains(&b));
        if !ok {
            errors.push(FieldError::new(
                field,
                "invalid",
                "a phone number such as +49 30 1234567",
            ));
        }
    }
}

/// Empty optional text means "none".
fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Profile

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChange {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// An empty string removes it.
    pub phone: Option<String>,
    pub accepts_marketing: Option<bool>,
}

pub async fn change(
    app: &App,
    tenant: &TenantId,
    me: &crate::identity::CustomerSession,
    input: AccountChange,
    if_match: Option<u64>,
) -> Result<Account, CustomerError> {
    let mut errors = Errors::new();
    optional_text(&mut errors, "first_name", input.first_name.as_deref(), 100);
    optional_text(&mut errors, "last_name", input.last_name.as_deref(), 100);
    let phone = input.phone.clone().map(|p| clean(Some(p)));
    check_phone(&mut errors, "phone", phone.clone().flatten().as_deref());
    errors.into_result()?;
    let stored = load_live(app, tenant, me).await?;
    let customer_id = me.customer_id.as_str();
    if if_match.is_some_and(|v| v != stored.customer.version) {
        return Err(CustomerError::Stale);
    }
    let mut changed = stored.clone();
    let c = &mut changed.customer;
    if let Some(v) = input.first_name {
        c.first_name = v.trim().to_owned();
    }
    if let Some(v) = input.last_name {
        c.last_name = v.trim().to_owned();
    }
    if let Some(v) = phone {
        c.phone = v;
    }
    if let Some(v) = input.accepts_marketing {
        c.accepts_marketing = v;
    }
    c.version += 1;
    c.updated_at = rfc3339(app.clock.now());
    match app
        .table
        .transact(vec![
            store::replace_op(tenant, &changed, stored.customer.version),
            event(
                app,
                tenant,
                crate::customers::events::CustomerEvent::Updated,
                Some(customer_id),
                json!({"customer_id": customer_id, "by": "customer"}),
            ),
        ])
        .await
    {
        Ok(()) => Ok(Account::from(&changed.customer)),
        Err(e) if e.failed_at(0) => Err(CustomerError::Stale),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Addresses

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAddress {
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
    pub phone: Option<String>,
    /// Make it the default shipping address (the first address becomes it anyway).
    #[serde(default)]
    pub default_shipping: bool,
    /// Make it the default billing address (the first address becomes it anyway).
    #[serde(default)]
    pub default_billing: bool,
}

/// A partial change; an empty string removes an optional field.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressChange {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    /// `true` makes it the default shipping address; `false` stops it being the default.
    pub default_shipping: Option<bool>,
    pub default_billing: Option<bool>,
}

fn check_address(errors: &mut Errors, a: &Address) {
    required_text(errors, "first_name", &a.first_name, 100);
    required_text(errors, "last_name", &a.last_name, 100);
    optional_text(errors, "company", a.company.as_deref(), 100);
    required_text(errors, "line1", &a.line1, 200);
    optional_text(errors, "line2", a.line2.as_deref(), 200);
    required_text(errors, "city", &a.city, 100);
    optional_text(errors, "region", a.region.as_deref(), 100);
    check_phone(errors, "phone", a.phone.as_deref());
    match validate::country("country", &a.country) {
        Err(e) => errors.push(e),
        Ok(()) => {
            if let Some((code, message)) = postal::problem(&a.country, a.postal_code.as_deref()) {
                errors.push(FieldError::new("postal_code", code, message));
            }
        }
    }
}

/// Checks and tidies a postal address as the address book does (carts take shipping and billing
/// addresses in the same shape); field errors are named under `prefix` (`shipping_address.city`).
pub fn checked_postal(prefix: &str, address: Address) -> Result<Address, Vec<FieldError>> {
    let mut errors = Errors::new();
    check_address(&mut errors, &address);
    match errors.into_vec() {
        None => Ok(normalized(address)),
        Some(errors) => Err(errors
            .into_iter()
            .map(|e| FieldError::new(format!("{prefix}.{}", e.field), e.code, e.message))
            .collect()),
    }
}

fn normalized(mut a: Address) -> Address {
    a.first_name = a.first_name.trim().to_owned();
    a.last_name = a.last_name.trim().to_owned();
    a.line1 = a.line1.trim().to_owned();
    a.city = a.city.trim().to_owned();
    a.company = clean(a.company);
    a.line2 = clean(a.line2);
    a.region = clean(a.region);
    a.phone = clean(a.phone);
    a.postal_code = clean(a.postal_code).map(|p| postal::normalize(&p));
    a
}

fn not_found() -> CustomerError {
    CustomerError::NotFound("address")
}

/// What one change to an address book writes: the changed profile (always, as the book's lock),
/// the address operations, and what to answer.
struct BookChange<T> {
    profile: StoredCustomer,
    ops: Vec<TxOp>,
    answer: T,
}

/// Applies a change to the signed-in customer's address book from a fresh read, retrying when a
/// concurrent change to the same book wins.
async fn change_book<T>(
    app: &App,
    tenant: &TenantId,
    customer_id: &str,
    apply: impl Fn(&StoredCustomer, &[Address]) -> Result<BookChange<T>, CustomerError>,
) -> Result<T, CustomerError> {
    for attempt in 0..crate::store::ATTEMPTS {
        if attempt > 0 {
            crate::store::back_off(attempt).await;
        }
        let (stored, addresses) = store::with_addresses(app.table.as_ref(), tenant, customer_id)
            .await?
            .filter(|(c, _)| c.customer.status == CustomerStatus::Active)
            .ok_or_else(gone)?;
        let BookChange {
            mut profile,
            ops,
            answer,
        } = apply(&stored, &addresses)?;
        profile.customer.version = stored.customer.version + 1;
        profile.customer.updated_at = rfc3339(app.clock.now());
        let mut all = vec![store::replace_op(tenant, &profile, stored.customer.version)];
        all.extend(ops);
        match app.table.transact(all).await {
            Ok(()) => return Ok(answer),
            Err(e) if e.failed_at(0) => continue,
            Err(StoreError::Conflict) => continue,
            // An address operation failed: it changed or went away after the read.
            Err(StoreError::TransactionCancelled { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CustomerError::BookBusy)
}

fn address_event(
    app: &App,
    tenant: &TenantId,
    kind: super::events::CustomerEvent,
    customer_id: &str,
    id: &str,
) -> TxOp {
    event(
        app,
        tenant,
        kind,
        Some(customer_id),
        json!({"customer_id": customer_id, "address_id": id}),
    )
}

pub async fn list_addresses(
    app: &App,
    tenant: &TenantId,
    customer_id: &str,
) -> Result<Vec<AddressView>, CustomerError> {
    let (stored, addresses) = store::with_addresses(app.table.as_ref(), tenant, customer_id)
        .await?
        .filter(|(c, _)| c.customer.status == CustomerStatus::Active)
        .ok_or_else(gone)?;
    Ok(addresses
        .into_iter()
        .map(|a| AddressView::of(a, &stored.customer))
        .collect())
}

pub async fn get_address(
    app: &App,
    tenant: &TenantId,
    customer_id: &str,
    id: &str,
) -> Result<AddressView, CustomerError> {
    list_addresses(app, tenant, customer_id)
        .await?
        .into_iter()
        .find(|a| a.address.id == id)
        .ok_or_else(not_found)
}

pub async fn create_address(
    app: &App,
    tenant: &TenantId,
    customer_id: &str,
    input: NewAddress,
) -> Result<AddressView, CustomerError> {
    let now = rfc3339(app.clock.now());
    let address = normalized(Address {
        id: app.ids.new_id("addr"),
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
        company: input.company.clone(),
        line1: input.line1.clone(),
        line2: input.line2.clone(),
        city: input.city.clone(),
        region: input.region.clone(),
        postal_code: input.postal_code.clone(),
        country: input.country.clone(),
        phone: input.phone.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    });
    let mut errors = Errors::new();
    check_address(&mut errors, &address);
    errors.into_result()?;
    change_book(app, tenant, customer_id, |stored, addresses| {
        if addresses.len() >= MAX_ADDRESSES {
            return Err(CustomerError::TooManyAddresses { max: MAX_ADDRESSES });
        }
        let mut profile = stored.clone();
        let c = &mut profile.customer;
        if input.default_shipping || c.default_shipping_address_id.is_none() {
            c.default_shipping_address_id = Some(address.id.clone());
        }
        if input.default_billing || c.default_billing_address_id.is_none() {
            c.default_billing_address_id = Some(address.id.clone());
        }
        let answer = AddressView::of(address.clone(), c);
        Ok(BookChange {
            ops: vec![
                store::address_put_op(tenant, customer_id, &address, Condition::NotExists),
                address_event(
                    app,
                    tenant,
                    crate::customers::events::CustomerEvent::AddressCreated,
                    customer_id,
                    &address.id,
                ),
            ],
            profile,
            answer,
        })
    })
    .await
}

fn apply_change(current: &Address, input: &AddressChange) -> Address {
    let text = |new: &Option<String>, old: &String| new.clone().unwrap_or_else(|| old.clone());
    let optional = |new: &Option<String>, old: &Option<String>| match new {
        Some(v) => Some(v.clone()),
        None => old.clone(),
    };
    normalized(Address {
        first_name: text(&input.first_name, &current.first_name),
        last_name: text(&input.last_name, &current.last_name),
        company: optional(&input.company, &current.company),
        line1: text(&input.line1, &current.line1),
        line2: optional(&input.line2, &current.line2),
        city: text(&input.city, &current.city),
        region: optional(&input.region, &current.region),
        postal_code: optional(&input.postal_code, &current.postal_code),
        country: text(&input.country, &current.country),
        phone: optional(&input.phone, &current.phone),
        ..current.clone()
    })
}

pub async fn change_address(
    app: &App,
    tenant: &TenantId,
    customer_id: &str,
    id: &str,
    input: AddressChange,
    if_match: Option<u64>,
) -> Result<AddressView, CustomerError> {
    let now = rfc3339(app.clock.now());
    change_book(app, tenant, customer_id, |stored, addresses| {
        let current = addresses
            .iter()
            .find(|a| a.id == id)
            .ok_or_else(not_found)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(CustomerError::Stale);
        }
        let mut address = apply_change(current, &input);
        let mut errors = Errors::new();
        check_address(&mut errors, &address);
        errors.into_result()?;
        address.version = current.version + 1;
        address.updated_at = now.clone();
        let mut profile = stored.clone();
        let c = &mut profile.customer;
        let set = |slot: &mut Option<String>, wanted: Option<bool>| match wanted {
            Some(true) => *slot = Some(id.to_owned()),
            Some(false) if slot.as_deref() == Some(id) => *slot = None,
            _ => {}
        };
        set(&mut c.default_shipping_address_id, input.default_shipping);
        set(&mut c.default_billing_address_id, input.default_billing);
        let answer = AddressView::of(address.clone(), c);
        Ok(BookChange {
            ops: vec![
                store::address_put_op(
                    tenant,
                    customer_id,
                    &address,
                    Condition::VersionIs(current.version),
                ),
                address_event(
                    app,
                    tenant,
                    crate::customers::events::CustomerEvent::AddressUpdated,
                    customer_id,
                    id,
                ),
            ],
            profile,
            answer,
        })
    })
    .await
}

pub async fn delete_address(
    app: &App,
    tenant: &TenantId,
    customer_id: &str,
    id: &str,
    if_match: Option<u64>,
) -> Result<(), CustomerError> {
    change_book(app, tenant, customer_id, |stored, addresses| {
        let current = addresses
            .iter()
            .find(|a| a.id == id)
            .ok_or_else(not_found)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(CustomerError::Stale);
        }
        let mut profile = stored.clone();
        let c = &mut profile.customer;
        for slot in [
            &mut c.default_shipping_address_id,
            &mut c.default_billing_address_id,
        ] {
            if slot.as_deref() == Some(id) {
                *slot = None;
            }
        }
        Ok(BookChange {
            ops: vec![
                store::address_delete_op(tenant, customer_id, id),
                address_event(
                    app,
                    tenant,
                    crate::customers::events::CustomerEvent::AddressDeleted,
                    customer_id,
                    id,
                ),
            ],
            profile,
            answer: (),
        })
    })
    .await
}
