//! The error codes this module answers (see `http::codes`).

crate::error_codes! {
    /// Staff errors.
    pub enum StaffCode {
        /// This email already belongs to a staff user of the company.
        AlreadyStaff = "already_staff", 409,
        /// An invitation to this email is pending; revoke it or wait until it expires.
        InvitePending = "invite_pending", 409,
        /// The company must keep at least one active owner.
        LastOwner = "last_owner", 409,
        /// The invitation is invalid, used or expired.
        InvalidInvite = "invalid_invite", 404,
        /// A company has at most 100 pending invitations; revoke unused ones or wait until they expire.
        TooManyInvites = "too_many_invites", 422,
    }
}

/// What the staff rules refuse. The service returns these; the route layer answers each with its
/// code (`From<StaffError> for ApiError`).
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// `role_ids[index]` names no role of the company.
    #[error("no role `{id}` in this company")]
    UnknownRole { index: usize, id: String },
    #[error("you cannot grant or manage permissions you do not hold")]
    Escalation,
    #[error("the company must keep at least one active owner")]
    LastOwner,
    #[error("the user has changed since the version named in If-Match")]
    Stale,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<StaffError> for crate::http::ApiError {
    fn from(error: StaffError) -> Self {
        use crate::http::{ApiError, FieldError};
        let detail = error.to_string();
        match error {
            StaffError::UnknownRole { index, .. } => ApiError::validation(vec![FieldError::new(
                format!("role_ids[{index}]"),
                "unknown_role",
                detail,
            )]),
            StaffError::Escalation => crate::auth::caller::escalation(),
            StaffError::LastOwner => ApiError::new(StaffCode::LastOwner, detail),
            StaffError::Stale => ApiError::precondition_failed(),
            StaffError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ApiError;

    #[test]
    fn each_refusal_answers_its_code_and_status() {
        let unknown = ApiError::from(StaffError::UnknownRole {
            index: 2,
            id: "role_x".into(),
        });
        assert_eq!(
            (unknown.status, unknown.code.name),
            (422, "validation_failed")
        );
        assert_eq!(unknown.errors[0].field, "role_ids[2]");
        assert_eq!(unknown.errors[0].code, "unknown_role");
        let answer = |e: StaffError| {
            let e = ApiError::from(e);
            (e.status, e.code.name)
        };
        assert_eq!(
            answer(StaffError::Escalation),
            (403, "permission_escalation")
        );
        assert_eq!(answer(StaffError::LastOwner), (409, "last_owner"));
        assert_eq!(answer(StaffError::Stale), (412, "precondition_failed"));
    }
}
