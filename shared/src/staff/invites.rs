//! Invitations: staff with `staff.manage` invite a colleague by email with roles; the email
//! carries a single-use token valid for seven days, and accepting it creates the user and signs
//! them in.
//!
//! Invitations send mail from the platform's address to any address, so they are limited: one
//! pending invite per address, [`MAX_PENDING`] per company, [`HOURLY_LIMIT`] created per company
//! and hour, and the company's name goes into the mail only through
//! [`crate::mail::untrusted::quoted_name`]. Keys and slots are in `invite_store.rs`.
//!
//! The token is `<tenant>.<invite id>.<secret>`; only the secret's SHA-256 is stored.

use super::invite_store::{self, Guard, StoredInvite};
use super::model::{StaffStatus, StaffUser, StoredStaffUser};
use super::{service, store as staff_store};
use crate::app::App;
use crate::auth::caller::staff;
use crate::auth::errors::AuthCode;
use crate::auth::signin::{new_signed_in_session, Origin, Tokens};
use crate::auth::throttle::Rate;
use crate::auth::{passwords, TenantId};
use crate::clock::rfc3339;
use crate::events::email::EmailRequest;
use crate::events::{outbox_put, DomainEvent};
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, FieldError, HandlerFuture, ListPage, Method,
    Route, RouteDoc,
};
use crate::mail::untrusted::quoted_name;
use crate::secrets::MissingSecret;
use crate::staff::errors::StaffCode;
use crate::store::{StoreError, TxOp};
use crate::validate::{self, Errors};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub const LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// Invites a company may have pending (not accepted, revoked or released after expiring).
pub const MAX_PENDING: i64 = 100;
/// Invites a company may create per clock hour.
pub const HOURLY_LIMIT: i64 = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Invite {
    /// `inv_<ULID>`
    pub id: String,
    pub email: String,
    pub role_ids: Vec<String>,
    pub invited_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub version: u64,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    pub email: String,
    pub role_ids: Vec<String>,
}

fn invite_pending() -> ApiError {
    ApiError::new(
        StaffCode::InvitePending,
        "an invitation to this address is pending; revoke it or wait until it expires",
    )
}

fn too_many_invites() -> ApiError {
    ApiError::new(
        StaffCode::TooManyInvites,
        format!(
            "a company has at most {MAX_PENDING} pending invitations; revoke unused ones or wait until they expire"
        ),
    )
}

fn invitation_email(company_name: &str, email: &str, link: &str, token: &str) -> EmailRequest {
    let company = quoted_name(company_name);
    EmailRequest {
        to: vec![email.to_owned()],
        subject: format!("Invitation to join {company} on Commerce"),
        text: format!(
            "You have been invited to join {company} as staff.\n\nAccept the invitation within 7 days:\n{link}\n\nYour invitation token (for POST /admin/auth/accept-invite):\n{token}\n\nIf you did not expect this, ignore this email.\n"
        ),
        html: None,
        from: None,
        reply_to: None,
    }
}

fn create(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, actor, _) = staff(&ctx)?;
        let input: NewInvite = ctx.req.json()?;
        let email = validate::normalize_email(&input.email);
        let mut errors = Errors::new();
        errors.check(validate::staff_email("email", &email));
        crate::staff::model::check_role_ids(&mut errors, &input.role_ids);
        errors.finish()?;
        let table = ctx.app.table.as_ref();
        let roles = crate::iam::store::get_many(table, tenant, &input.role_ids).await?;
        let mut errors = Errors::new();
        for (i, id) in input.role_ids.iter().enumerate() {
            if !roles.iter().any(|r| &r.id == id) {
                errors.push(FieldError::new(
                    format!("role_ids[{i}]"),
                    "unknown_role",
                    format!("no role `{id}` in this company"),
                ));
            }
        }
        errors.finish()?;
        let caller = crate::auth::caller::caller_permissions(&ctx);
        if !roles
            .iter()
            .all(|r| crate::iam::permissions::covers(caller, &r.permissions))
        {
            return Err(crate::auth::caller::escalation());
        }
        if staff_store::by_email(table, tenant, &email)
            .await?
            .is_some()
        {
            return Err(ApiError::new(
                StaffCode::AlreadyStaff,
                "this email already belongs to a staff user",
            ));
        }
        let company = crate::companies::store::get(table, tenant)
            .await?
            .ok_or_else(|| ApiError::not_found("company"))?;
        let now = ctx.app.clock.now();
        let expires = now + time::Duration::seconds(LIFETIME_SECS);
        let mut role_ids = input.role_ids;
        role_ids.sort();
        role_ids.dedup();
        let invite = Invite {
            id: ctx.app.ids.new_id("inv"),
            email: email.clone(),
            role_ids,
            invited_by: actor.to_owned(),
            created_at: rfc3339(now),
            expires_at: rfc3339(expires),
            version: 1,
        };
        let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let token = format!("{tenant}.{}.{secret}", invite.id);
        let stored = StoredInvite {
            invite: invite.clone(),
            token_hash: hash(&secret),
            expires_epoch: expires.unix_timestamp(),
            holds_slot: true,
        };
        let link = format!(
            "{}/admin/accept-invite?token={token}",
            ctx.app.config.public_url
        );
        let mail = invitation_email(&company.name, &email, &link, &token);
        store_invite(&ctx.app, tenant, actor, &stored, &mail).await?;
        Ok(ApiResponse::created(
            &format!("/admin/staff/invites/{}", invite.id),
            &invite,
        ))
    })
}

