//! Postal code formats of the countries whose codes follow a fixed pattern.
//!
//! A pattern uses `9` for a digit, `A` for a letter, `X` for either; everything else is literal.
//! Countries listed with patterns require a code in one of them; countries in [`NONE`] have no
//! postal codes; elsewhere a code is optional and checked only for plausible characters.

/// Patterns by ISO 3166-1 alpha-2 country.
const PATTERNS: &[(&str, &[&str])] = &[
    ("AT", &["9999"]),
    ("AU", &["9999"]),
    ("BE", &["9999"]),
    ("BR", &["99999-999", "99999999"]),
    ("CA", &["A9A 9A9", "A9A9A9"]),
    ("CH", &["9999"]),
    ("CZ", &["999 99", "99999"]),
    ("DE", &["99999"]),
    ("DK", &["9999"]),
    ("ES", &["99999"]),
    ("FI", &["99999"]),
    ("FR", &["99999"]),
    (
        "GB",
        &[
            "A9 9AA", "A99 9AA", "AA9 9AA", "AA99 9AA", "A9A 9AA", "AA9A 9AA", "A99AA", "A9AA",
            "A999AA", "AA99AA", "AA999AA", "A9A9AA", "AA9A9AA",
        ],
    ),
    ("IE", &["AXX XXXX", "AXXXXXX"]),
    ("IN", &["999999"]),
    ("IT", &["99999"]),
    ("JP", &["999-9999", "9999999"]),
    ("LU", &["9999", "L-9999"]),
    ("NL", &["9999 AA", "9999AA"]),
    ("NO", &["9999"]),
    ("NZ", &["9999"]),
    ("PL", &["99-999"]),
    ("PT", &["9999-999"]),
    ("SE", &["999 99", "99999"]),
    ("SK", &["999 99", "99999"]),
    ("US", &["99999", "99999-9999"]),
];

/// Countries without postal codes.
const NONE: &[&str] = &[
    "AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI", "CK",
    "CM", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "KI", "KM", "KN", "KP",
    "LY", "ML", "MO", "MR", "MW", "NR", "NU", "QA", "RW", "SB", "SC", "SL", "SR", "ST", "SY", "TD",
    "TF", "TG", "TK", "TL", "TO", "TV", "UG", "VU", "YE", "ZW",
];

fn fits(code: &str, pattern: &str) -> bool {
    code.len() == pattern.len()
        && code.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
            b'9' => c.is_ascii_digit(),
            b'A' => c.is_ascii_uppercase(),
            b'X' => c.is_ascii_uppercase() || c.is_ascii_digit(),
            other => c == other,
        })
}

/// What is wrong with a postal code for a country, if anything. Codes are compared in upper
/// case with surrounding space removed (see [`normalize`]).
pub fn problem(country: &str, code: Option<&str>) -> Option<(&'static str, String)> {
    let code = code.map(normalize).filter(|c| !c.is_empty());
    if let Some((_, patterns)) = PATTERNS.iter().find(|(c, _)| *c == country) {
        return match code {
            None => Some((
                "required",
                format!("a postal code is required in {country}"),
            )),
            Some(code) if patterns.iter().any(|p| fits(&code, p)) => None,
            Some(_) => Some((
                "invalid",
                format!(
                    "not a postal code of {country} (expected e.g. {})",
                    patterns[0]
                ),
            )),
        };
    }
    match code {
        Some(_) if NONE.contains(&country) => Some((
            "not_applicable",
            format!("{country} has no postal codes; leave it out"),
        )),
        Some(code)
            if code.len() > 10
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-') =>
        {
            Some((
                "invalid",
                "use at most 10 letters, digits, spaces or hyphens".into(),
            ))
        }
        _ => None,
    }
}

/// The stored form of a postal code: trimmed and in upper case.
pub fn normalize(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_country() {
        assert_eq!(problem("DE", Some("10115")), None);
        assert_eq!(problem("DE", Some("1011")).unwrap().0, "invalid");
        assert_eq!(problem("DE", None).unwrap().0, "required");
        assert_eq!(problem("US", Some("94105-1234")), None);
        assert_eq!(problem("GB", Some("sw1a 1aa")), None);
        assert_eq!(problem("NL", Some("1012 ab")), None);
        assert_eq!(problem("CA", Some("K1A 0B1")), None);
        assert_eq!(problem("HK", Some("999077")).unwrap().0, "not_applicable");
        assert_eq!(problem("HK", None), None);
        assert_eq!(problem("MX", Some("06600")), None);
        assert_eq!(problem("MX", Some("<script>")).unwrap().0, "invalid");
    }
}
