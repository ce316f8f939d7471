//! What staff do with customers: find, view, change, disable, export and erase.

use super::model::{Address, Customer, CustomerGroup, CustomerStatus, Erasure, StoredCustomer};
use super::store::{self, Listing};
use crate::app::App;
use crate::auth::sessions::{self, Session};
use crate::auth::TenantId;
use crate::clock::rfc3339;
use crate::customers::errors::CustomerError;
use crate::events::event;
use crate::http::{cursor, ApiError, FieldError};
use crate::store::{key_projection, StoreError, TxOp};
use crate::validate::{self, Errors};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// Items a filtered listing examines at most per page: name and group filters are applied to
/// what the index returns, so a rare match may take several pages (each answers a cursor).
pub const MAX_SCANNED: usize = 1000;
/// Groups and tags one customer may have.
pub const MAX_GROUPS: usize = 20;
pub const MAX_TAGS: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerFilter {
    /// Emails starting with this (case-insensitive).
    pub email: Option<String>,
    /// First or last name containing this (case-insensitive).
    pub name: Option<String>,
    /// Members of this customer group.
    pub group: Option<String>,
    /// Created at or after this instant (RFC 3339).
    pub created_after: Option<String>,
    /// Created at or before this instant (RFC 3339).
    pub created_before: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn instant(errors: &mut Errors, field: &str, value: &Option<String>) -> Option<String> {
    let value = value.as_deref()?;
    match time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339) {
        Ok(t) => Some(rfc3339(t.to_offset(time::UtcOffset::UTC))),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "invalid",
                "an RFC 3339 instant such as 2026-01-31T00:00:00Z",
            ));
            None
        }
    }
}

/// One page of customers. A listing speaks the API's paging (limits, sealed cursors), so it
/// answers HTTP errors directly.
pub async fn list(
    app: &App,
    tenant: &TenantId,
    filter: CustomerFilter,
) -> Result<(Vec<Customer>, Option<String>), ApiError> {
    let limit = crate::http::ListParams {
        limit: filter.limit,
        cursor: None,
    }
    .limit()? as usize;
    let mut errors = Errors::new();
    let after = instant(&mut errors, "created_after", &filter.created_after);
    let before = instant(&mut errors, "created_before", &filter.created_before);
    let email = filter
        .email
        .as_deref()
        .map(validate::normalize_email)
        .filter(|e| !e.is_empty());
    if email.as_ref().is_some_and(|e| e.len() > 254) {
        errors.push(FieldError::new(
            "email",
            "too_long",
            "use at most 254 characters",
        ));
    }
    let name = filter
        .name
        .as_deref()
        .map(|n| n.trim().to_lowercase())
        .filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        errors.push(FieldError::new(
            "name",
            "too_long",
            "use at most 100 characters",
        ));
    }
    errors.finish()?;
    // Every filter is part of the cursor's query, so a cursor cannot be replayed on another one.
    let fingerprint = format!(
        "customers|{}|{}|{}|{}|{}",
        email.as_deref().unwrap_or(""),
        name.as_deref().unwrap_or(""),
        filter.group.as_deref().unwrap_or(""),
        after.as_deref().unwrap_or(""),
        before.as_deref().unwrap_or("")
    );
    let key = app.config.key(crate::secrets::Secret::Cursor, "cursor")?;
    let mut start = filter
        .cursor
        .as_deref()
        .map(|c| cursor::open(&key, tenant.as_str(), &fingerprint, c))
        .transpose()?;
    let listing = match &email {
        Some(prefix) => Listing::EmailPrefix(prefix.clone()),
        None => Listing::Created {
            after: after.clone(),
            before: before.clone(),
        },
    };
    let post_filtered = name.is_some() || filter.group.is_some() || email.is_some();
    let mut found = Vec::new();
    let mut scanned = 0;
    loop {
        let want = if post_filtered { 100 } else { limit as u32 };
        let (items, last, index) =
            store::list_page(app.table.as_ref(), tenant, &listing, want, start.take()).await?;
        let mut stopped_at = None;
        for item in items {
            scanned += 1;
            let projection = key_projection(&item, index);
            let stored: StoredCustomer = crate::store::from_item(item)?;
            let c = stored.customer;
            let matches = name.as_ref().is_none_or(|n| {
                format!("{} {}", c.first_name, c.last_name)
                    .to_lowercase()
                    .contains(n.as_str())
            }) && filter
                .group
                .as_ref()
                .is_none_or(|g| c.group_ids.contains(g))
                && (email.is_none()
                    || (after.as_ref().is_none_or(|a| &c.created_at >= a)
                        && before.as_ref().is_none_or(|b| &c.created_at <= b)));
            if matches {
                found.push(c);
            }
            if found.len() == limit || scanned >= MAX_SCANNED {
                stopped_at = Some(projection);
                break;
            }
        }
        match (stopped_at, last) {
            // Stopped inside the page: continue right after the last item examined.
            (Some(at), _) => {
                let next = cursor::seal(&key, tenant.as_str(), &fingerprint, &at);
                return Ok((found, Some(next)));
            }
            (None, Some(last)) => start = Some(last),
            (None, None) => return Ok((found, None)),
        }
    }
}

