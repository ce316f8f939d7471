//! EU VAT identification numbers: which countries are in the EU VAT area, and the format of each
//! country's numbers (checked offline; no lookup in VIES).
//!
//! A number is written with its country prefix (`DE123456789`; Greece's is `EL`), spaces, dots
//! and hyphens ignored. Formats, per the European Commission's VIES notes: `#` a digit, `@` a
//! letter, `?` a letter or a digit; anything else literal.

/// EU member states (ISO 3166-1 alpha-2).
pub const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

pub fn in_eu(country: &str) -> bool {
    EU.contains(&country)
}

/// The VAT prefix of an EU country (its ISO code, except Greece's `EL`).
fn prefix(country: &str) -> &str {
    if country == "GR" {
        "EL"
    } else {
        country
    }
}

/// The formats of a country's numbers, after the prefix.
fn formats(country: &str) -> &'static [&'static str] {
    match country {
        "AT" => &["U########"],
        "BE" => &["0#########", "1#########"],
        "BG" => &["#########", "##########"],
        "CY" => &["########@"],
        "CZ" => &["########", "#########", "##########"],
        "DE" => &["#########"],
        "DK" => &["########"],
        "EE" => &["#########"],
        "ES" => &["?#######?"],
        "FI" => &["########"],
        "FR" => &["??#########"],
        "GR" => &["#########"],
        "HR" => &["###########"],
        "HU" => &["########"],
        "IE" => &["#?#####@", "#######@@", "#######@"],
        "IT" => &["###########"],
        "LT" => &["#########", "############"],
        "LU" => &["########"],
        "LV" => &["###########"],
        "MT" => &["########"],
        "NL" => &["#########B##"],
        "PL" => &["##########"],
        "PT" => &["#########"],
        "RO" => &[
            "##",
            "###",
            "####",
            "#####",
            "######",
            "#######",
            "########",
            "#########",
            "##########",
        ],
        "SE" => &["##########01"],
        "SI" => &["########"],
        "SK" => &["##########"],
        _ => &[],
    }
}

fn fits(format: &str, text: &str) -> bool {
    format.len() == text.len()
        && format.bytes().zip(text.bytes()).all(|(f, c)| match f {
            b'#' => c.is_ascii_digit(),
            b'@' => c.is_ascii_uppercase(),
            b'?' => c.is_ascii_digit() || c.is_ascii_uppercase(),
            literal => c == literal,
        })
}

/// A number as compared: upper case, without spaces, dots or hyphens.
pub fn normalize(number: &str) -> String {
    number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The EU country whose format a number has (its prefix decides), if any.
pub fn country_of(number: &str) -> Option<&'static str> {
    let number = normalize(number);
    EU.iter().copied().find(|country| {
        number
            .strip_prefix(prefix(country))
            .is_some_and(|rest| formats(country).iter().any(|f| fits(f, rest)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_against_their_countrys_format() {
        assert_eq!(country_of("DE123456789"), Some("DE"));
        assert_eq!(country_of("de 123 456 789"), Some("DE"));
        assert_eq!(country_of("FRXX123456789"), Some("FR"));
        assert_eq!(country_of("FR12345678901"), Some("FR"));
        assert_eq!(country_of("EL123456789"), Some("GR"));
        assert_eq!(country_of("ATU12345678"), Some("AT"));
        assert_eq!(country_of("NL123456789B01"), Some("NL"));
        assert_eq!(country_of("IE1234567WA"), Some("IE"));
        for bad in [
            "DE12345678",
            "DE1234567890",
            "GR123456789",
            "AT12345678",
            "XX123456789",
            "",
            "GB123456789",
            "NL123456789X01",
        ] {
            assert_eq!(country_of(bad), None, "{bad}");
        }
    }
}
