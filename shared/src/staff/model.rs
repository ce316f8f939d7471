use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Active,
    Disabled,
}

/// A staff user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffUser {
    /// `usr_<ULID>`
    pub id: String,
    pub email: String,
    pub name: String,
    /// At most [`MAX_ROLES`].
    pub role_ids: Vec<String>,
    pub status: StaffStatus,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// A staff user as stored: with the password hash and the instant before which every session is
/// void (set by a password change, a reset or "log out everywhere").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredStaffUser {
    #[serde(flatten)]
    pub user: StaffUser,
    pub password_hash: String,
    /// Epoch milliseconds; sessions created at or before it no longer refresh.
    #[serde(default)]
    pub sessions_valid_after_ms: i64,
}

impl crate::auth::credentials::PasswordAccount for StoredStaffUser {
    fn password_hash(&self) -> Option<&str> {
        Some(&self.password_hash)
    }

    fn may_sign_in(&self) -> bool {
        self.user.status == StaffStatus::Active
    }
}

/// Roles one staff user (or invitation) holds at most.
pub const MAX_ROLES: usize = 20;

/// Checks a list of role ids a request gives a user: 1 to [`MAX_ROLES`] of them (a repeated id
/// counts once).
pub fn check_role_ids(errors: &mut crate::validate::Errors, role_ids: &[String]) {
    let mut distinct: Vec<&String> = role_ids.iter().collect();
    distinct.sort();
    distinct.dedup();
    if distinct.is_empty() {
        errors.push(crate::http::FieldError::new(
            "role_ids",
            "required",
            "give the user at least one role",
        ));
    } else if distinct.len() > MAX_ROLES {
        errors.push(crate::http::FieldError::new(
            "role_ids",
            "too_many",
            format!("at most {MAX_ROLES} roles"),
        ));
    }
}
