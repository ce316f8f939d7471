//! Text chosen by a tenant (a company's name) that goes into mail the platform sends under its
//! own address. Anyone can register a company, so its name is hostile input: it must not break
//! the subject line, hide or reorder text, or turn into a link that seems to come from us.

use unicode_normalization::UnicodeNormalization;

/// Characters of a name kept in mail, before quoting.
pub const MAX_NAME_CHARS: usize = 60;

/// `name` as an inert quoted phrase for a subject or body:
///
/// - compatibility forms fold into plain ones (NFKC), so a fullwidth `．` is a dot below;
/// - control and invisible format characters go (line breaks, bidi overrides and isolates,
///   zero-width characters, Hangul fillers);
/// - every run of whitespace becomes one space;
/// - a dot between two letters or digits is written `[.]` and `://` is written `[:]//`, so no
///   mail client links a domain or URL;
/// - double quotes become single ones, so the name stays inside its quotes;
/// - it is cut to [`MAX_NAME_CHARS`] characters (with `…` when cut) and put in double quotes.
pub fn quoted_name(name: &str) -> String {
    let visible: String = name
        .nfkc()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() || is_invisible(c) {
                None
            } else if c == '"' {
                Some('\'')
            } else {
                Some(c)
            }
        })
        .collect();
    let words: Vec<&str> = visible.split_whitespace().collect();
    let collapsed = words.join(" ");
    let mut kept: String = collapsed.chars().take(MAX_NAME_CHARS).collect();
    if kept.len() < collapsed.len() {
        kept = format!("{}…", kept.trim_end());
    }
    if kept.is_empty() {
        kept = "(unnamed)".to_owned();
    }
    format!("\"{}\"", defanged(&kept))
}

/// Dots that join letters or digits, and `://`, written so that nothing reads as a link.
fn defanged(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let joins = |x: Option<char>| x.is_some_and(char::is_alphanumeric);
        // U+3002 is a label separator in internationalised domain names.
        if (c == '.' || c == '\u{3002}') && joins(before) && joins(after) {
            out.push_str("[.]");
        } else if c == ':' && after == Some('/') && chars.get(i + 2) == Some(&'/') {
            out.push_str("[:]");
        } else {
            out.push(c);
        }
    }
    out
}

/// Format characters (general category Cf, which holds the bidi controls and zero-width
/// characters) and the fillers that render as nothing.
fn is_invisible(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0x3164
            | 0xFEFF
            | 0xFFA0
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_only_quoted() {
        assert_eq!(quoted_name("Acme Goods"), "\"Acme Goods\"");
        assert_eq!(
            quoted_name("Café Müller & Söhne"),
            "\"Café Müller & Söhne\""
        );
        assert_eq!(quoted_name("Acme Inc."), "\"Acme Inc.\"");
        assert_eq!(quoted_name("山田商店"), "\"山田商店\"");
    }

    #[test]
    fn line_breaks_and_controls_cannot_add_headers_or_lines() {
        let q = quoted_name("Acme\r\nBcc: victim@example.com\r\n\r\nbody");
        assert!(!q.contains(['\r', '\n']), "{q}");
        assert_eq!(q, "\"Acme Bcc: victim@example[.]com body\"");
        assert_eq!(quoted_name("A\u{0}c\u{7}m\u{1b}e\u{85}x"), "\"Acme x\"");
        assert_eq!(quoted_name("  A \t\u{2028} B\u{3000} "), "\"A B\"");
    }

    #[test]
    fn bidi_and_invisible_characters_are_removed() {
        // U+202E would show "moc.live" as "evil.com"; the isolates and zero-width characters
        // hide or reorder text too.
        let q = quoted_name(
            "Shop \u{202E}moc.live\u{202C} \u{2066}x\u{2069}\u{200B}\u{200D}\u{FEFF}\u{3164}",
        );
        assert_eq!(q, "\"Shop moc[.]live x\"");
        for c in [
            '\u{202A}', '\u{202D}', '\u{2067}', '\u{2068}', '\u{200E}', '\u{061C}',
        ] {
            assert_eq!(quoted_name(&format!("a{c}b")), "\"ab\"", "{:X}", c as u32);
        }
    }

    #[test]
    fn nothing_reads_as_a_link() {
        assert_eq!(
            quoted_name("Login at https://evil.example/reset"),
            "\"Login at https[:]//evil[.]example/reset\""
        );
        assert_eq!(quoted_name("www.evil.com"), "\"www[.]evil[.]com\"");
        // Fullwidth and ideographic dots are label separators to browsers.
        assert_eq!(quoted_name("evil\u{FF0E}com"), "\"evil[.]com\"");
        assert_eq!(quoted_name("evil\u{3002}com"), "\"evil[.]com\"");
        assert_eq!(quoted_name("evil\u{FF61}com"), "\"evil[.]com\"");
        assert_eq!(quoted_name("пример.рф"), "\"пример[.]рф\"");
        assert_eq!(quoted_name("ｈｔｔｐ：／／x"), "\"http[:]//x\"");
    }

    #[test]
    fn quotes_stay_balanced() {
        assert_eq!(
            quoted_name("Acme\" <ceo@evil.com> \""),
            "\"Acme' <ceo@evil[.]com> '\""
        );
        assert_eq!(quoted_name("＂x＂"), "\"'x'\"");
    }

    #[test]
    fn long_names_are_cut_and_empty_ones_named() {
        let long = "x".repeat(200);
        let q = quoted_name(&long);
        assert_eq!(q.chars().count(), MAX_NAME_CHARS + 3);
        assert!(q.ends_with("x…\""));
        let exact = "y".repeat(MAX_NAME_CHARS);
        assert_eq!(quoted_name(&exact), format!("\"{exact}\""));
        // Characters are counted, not bytes.
        let wide = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(quoted_name(&wide), format!("\"{wide}\""));
        assert_eq!(quoted_name("\u{202E}\u{200B} \r\n"), "\"(unnamed)\"");
    }
}
