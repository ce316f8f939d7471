//! Validation of the `security` group (its type, the policy sign-in enforces, is `auth::policy::Security`).

use super::*;

impl Validate for Security {
    fn validate(&self, errors: &mut Errors) {
        range(
            errors,
            "password_min_length",
            self.password_min_length,
            8,
            128,
        );
        range(
            errors,
            "access_token_ttl_seconds",
            self.access_token_ttl_seconds,
            60,
            900,
        );
        range(
            errors,
            "refresh_idle_ttl_seconds",
            self.refresh_idle_ttl_seconds,
            3600,
            90 * 24 * 3600,
        );
        range(
            errors,
            "refresh_absolute_ttl_seconds",
            self.refresh_absolute_ttl_seconds,
            3600,
            365 * 24 * 3600,
        );
        if self.refresh_absolute_ttl_seconds < self.refresh_idle_ttl_seconds {
            errors.push(FieldError::new(
                "refresh_absolute_ttl_seconds",
                "too_small",
                "must be at least the idle lifetime",
            ));
        }
        if self.allowed_origins.len() > 20 {
            errors.push(FieldError::new(
                "allowed_origins",
                "too_many",
                "list at most 20 origins",
            ));
        }
        distinct(
            errors,
            "allowed_origins",
            self.allowed_origins.iter().map(String::as_str),
        );
        for (i, o) in self.allowed_origins.iter().enumerate() {
            origin(errors, &format!("allowed_origins[{i}]"), o);
        }
    }
}
