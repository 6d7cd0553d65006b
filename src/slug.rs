//! URL slugs: ASCII, lowercase, hyphen-separated, safe as one path segment.

/// Folds diacritics and case: "Sigur Rós" -> `sigur-ros`, "Écailles de Lune" -> `ecailles-de-lune`.
///
/// The result only holds `a-z`, `0-9` and single inner hyphens, so it can never
/// name a parent folder or hold a separator. Text with no letters or digits
/// gives `"n-a"` so that every name has a page.
pub fn slugify(text: &str) -> String {
    let folded = deunicode::deunicode(text);
    let mut out = String::with_capacity(folded.len());
    let mut pending_hyphen = false;
    for ch in folded.chars() {
        if ch.is_ascii_alphanumeric() {
            if pending_hyphen && !out.is_empty() {
                out.push('-');
            }
            pending_hyphen = false;
            out.push(ch.to_ascii_lowercase());
        } else {
            pending_hyphen = true;
        }
    }
    if out.is_empty() {
        out.push_str("n-a");
    }
    out
}

/// Whether `s` is already a valid slug (what [`slugify`] would produce from it).
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds() {
        assert_eq!(slugify("Sigur Rós"), "sigur-ros");
        assert_eq!(slugify("Écailles de Lune"), "ecailles-de-lune");
        assert_eq!(slugify("Trentemøller"), "trentemoller");
        assert_eq!(slugify("MØ"), "mo");
        assert_eq!(slugify("Death – Pierce Me"), "death-pierce-me");
        assert_eq!(
            slugify("Souvenirs d'un Autre Monde"),
            "souvenirs-d-un-autre-monde"
        );
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("%2e%2e%2f"), "2e-2e-2f");
        assert_eq!(slugify("!!!"), "n-a");
        assert_eq!(slugify("Straße"), "strasse");
    }

    #[test]
    fn slug_check() {
        assert!(is_slug("alcest-kodama"));
        assert!(!is_slug("Alcest"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug(".."));
        assert!(!is_slug(""));
    }
}