pub async fn load(app: &App, tenant: &TenantId, id: &str) -> Result<StoredCustomer, CustomerError> {
    store::get(app.table.as_ref(), tenant, id)
        .await?
        .ok_or(CustomerError::NotFound("customer"))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettableStatus {
    Active,
    Disabled,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerAdminChange {
    /// `disabled` ends every session and refuses sign-in; `active` allows it again.
    pub status: Option<SettableStatus>,
    /// The customer's groups, replacing the current ones.
    pub group_ids: Option<Vec<String>>,
    /// Whether the customer pays no tax.
    pub tax_exempt: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub note: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub accepts_marketing: Option<bool>,
}

fn erased() -> CustomerError {
    CustomerError::Erased
}

pub async fn change(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
    input: CustomerAdminChange,
    if_match: Option<u64>,
) -> Result<Customer, CustomerError> {
    let stored = load(app, tenant, id).await?;
    if if_match.is_some_and(|v| v != stored.customer.version) {
        return Err(CustomerError::Stale);
    }
    let mut errors = Errors::new();
    for (field, value) in [
        ("first_name", &input.first_name),
        ("last_name", &input.last_name),
    ] {
        if let Some(v) = value {
            if v.chars().count() > 100 || v.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    field,
                    "invalid",
                    "use at most 100 characters",
                ));
            }
        }
    }
    if let Some(note) = &input.note {
        if note.chars().count() > 5000 {
            errors.push(FieldError::new(
                "note",
                "too_long",
                "use at most 5000 characters",
            ));
        }
    }
    if let Some(tags) = &input.tags {
        if tags.len() > MAX_TAGS {
            errors.push(FieldError::new(
                "tags",
                "too_many",
                format!("at most {MAX_TAGS} tags"),
            ));
        }
        for (i, tag) in tags.iter().enumerate() {
            errors.check(validate::text(&format!("tags[{i}]"), tag, 60));
        }
    }
    if let Some(groups) = &input.group_ids {
        if groups.len() > MAX_GROUPS {
            errors.push(FieldError::new(
                "group_ids",
                "too_many",
                format!("at most {MAX_GROUPS} groups"),
            ));
        }
        for (i, g) in groups.iter().enumerate() {
            if !crate::ids::is_id(g, "cgrp") {
                errors.push(FieldError::new(
                    format!("group_ids[{i}]"),
                    "unknown_group",
                    "not a customer group of this company",
                ));
            }
        }
    }
    errors.into_result()?;
    if stored.customer.status == CustomerStatus::Erased {
        return Err(erased());
    }
    let now = rfc3339(app.clock.now());
    let mut changed = stored.clone();
    let c = &mut changed.customer;
    if let Some(status) = input.status {
        let status = match status {
            SettableStatus::Active => CustomerStatus::Active,
            SettableStatus::Disabled => CustomerStatus::Disabled,
        };
        if status == CustomerStatus::Disabled && c.status != CustomerStatus::Disabled {
            changed.sessions_valid_after_ms = app.clock.epoch_millis();
            // Whoever held a session may have asked for it: it dies with the sessions.
            changed.email_change = None;
        }
        c.status = status;
    }
    let mut ops = Vec::new();
    if let Some(mut groups) = input.group_ids {
        groups.sort();
        groups.dedup();
        for g in groups.iter().filter(|g| !c.group_ids.contains(g)) {
            ops.push(store::group_count_op(tenant, g, 1));
        }
        for g in c.group_ids.iter().filter(|g| !groups.contains(g)) {
            ops.push(store::group_count_op(tenant, g, -1));
        }
        c.group_ids = groups;
    }
    if let Some(exempt) = input.tax_exempt {
        c.tax_exempt = exempt;
    }
    if let Some(mut tags) = input.tags {
        tags = tags.into_iter().map(|t| t.trim().to_owned()).collect();
        tags.sort();
        tags.dedup();
        c.tags = tags;
    }
    if let Some(note) = input.note {
        c.note = note;
    }
    if let Some(v) = input.first_name {
        c.first_name = v.trim().to_owned();
    }
    if let Some(v) = input.last_name {
        c.last_name = v.trim().to_owned();
    }
    if let Some(v) = input.accepts_marketing {
        c.accepts_marketing = v;
    }
    c.version += 1;
    c.updated_at = now;
    let group_ops = ops.len();
    let mut all = ops;
    all.insert(
        0,
        store::replace_op(tenant, &changed, stored.customer.version),
    );
    all.push(event(
        app,
        tenant,
        crate::customers::events::CustomerEvent::Updated,
        Some(actor),
        json!({"customer_id": id, "status": changed.customer.status, "by": "staff"}),
    ));
    match app.table.transact(all).await {
        Ok(()) => Ok(changed.customer),
        Err(e) if e.failed_at(0) => Err(CustomerError::Stale),
        Err(e) if (1..=group_ops).any(|i| e.failed_at(i)) => {
            Err(CustomerError::Invalid(vec![FieldError::new(
                "group_ids",
                "unknown_group",
                "a group does not exist in this company",
            )]))
        }
        Err(StoreError::Conflict) => Err(CustomerError::Busy),
        Err(e) => Err(e.into()),
    }
}