/// Stores the invite with its slot, its email and its event. The address's guard is read again
/// after every lost race, so the answer follows whoever won it; at the cap, invites that expired
/// are released once and the slot tried again.
async fn store_invite(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    stored: &StoredInvite,
    mail: &EmailRequest,
) -> Result<(), ApiError> {
    let table = app.table.as_ref();
    let now = app.clock.epoch_seconds();
    let rate = Rate::per_tenant(tenant, "invite", HOURLY_LIMIT, 3600, now);
    let mut swept = false;
    for attempt in 0..crate::store::ATTEMPTS {
        let guard = invite_store::guard(table, tenant, &stored.invite.email).await?;
        let expired = match guard {
            Some(g) if g.expires_epoch > now => return Err(invite_pending()),
            other => other,
        };
        let mut ops = invite_store::create_ops(tenant, stored, expired.as_ref(), MAX_PENDING);
        let rate_op = ops.len();
        ops.push(rate.count_op());
        ops.extend(invite_events(
            app,
            tenant,
            actor,
            stored,
            mail,
            expired.as_ref(),
        )?);
        match table.transact(ops).await {
            Ok(()) => return Ok(()),
            Err(e) if e.failed_at(rate_op) => return Err(rate.refused(now)),
            Err(e) if expired.is_none() && e.failed_at(invite_store::COUNT_OP) => {
                if e.failed_at(invite_store::GUARD_OP) {
                    return Err(invite_pending());
                }
                if swept {
                    return Err(too_many_invites());
                }
                release_expired(app, tenant).await?;
                swept = true;
            }
            Err(e) if e.failed_at(invite_store::GUARD_OP) => {}
            Err(StoreError::Conflict) => crate::store::back_off(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        HttpCode::ConcurrentUpdate,
        "other invitations were created at the same time; retry",
    ))
}

fn invite_events(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    stored: &StoredInvite,
    mail: &EmailRequest,
    replaced: Option<&Guard>,
) -> Result<[TxOp; 2], MissingSecret> {
    let invite = &stored.invite;
    let now = app.clock.epoch_seconds();
    let mail = DomainEvent::email(app, tenant, Some(actor.to_owned()), mail)?;
    let audit = DomainEvent::new(
        app,
        tenant,
        crate::staff::events::StaffEvent::Invited,
        Some(actor.to_owned()),
        json!({
            "invite_id": invite.id,
            "email": invite.email,
            "role_ids": invite.role_ids,
            "replaced_invite_id": replaced.map(|g| &g.invite_id),
        }),
    );
    Ok([outbox_put(&mail, now), outbox_put(&audit, now)])
}

/// Gives back the slots of invites that expired, each with a `staff.invite_expired` event. One
/// released meanwhile by another request is skipped.
async fn release_expired(app: &App, tenant: &TenantId) -> Result<(), ApiError> {
    let table = app.table.as_ref();
    let now = app.clock.epoch_seconds();
    for stored in invite_store::list(table, tenant).await? {
        if !stored.holds_slot || stored.expires_epoch > now {
            continue;
        }
        let event = DomainEvent::new(
            app,
            tenant,
            crate::staff::events::StaffEvent::InviteExpired,
            None,
            json!({"invite_id": stored.invite.id}),
        );
        let mut ops = vec![invite_store::delete_op(tenant, &stored)];
        ops.extend(invite_store::release_ops(tenant, &stored));
        ops.push(outbox_put(&event, now));
        match table.transact(ops).await {
            Ok(()) | Err(StoreError::TransactionCancelled { .. } | StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub static CREATE_INVITE: Route = Route {
    name: "create_invite",
    method: Method::Post,
    path: "/admin/staff/invites",
    access: Access::Staff("staff.manage"),
    summary: "Invite a colleague by email",
    tag: "staff",
    aws: AwsAccess::WRITE_EMAIL,
    handler: create,
    doc: || {
        RouteDoc::new()
            .description(
                "Emails a single-use token valid for 7 days. An address has at most one pending \
                 invitation (409 `invite_pending`: revoke it or wait until it expires), a company \
                 at most 100 (422 `too_many_invites`), and a company creates at most 20 per hour \
                 (429 with `Retry-After`).",
            )
            .request::<NewInvite>()
            .response::<Invite>(201, "The invitation")
            .error(StaffCode::AlreadyStaff)
            .error(StaffCode::InvitePending)
            .error(StaffCode::TooManyInvites)
            .error(AuthCode::PermissionEscalation)
            .error(HttpCode::TooManyRequests)
    },
};

fn list(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let now = ctx.app.clock.epoch_seconds();
        let data: Vec<Invite> = invite_store::list(ctx.app.table.as_ref(), tenant)
            .await?
            .into_iter()
            .filter(|i| i.expires_epoch > now)
            .map(|i| i.invite)
            .collect();
        Ok(ApiResponse::json(
            200,
            &ListPage {
                data,
                next_cursor: None,
            },
        ))
    })
}

pub static LIST_INVITES: Route = Route {
    name: "list_invites",
    method: Method::Get,
    path: "/admin/staff/invites",
    access: Access::Staff("staff.read"),
    summary: "Pending invitations",
    tag: "staff",
    aws: AwsAccess::READ,
    handler: list,
    doc: || RouteDoc::new().page::<Invite>("Invitations not yet accepted or expired"),
};

fn delete(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, actor, _) = staff(&ctx)?;
        let id = ctx.param("id").to_owned();
        let stored = invite_store::get(ctx.app.table.as_ref(), tenant, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("invite"))?;
        // Revoking withholds the invitation's roles: nobody does that with roles holding more
        // than they do (a manager cannot cancel the owner's invitation of another owner).
        let roles =
            crate::iam::store::get_many(ctx.app.table.as_ref(), tenant, &stored.invite.role_ids)
                .await?;
        let caller = crate::auth::caller::caller_permissions(&ctx);
        if !roles
            .iter()
            .all(|r| crate::iam::permissions::covers(caller, &r.permissions))
        {
            return Err(crate::auth::caller::escalation());
        }
        let event = DomainEvent::new(
            &ctx.app,
            tenant,
            crate::staff::events::StaffEvent::InviteRevoked,
            Some(actor.to_owned()),
            json!({"invite_id": id}),
        );
        let mut ops = vec![invite_store::delete_op(tenant, &stored)];
        ops.extend(invite_store::release_ops(tenant, &stored));
        ops.push(outbox_put(&event, ctx.app.clock.epoch_seconds()));
        ctx.app.table.transact(ops).await.map_err(|e| {
            if e.failed_at(0) {
                ApiError::not_found("invite")
            } else {
                e.into()
            }
        })?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_INVITE: Route = Route {
    name: "delete_invite",
    method: Method::Delete,
    path: "/admin/staff/invites/{id}",
    access: Access::Staff("staff.manage"),
    summary: "Revoke an invitation",
    tag: "staff",
    aws: AwsAccess::WRITE,
    handler: delete,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "The invitation no longer works")
            .error(HttpCode::NotFound)
            .error(crate::auth::errors::AuthCode::PermissionEscalation)
    },
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvite {
    pub token: String,
    pub name: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Joined {
    pub user: StaffUser,
    #[serde(flatten)]
    pub tokens: Tokens,
}

fn invalid_invite() -> ApiError {
    ApiError::new(
        StaffCode::InvalidInvite,
        "the invitation is invalid, used or expired",
    )
}

fn accept(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let input: AcceptInvite = ctx.req.json()?;
        let signing = crate::auth::signin::signing_key(&ctx.app)?;
        let parts: Vec<&str> = input.token.split('.').collect();
        let [tenant, invite_id, secret] = parts.as_slice() else {
            return Err(invalid_invite());
        };
        if !crate::ids::is_id(tenant, "co") || !crate::ids::is_id(invite_id, "inv") {
            return Err(invalid_invite());
        }
        let tenant = TenantId::trusted(*tenant);
        let stored = invite_store::get(ctx.app.table.as_ref(), &tenant, invite_id)
            .await?
            .ok_or_else(invalid_invite)?;
        let given = hash(secret);
        let matches: bool = given.len() == stored.token_hash.len()
            && given
                .bytes()
                .zip(stored.token_hash.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !matches || stored.expires_epoch <= ctx.app.clock.epoch_seconds() {
            return Err(invalid_invite());
        }
        let invite = stored.invite.clone();
        let policy = crate::settings::service::security(&ctx.app, &tenant).await?;
        let mut errors = Errors::new();
        errors.check(validate::text("name", &input.name, 100));
        errors.check(passwords::check_policy(
            &input.password,
            policy.password_min_length as usize,
            "password",
            &[&invite.email, &input.name],
        ));
        errors.finish()?;
        // A role deleted since the invitation was sent is not given; one left is enough.
        let table = ctx.app.table.as_ref();
        let existing = crate::iam::store::get_many(table, &tenant, &invite.role_ids).await?;
        let role_ids: Vec<String> = invite
            .role_ids
            .iter()
            .filter(|id| existing.iter().any(|r| &r.id == *id))
            .cloned()
            .collect();
        if role_ids.is_empty() {
            return Err(ApiError::new(
                HttpCode::Conflict,
                "every role this invitation gives was deleted since it was sent; ask for a new \
                 invitation",
            ));
        }
        let now = rfc3339(ctx.app.clock.now());
        let user = StoredStaffUser {
            user: StaffUser {
                id: ctx.app.ids.new_id("usr"),
                email: invite.email.clone(),
                name: input.name.trim().to_owned(),
                role_ids,
                status: StaffStatus::Active,
                created_at: now.clone(),
                updated_at: now,
                version: 1,
            },
            password_hash: passwords::hash(&input.password),
            sessions_valid_after_ms: 0,
        };
        let counts = service::role_count_ops(table, &tenant, None, Some(&user)).await?;
        let (session, session_op) = new_signed_in_session(
            &ctx.app,
            &tenant,
            &user.user.id,
            &Origin {
                ip: ctx.req.source_ip.clone(),
                user_agent: ctx.req.header("user-agent").map(str::to_owned),
            },
            &policy,
        );
        let event = DomainEvent::new(
            &ctx.app,
            &tenant,
            crate::staff::events::StaffEvent::Joined,
            Some(user.user.id.clone()),
            json!({"user_id": user.user.id, "invite_id": invite.id}),
        );
        let mut ops = vec![invite_store::delete_op(&tenant, &stored)];
        ops.extend(staff_store::create_ops(&tenant, &user));
        ops.extend(counts);
        ops.push(session_op);
        ops.push(outbox_put(&event, ctx.app.clock.epoch_seconds()));
        ops.extend(invite_store::release_ops(&tenant, &stored));
        match table.transact(ops).await {
            Ok(()) => {}
            Err(e) if e.failed_at(0) => return Err(invalid_invite()),
            Err(e) if e.failed_at(1 + staff_store::EMAIL_OP) => {
                return Err(ApiError::new(
                    StaffCode::AlreadyStaff,
                    "this email already belongs to a staff user",
                ))
            }
            Err(e) => return Err(e.into()),
        }
        let roles = crate::iam::store::get_many(table, &tenant, &user.user.role_ids).await?;
        let tokens = crate::auth::signin::tokens_for(
            &ctx.app,
            &signing,
            &tenant,
            &session,
            crate::iam::permissions::granted(&roles, &user.user.role_ids),
            &policy,
        );
        Ok(ApiResponse::created(
            &format!("/admin/staff/{}", user.user.id),
            &Joined {
                user: user.user,
                tokens,
            },
        ))
    })
}

pub static ACCEPT_INVITE: Route = Route {
    name: "accept_invite",
    method: Method::Post,
    path: "/admin/auth/accept-invite",
    access: Access::Public,
    summary: "Accept an invitation: create the account and sign in",
    tag: "auth",
    aws: AwsAccess::WRITE_SIGNING,
    handler: accept,
    doc: || {
        RouteDoc::new()
            .request::<AcceptInvite>()
            .response::<Joined>(201, "The new staff user and their tokens")
            .error(HttpCode::NotFound)
            .error(StaffCode::AlreadyStaff)
            .error(StaffCode::InvalidInvite)
            .error(HttpCode::Conflict)
    },
};
