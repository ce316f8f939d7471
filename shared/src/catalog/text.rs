//! Handles and descriptions: slugs from any script, and descriptions made safe to render.

/// A handle from a title: transliterated to ASCII, lower case, words joined by hyphens, at most
/// 80 characters (`Crème brûlée – 500 g` → `creme-brulee-500-g`, `東京` → `dong-jing`).
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut out = String::new();
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if out.len() + word.len() + 1 > 80 {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(word);
    }
    out
}

/// A description as HTML that is safe to put in a page: markdown is rendered first; scripts,
/// event handlers, styles and unsafe URLs are removed.
pub fn render_description(text: &str, format: super::model::DescriptionFormat) -> String {
    let html = match format {
        super::model::DescriptionFormat::Html => text.to_owned(),
        super::model::DescriptionFormat::Markdown => {
            let mut html = String::new();
            pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(text));
            html
        }
    };
    ammonia::clean(&html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::DescriptionFormat;

    #[test]
    fn slugs_from_any_script() {
        assert_eq!(slugify("Crème brûlée – 500 g"), "creme-brulee-500-g");
        assert_eq!(slugify("  T-Shirt (Red!) "), "t-shirt-red");
        assert!(!slugify("東京").is_empty());
        assert_eq!(slugify("!!!"), "");
        assert!(slugify(&"word ".repeat(40)).len() <= 80);
    }

    #[test]
    fn descriptions_are_sanitised() {
        let html = render_description(
            "<p onclick=\"x()\">Hi<script>alert(1)</script><a href=\"javascript:x\">l</a></p>",
            DescriptionFormat::Html,
        );
        assert!(
            !html.contains("script") && !html.contains("onclick") && !html.contains("javascript")
        );
        assert!(html.contains("Hi"));
        let md = render_description(
            "**bold** <img src=x onerror=alert(1)>",
            DescriptionFormat::Markdown,
        );
        assert!(md.contains("<strong>bold</strong>") && !md.contains("onerror"));
    }
}