/// Everything held about one customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerExport {
    pub exported_at: String,
    pub customer: Customer,
    /// The address of an email change waiting for its confirmation.
    pub pending_email: Option<String>,
    pub addresses: Vec<Address>,
    pub groups: Vec<CustomerGroup>,
    pub sessions: Vec<ExportedSession>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedSession {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Ended: logged out, or cut off by a password change or reset, by "log out everywhere" or
    /// by the account being disabled.
    pub revoked: bool,
}

impl ExportedSession {
    /// The session as exported, ended also when the account's sessions were cut off after it
    /// began (`sessions_valid_after_ms`).
    fn of(s: Session, sessions_valid_after_ms: i64) -> Self {
        ExportedSession {
            revoked: s.revoked || s.created_ms <= sessions_valid_after_ms,
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            ip: s.ip,
            user_agent: s.user_agent,
        }
    }
}

pub async fn export(
    app: &App,
    tenant: &TenantId,
    id: &str,
) -> Result<CustomerExport, CustomerError> {
    let (stored, addresses) = store::with_addresses(app.table.as_ref(), tenant, id)
        .await?
        .ok_or(CustomerError::NotFound("customer"))?;
    let mut groups = Vec::new();
    for g in &stored.customer.group_ids {
        if let Some(group) = store::group_get(app.table.as_ref(), tenant, g).await? {
            groups.push(group);
        }
    }
    let sessions = sessions::list(app.table.as_ref(), tenant, id).await?;
    let valid_after = stored.sessions_valid_after_ms;
    Ok(CustomerExport {
        exported_at: rfc3339(app.clock.now()),
        pending_email: stored.email_change.map(|c| c.email),
        customer: stored.customer,
        addresses,
        groups,
        sessions: sessions
            .into_iter()
            .map(|s| ExportedSession::of(s, valid_after))
            .collect(),
    })
}

