//! Where an order goes, and the patterns shipping zones and tax rates match it with: a country
//! (ISO 3166-1 alpha-2), optionally a region (ISO 3166-2, `US-NY`) and a postcode.
//!
//! A postcode pattern is one of:
//!
//! - exact: `10115` matches that postcode only;
//! - prefix: `101*` matches every postcode that starts with `101`;
//! - range: `10000-14999` matches every postcode between the two, inclusive, compared
//!   character by character (both ends the same length; a postcode of another length never
//!   matches).
//!
//! Postcodes are compared upper-cased and without spaces or hyphens inside them (`SW1A 1AA` is
//! `SW1A1AA`, `12345-6789` is `123456789`), so a range cannot be written for postcodes that
//! contain a hyphen.

use crate::http::FieldError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;

/// Where an order ships (or a business is): what zones and tax rates match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destination {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// ISO 3166-2 (`US-NY`), upper case, when known.
    pub region: Option<String>,
    /// As given; compared normalized (see the module).
    pub postcode: Option<String>,
}

impl Destination {
    pub fn country(country: &str) -> Destination {
        Destination {
            country: country.to_owned(),
            ..Destination::default()
        }
    }

    /// The postcode as patterns compare it.
    pub fn normalized_postcode(&self) -> Option<String> {
        self.postcode
            .as_deref()
            .map(normalize)
            .filter(|p| !p.is_empty())
    }

    /// Whether `region` (`US-NY`, or `NY` for this destination's country) is this destination's.
    pub fn in_region(&self, region: &str) -> bool {
        self.region.as_deref().is_some_and(|mine| {
            let mine = mine.to_ascii_uppercase();
            let theirs = region.to_ascii_uppercase();
            mine == theirs || mine == format!("{}-{theirs}", self.country)
        })
    }
}

/// A postcode as patterns compare it: upper case, without spaces or hyphens.
pub fn normalize(postcode: &str) -> String {
    postcode
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// A postcode pattern (see the module); written and read as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostcodePattern {
    Exact(String),
    Prefix(String),
    Range(String, String),
}

/// How specific a matching pattern is: an exact postcode over a range over a prefix, and a
/// longer prefix over a shorter one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Specificity {
    Prefix(usize),
    Range,
    Exact,
}

const MAX_POSTCODE: usize = 12;

fn postcode_chars(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_POSTCODE
        && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl PostcodePattern {
    /// Reads a pattern; `field` names it in the error.
    pub fn parse(field: &str, text: &str) -> Result<PostcodePattern, FieldError> {
        let invalid = |why: &str| {
            FieldError::new(
                field,
                "invalid_postcode_pattern",
                format!("{why}: a postcode (10115), a prefix (101*) or a range (10000-14999)"),
            )
        };
        let text = text.trim();
        if let Some(prefix) = text.strip_suffix('*') {
            let prefix = normalize(prefix);
            return if postcode_chars(&prefix) {
                Ok(PostcodePattern::Prefix(prefix))
            } else {
                Err(invalid("not a prefix of letters and digits"))
            };
        }
        if let Some((from, to)) = text.split_once('-') {
            let (from, to) = (normalize(from), normalize(to));
            if !postcode_chars(&from) || !postcode_chars(&to) {
                return Err(invalid("a range's ends are letters and digits"));
            }
            if from.len() != to.len() {
                return Err(invalid("a range's ends have the same length"));
            }
            if from > to {
                return Err(invalid("a range starts at its lower end"));
            }
            return Ok(PostcodePattern::Range(from, to));
        }
        let exact = normalize(text);
        if postcode_chars(&exact) {
            Ok(PostcodePattern::Exact(exact))
        } else {
            Err(invalid("not a postcode"))
        }
    }

    /// Whether a normalized postcode matches.
    pub fn matches(&self, postcode: &str) -> bool {
        match self {
            PostcodePattern::Exact(p) => postcode == p,
            PostcodePattern::Prefix(p) => postcode.starts_with(p.as_str()),
            PostcodePattern::Range(from, to) => {
                postcode.len() == from.len()
                    && postcode.cmp(from.as_str()) != Ordering::Less
                    && postcode.cmp(to.as_str()) != Ordering::Greater
            }
        }
    }

    pub fn specificity(&self) -> Specificity {
        match self {
            PostcodePattern::Exact(_) => Specificity::Exact,
            PostcodePattern::Range(..) => Specificity::Range,
            PostcodePattern::Prefix(p) => Specificity::Prefix(p.len()),
        }
    }
}

impl std::fmt::Display for PostcodePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostcodePattern::Exact(p) => write!(f, "{p}"),
            PostcodePattern::Prefix(p) => write!(f, "{p}*"),
            PostcodePattern::Range(from, to) => write!(f, "{from}-{to}"),
        }
    }
}

