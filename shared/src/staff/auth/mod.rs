//! Staff sign-in: company sign-up, log-in, refresh with rotation and reuse detection, log-out,
//! who am I, password reset and change, and the caller's sessions. Every change writes its domain
//! event in the same transaction. The session and token machinery is shared with customers
//! (`auth::signin`).

use super::auth_events::AuthEvent;
use crate::app::App;
use crate::auth::credentials::{self, SignInCheck};
use crate::auth::errors::AuthCode;
use crate::auth::passwords;
use crate::auth::policy::Security;
use crate::auth::sessions::{self, RefreshToken, Session};
use crate::auth::signin::{
    advance_session, invalid_refresh, issue_for, new_session, now_ms, session_for_refresh,
    signing_key, Origin, RefreshSubject, Tokens,
};
use crate::auth::throttle::{self, Subject};
use crate::clock::rfc3339;
use crate::companies::errors::CompanyCode;
use crate::companies::model::{validate_company, NewCompany};
use crate::companies::{self, model::Company};
use crate::events::{event, outbox_put, DomainEvent};
use crate::http::HttpCode;
use crate::http::{ApiError, FieldError};
use crate::iam::permissions::granted;
use crate::iam::{self, model::Role, permissions};
use crate::identity::TenantId;
use crate::settings;
use crate::staff::model::{StaffStatus, StaffUser, StoredStaffUser};
use crate::staff::{self};
use crate::store::{StoreError, TxOp};
use crate::tokens::Audience;
use crate::validate::{self, Errors};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

fn issue(
    app: &App,
    key: &[u8; 32],
    tenant: &TenantId,
    session: &Session,
    generation: u64,
    granted: Vec<String>,
    policy: &Security,
) -> Tokens {
    issue_for(
        app,
        Audience::Admin,
        key,
        tenant,
        session,
        generation,
        granted,
        policy,
    )
}

mod signup;
pub use signup::*;
mod login;
pub use login::*;
mod me;
pub use me::*;
mod password_reset;
pub use password_reset::*;
