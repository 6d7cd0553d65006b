//! Escaping of record text for the markup the generator writes by hand (SVG
//! charts, Atom feeds, sitemaps, the dev server's error overlay): one place, so
//! every writer escapes the same characters the same way.
//!
//! Templates do not use this: tera escapes their output itself.

/// Escapes text for HTML or SVG content and attribute values (`&`, `<`, `>`,
/// `"` and `'`).
pub fn html(s: &str) -> String {
    escape(s, "&#39;", false)
}

/// Escapes text for XML content and attribute values. Characters XML 1.0 cannot
/// hold at all (most C0 controls) become U+FFFD rather than breaking the document.
pub fn xml(s: &str) -> String {
    escape(s, "&apos;", true)
}

/// Escapes the five markup characters, `'` as `apos`; with `xml_chars_only`,
/// replaces the characters XML 1.0 forbids by U+FFFD.
fn escape(s: &str, apos: &str, xml_chars_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    // Copies the runs between the characters that change, not one char at a time.
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let with = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => apos,
            '\t' | '\n' | '\r' => continue,
            c if xml_chars_only && ((c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}') => {
                "\u{FFFD}"
            }
            _ => continue,
        };
        out.push_str(&s[run..i]);
        out.push_str(with);
        run = i + c.len_utf8();
    }
    out.push_str(&s[run..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(html("<a & \"b\">'"), "&lt;a &amp; &quot;b&quot;&gt;&#39;");
    }

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(
            xml("<a href=\"x\">R&B's</a>"),
            "&lt;a href=&quot;x&quot;&gt;R&amp;B&apos;s&lt;/a&gt;"
        );
        assert_eq!(xml("a\u{1}b\tc"), "a\u{FFFD}b\tc");
        assert_eq!(xml("Mørketid"), "Mørketid");
    }
}