impl Serialize for PostcodePattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PostcodePattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        PostcodePattern::parse("postcode", &text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// The most specific of `patterns` that matches the destination's postcode.
pub fn best_match(patterns: &[PostcodePattern], destination: &Destination) -> Option<Specificity> {
    let postcode = destination.normalized_postcode()?;
    patterns
        .iter()
        .filter(|p| p.matches(&postcode))
        .map(PostcodePattern::specificity)
        .max()
}

/// Checks an ISO 3166-2 region code of `country` (`US-NY`): the country, a hyphen, and one to
/// three letters or digits. (The subdivision itself is not looked up.)
pub fn check_region(field: &str, country: Option<&str>, region: &str) -> Result<(), FieldError> {
    let invalid = || {
        FieldError::new(
            field,
            "invalid_region",
            "an ISO 3166-2 code of the country, e.g. US-NY",
        )
    };
    let (of, code) = region.split_once('-').ok_or_else(invalid)?;
    crate::validate::country(field, of).map_err(|_| invalid())?;
    if country.is_some_and(|c| c != of) {
        return Err(invalid());
    }
    if (1..=3).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> PostcodePattern {
        PostcodePattern::parse("p", text).unwrap()
    }

    #[test]
    fn patterns_match_exactly_by_prefix_and_by_range() {
        assert!(pattern("10115").matches("10115"));
        assert!(!pattern("10115").matches("10116"));
        assert!(pattern("101*").matches("10115"));
        assert!(!pattern("101*").matches("10215"));
        assert!(pattern("10000-10299").matches("10115"));
        assert!(pattern("10000-10299").matches("10299"));
        assert!(!pattern("10000-10299").matches("10300"));
        assert!(!pattern("10000-10299").matches("100000"), "another length");
        assert!(pattern("sw1a 1aa").matches(&normalize("SW1A 1AA")));
        assert!(pattern("SW1*").matches(&normalize("sw1a 1aa")));
        assert_eq!(
            pattern("12345")
                .specificity()
                .cmp(&pattern("10000-19999").specificity()),
            Ordering::Greater
        );
        assert!(pattern("1011*").specificity() > pattern("101*").specificity());
        assert!(pattern("10000-19999").specificity() > pattern("1011*").specificity());
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "",
            "*",
            "10-1",
            "20000-10000",
            "10 115!",
            "1234567890123",
            "A-B-C",
        ] {
            assert!(PostcodePattern::parse("p", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn regions_are_iso_3166_2_codes_of_their_country() {
        assert!(check_region("r", Some("US"), "US-NY").is_ok());
        assert!(check_region("r", None, "CA-QC").is_ok());
        assert!(check_region("r", Some("US"), "CA-QC").is_err());
        for bad in ["NY", "US-", "US-NEWY", "ZZ-AB", "us-ny"] {
            assert!(check_region("r", None, bad).is_err(), "{bad}");
        }
        let ny = Destination {
            country: "US".into(),
            region: Some("US-NY".into()),
            postcode: Some("10001".into()),
        };
        assert!(ny.in_region("US-NY"));
        assert!(!ny.in_region("US-NJ"));
    }
}
