//! Validation of common input fields. Each check returns a [`FieldError`] naming the field, so a
//! route can report every invalid field at once.

use crate::http::{ApiError, FieldError};
use std::str::FromStr;
use unicode_normalization::UnicodeNormalization;

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

    /// The fields found invalid, for a service that answers with its own error type.
    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
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

/// The one form an email address is stored, looked up and guarded in: NFKC, lower-cased,
/// trimmed. Compatibility forms (a fullwidth `ｓ`, a ligature) fold into their plain letters, so
/// addresses that look alike name one account. NFKC runs again after lower-casing, which does not
/// keep text in NFKC in every case, so that normalising a normalised address changes nothing.
pub fn normalize_email(email: &str) -> String {
    let lowered = email.nfkc().collect::<String>().to_lowercase();
    lowered.nfkc().collect::<String>().trim().to_owned()
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

/// A staff account's email: an address (see [`email`]) whose local part keeps to one script.
pub fn staff_email(field: &str, value: &str) -> Result<(), FieldError> {
    email(field, value)?;
    single_script_email(field, value)
}

/// An email whose local part is written in one script, for staff accounts: a Latin address with
/// one Cyrillic `а` looks like another person's. Digits and punctuation belong to every script;
/// Han counts as part of Japanese, Korean and Chinese writing (the augmented script sets of
/// Unicode TR 39). Expects a [`normalize_email`] result.
pub fn single_script_email(field: &str, value: &str) -> Result<(), FieldError> {
    let local = value.rsplit_once('@').map_or(value, |(local, _)| local);
    if scripts::single(local) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "mixed_script",
            "the part before the @ mixes letters of several scripts",
        ))
    }
}

mod scripts {
    use std::collections::BTreeSet;
    use unicode_script::{Script, ScriptExtension};

    /// ISO 15924 tags, with the combined writing systems TR 39 adds for Han.
    type Scripts = BTreeSet<[u8; 4]>;

    fn tag(script: Script) -> [u8; 4] {
        script.as_iso15924_tag().to_be_bytes()
    }

    /// The scripts a character may be written in; `None` for characters of every script.
    fn of(c: char) -> Option<Scripts> {
        let extension = ScriptExtension::from(c);
        if extension.is_common() || extension.is_inherited() {
            return None;
        }
        let mut set: Scripts = extension.iter().map(tag).collect();
        let augment = [
            (Script::Han, &[*b"Hanb", *b"Jpan", *b"Kore"][..]),
            (Script::Hiragana, &[*b"Jpan"][..]),
            (Script::Katakana, &[*b"Jpan"][..]),
            (Script::Hangul, &[*b"Kore"][..]),
            (Script::Bopomofo, &[*b"Hanb"][..]),
        ];
        for (script, extra) in augment {
            if extension.contains_script(script) {
                set.extend(extra.iter().copied());
            }
        }
        Some(set)
    }

    /// Whether one script holds every character of `text` (text of digits and punctuation only
    /// is in every script).
    pub fn single(text: &str) -> bool {
        let mut common: Option<Scripts> = None;
        for c in text.chars() {
            let Some(scripts) = of(c) else { continue };
            let next: Scripts = match &common {
                None => scripts,
                Some(so_far) => so_far.intersection(&scripts).copied().collect(),
            };
            if next.is_empty() {
                return false;
            }
            common = Some(next);
        }
        true
    }
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

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`) in a partial change:
/// `#[serde(default, deserialize_with = "validate::double_option")]`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
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

    #[test]
    fn emails_that_look_alike_normalise_alike() {
        let plain = "sam@example.com";
        for lookalike in [
            "sam@example.com",
            "SAM@Example.COM",
            "  sam@example.com\t",
            "\u{ff53}am@example.com",
            "\u{ff33}\u{ff41}\u{ff4d}\u{ff20}\u{ff45}xample\u{ff0e}com",
            "sam@example.com\u{3000}",
        ] {
            assert_eq!(normalize_email(lookalike), plain, "{lookalike:?}");
        }
        // Ligatures and other compatibility forms fold too.
        assert_eq!(normalize_email("\u{fb01}n@example.com"), "fin@example.com");
        // Cyrillic letters stay what they are: a different address, refused for staff below.
        assert_ne!(normalize_email("s\u{430}m@example.com"), plain);
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for raw in [
            "\u{130}stanbul@example.com",
            "\u{ff33}AM@example.com",
            "Stra\u{df}e@example.com",
            "\u{1e9e}@example.com",
            "\u{3a3}\u{391}\u{39c}@example.gr",
            "\u{212b}ngstr\u{f6}m@example.se",
            "a\u{301}@example.com",
        ] {
            let once = normalize_email(raw);
            assert_eq!(normalize_email(&once), once, "{raw:?}");
        }
    }

    #[test]
    fn staff_emails_keep_to_one_script() {
        for ok in [
            "sam@example.com",
            "sam.o-neil+shop_1@example.com",
            "1234@example.com",
            "\u{441}\u{435}\u{440}\u{433}\u{435}\u{439}@example.ru",
            "\u{3b1}\u{3bb}\u{3ad}\u{3be}\u{3b7}\u{3c2}@example.gr",
            // Japanese mixes Han, Hiragana and Katakana; Korean mixes Han and Hangul.
            "\u{5c71}\u{7530}\u{305f}\u{308d}\u{3046}\u{30bf}@example.jp",
            "\u{91d1}\u{bbfc}\u{c218}@example.kr",
            // The domain is not the local part.
            "sam@\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}.example",
        ] {
            assert!(single_script_email("e", ok).is_ok(), "{ok}");
        }
        for mixed in [
            "s\u{430}m@example.com",
            "\u{441}am@example.com",
            "sam\u{3b1}@example.com",
            "\u{305f}\u{bbfc}@example.com",
        ] {
            let e = single_script_email("email", mixed).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code.as_str()),
                ("email", "mixed_script")
            );
        }
    }
}
