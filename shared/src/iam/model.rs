use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A role: a named set of permissions given to staff users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Role {
    /// `role_<ULID>`
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Permission names, or `*` for every permission.
    pub permissions: Vec<String>,
    /// System roles (owner, admin, staff, read-only) cannot be changed or deleted.
    pub system: bool,
    /// For system roles: `owner`, `admin`, `staff` or `read_only`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// How many staff users hold the role; a role in use cannot be deleted.
    #[serde(default)]
    pub assigned_users: i64,
    /// How many active (not disabled) staff users hold the role. The owner role never drops to
    /// zero: a company always keeps an active owner.
    #[serde(default)]
    pub active_users: i64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// One entry of the permission catalog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Permission {
    pub name: String,
    pub description: String,
}
