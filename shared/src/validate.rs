//! Validation of common input fields. Each check returns a [`FieldError`] naming the field, so a
//! route can report every invalid field at once.

use crate::http::{ApiError, FieldError};
use std::str::FromStr;

/// Collects field errors and turns them into one 422.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&mut self, result: Result<(), FieldError>) {
        if let Err(e) = result {
            self.0.push(e);
        }
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// The collected errors, if any.
    pub fn into_vec(self) -> Option<Vec<FieldError>> {
        (!self.0.is_empty()).then_some(self.0)
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// Trimmed text of 1 to `max` characters, without control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("use at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "invalid",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Lower-cased, trimmed email address.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn email(field: &str, value: &str) -> Result<(), FieldError> {
    let value = value.trim();
    if value.len() > 254
        || email_address::EmailAddress::from_str(value).is_err()
        || !value.contains('.')
    {
        return Err(FieldError::new(
            field,
            "invalid",
            "must be an email address",
        ));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::new(
            field,
            "invalid",
            "must be an email address",
        ));
    }
    Ok(())
}

/// Handles and slugs: lower-case letters, digits and single hyphens, 3 to 40 characters,
/// starting and ending with a letter or digit.
pub fn handle(field: &str, value: &str) -> Result<(), FieldError> {
    let ok = (3..=40).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "invalid",
            "use 3 to 40 lower-case letters, digits and single hyphens",
        ))
    }
}

/// ISO 3166-1 alpha-2 country code (upper case).
pub fn country(field: &str, value: &str) -> Result<(), FieldError> {
    if value.len() == 2
        && value.bytes().all(|b| b.is_ascii_uppercase())
        && isocountry::CountryCode::for_alpha2(value).is_ok()
    {
        return Ok(());
    }
    Err(FieldError::new(
        field,
        "invalid",
        "must be an ISO 3166-1 alpha-2 country code, e.g. DE",
    ))
}

/// ISO 4217 currency code (upper case).
pub fn currency(field: &str, value: &str) -> Result<(), FieldError> {
    if value.len() == 3 && iso_currency::Currency::from_code(value).is_some() {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "invalid",
            "must be an ISO 4217 currency code, e.g. EUR",
        ))
    }
}

/// IANA time zone name.
pub fn timezone(field: &str, value: &str) -> Result<(), FieldError> {
    if chrono_tz::Tz::from_str(value).is_ok() {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "invalid",
            "must be an IANA time zone, e.g. Europe/Berlin",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        assert!(handle("h", "acme-shop").is_ok());
        for bad in [
            "ab",
            "Acme",
            "-acme",
            "acme-",
            "ac--me",
            "acme shop",
            "acmé",
        ] {
            assert!(handle("h", bad).is_err(), "{bad}");
        }
        assert!(country("c", "DE").is_ok());
        assert!(country("c", "de").is_err());
        assert!(country("c", "XX").is_err());
        assert!(currency("c", "EUR").is_ok());
        assert!(currency("c", "EURO").is_err());
        assert!(timezone("t", "Europe/Berlin").is_ok());
        assert!(timezone("t", "Mars/Base").is_err());
        assert!(email("e", "ana@example.com").is_ok());
        assert!(email("e", "ana@localhost").is_err());
        assert!(email("e", "ana example.com").is_err());
        assert!(text("n", "  ", 10).is_err());
        assert!(text("n", "ok", 10).is_ok());
        assert!(text("n", "a\u{0}b", 10).is_err());
    }
}