/// Erases a customer's personal data: the profile keeps only its id, dates and status, the
/// addresses and the email guard go, every session ends and its record (IP, browser) is deleted.
///
/// The profile, addresses, email guard and group counts change in one transaction, which marks
/// the erasure `pending`; the session records are deleted after it, one by one, as a customer may
/// have more of them than a transaction holds. When that stops halfway (the store fails, the
/// function times out), the profile still says `pending`, and erasing again deletes what is left
/// before marking the erasure `complete`. Erasing a complete erasure again changes nothing.
pub async fn erase(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    id: &str,
) -> Result<(), CustomerError> {
    let (stored, addresses) = store::with_addresses(app.table.as_ref(), tenant, id)
        .await?
        .ok_or(CustomerError::NotFound("customer"))?;
    let erased = match (stored.customer.status, stored.customer.erasure) {
        (CustomerStatus::Erased, Some(Erasure::Complete)) => return Ok(()),
        (CustomerStatus::Erased, _) => stored,
        _ => anonymise(app, tenant, actor, &stored, &addresses).await?,
    };
    finish_erasure(app, tenant, actor, &erased).await
}

/// The transaction that removes the personal data held in the customer's own items; answers the
/// profile as written (erasure `pending`).
async fn anonymise(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    stored: &StoredCustomer,
    addresses: &[Address],
) -> Result<StoredCustomer, CustomerError> {
    let now = rfc3339(app.clock.now());
    let c = &stored.customer;
    let id = &c.id;
    let erased = StoredCustomer {
        customer: Customer {
            id: c.id.clone(),
            email: None,
            first_name: String::new(),
            last_name: String::new(),
            phone: None,
            accepts_marketing: false,
            email_verified: false,
            status: CustomerStatus::Erased,
            group_ids: Vec::new(),
            tax_exempt: false,
            tags: Vec::new(),
            note: String::new(),
            default_shipping_address_id: None,
            default_billing_address_id: None,
            created_at: c.created_at.clone(),
            updated_at: now.clone(),
            erased_at: Some(now),
            erasure: Some(Erasure::Pending),
            version: c.version + 1,
        },
        password_hash: None,
        sessions_valid_after_ms: app.clock.epoch_millis(),
        email_change: None,
    };
    let mut ops: Vec<TxOp> = vec![store::replace_op(tenant, &erased, c.version)];
    if let Some(email) = &c.email {
        ops.push(store::delete_email_op(tenant, email));
    }
    for a in addresses {
        ops.push(store::address_delete_op(tenant, id, &a.id));
    }
    for g in &c.group_ids {
        ops.push(store::group_count_op(tenant, g, -1));
    }
    ops.push(event(
        app,
        tenant,
        crate::customers::events::CustomerEvent::Erased,
        Some(actor),
        json!({"customer_id": id}),
    ));
    match app.table.transact(ops).await {
        Ok(()) => Ok(erased),
        Err(e) if e.failed_at(0) => Err(changed_meanwhile()),
        Err(e) => Err(e.into()),
    }
}

fn changed_meanwhile() -> CustomerError {
    CustomerError::ChangedMeanwhile
}

/// Deletes what the erasure transaction could not hold, then marks the erasure complete.
async fn finish_erasure(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    erased: &StoredCustomer,
) -> Result<(), CustomerError> {
    let id = &erased.customer.id;
    // The sessions are void already (the cut-off moved); their records hold IPs and browsers.
    // A listing reads one page, so list again until nothing is left.
    loop {
        let left = sessions::list(app.table.as_ref(), tenant, id).await?;
        if left.is_empty() {
            break;
        }
        for session in left {
            app.table
                .delete(&sessions::key(tenant, id, &session.id), None)
                .await?;
        }
    }
    let mut complete = erased.clone();
    complete.customer.erasure = Some(Erasure::Complete);
    complete.customer.version += 1;
    complete.customer.updated_at = rfc3339(app.clock.now());
    let ops = vec![
        store::replace_op(tenant, &complete, erased.customer.version),
        event(
            app,
            tenant,
            crate::customers::events::CustomerEvent::ErasureCompleted,
            Some(actor),
            json!({"customer_id": id}),
        ),
    ];
    match app.table.transact(ops).await {
        Ok(()) => Ok(()),
        // A concurrent erasure may have finished first; that is the same outcome.
        Err(e) if e.failed_at(0) => match store::get(app.table.as_ref(), tenant, id).await? {
            Some(now) if now.customer.erasure == Some(Erasure::Complete) => Ok(()),
            _ => Err(changed_meanwhile()),
        },
        Err(e) => Err(e.into()),
    }
}
