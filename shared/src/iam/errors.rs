//! The error codes this module answers (see `http::codes`).

crate::error_codes! {
    /// Role errors.
    pub enum IamCode {
        /// System roles (owner, admin, ...) cannot be changed or deleted.
        SystemRole = "system_role", 409,
        /// Staff users hold this role; give them another role first.
        RoleInUse = "role_in_use", 409,
    }
}
