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
