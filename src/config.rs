//! `site.toml`: the site's settings, scales and tiers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, suggest};
use crate::iso;
use crate::records::date::PartialDate;
use crate::records::reader::{Fields, parse_document, read_units};
use crate::tiers::{Scale, Tier, Tiers, default_tiers};

/// The parsed `site.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    pub title: String,
    /// Absolute URL the site is published under, always ending in `/`.
    pub base_url: String,
    pub language: String,
    pub description: String,
    /// ISO codes whose shipments count as Europe.
    pub countries: BTreeSet<String>,
    pub tiers: Tiers,
    /// Folder (relative to the root) copied as-is into the output.
    pub static_dir: Option<PathBuf>,
    /// Folder (relative to the root) whose templates override the default theme.
    pub theme: Option<PathBuf>,
    /// Licence of the open data, e.g. "CC BY 4.0".
    pub data_licence: Option<String>,
}

/// The file name of the site configuration.
pub const CONFIG_FILE: &str = "site.toml";

const KNOWN: &[&str] = &[
    "title",
    "base_url",
    "language",
    "description",
    "countries",
    "scales",
    "tiers",
    "static_dir",
    "theme",
    "data_licence",
];
const SCALE_KNOWN: &[&str] = &["id", "from", "levels"];
const TIER_KNOWN: &[&str] = &["id", "name", "level", "multiple"];

/// Normalises a base URL so it ends with exactly one `/`.
pub fn normalise_base_url(url: &str) -> String {
    format!("{}/", url.trim().trim_end_matches('/'))
}

/// Whether `s` is an absolute http(s) URL with a host.
pub fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(r) => {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// Parses `site.toml` text; `file` is the path shown in diagnostics.
pub fn parse(text: &str, file: &Path, diags: &mut Vec<Diagnostic>) -> Option<Config> {
    let doc = parse_document(text, file, diags)?;
    let mut f = Fields::new(doc.get_ref(), 0..0, "site.toml", KNOWN, file, diags);
    let title = f.req_str("title", "\"IMPALA European Sales Awards\"");
    let base_url = f.req_str("base_url", "\"https://example.org/\"");
    let language = f.opt_str("language");
    let description = f.opt_str("description");
    let static_dir = f.opt_str("static_dir");
    let theme = f.opt_str("theme");
    let data_licence = f.opt_str("data_licence");
    let countries = f.opt_str_list("countries");
    let scale_tables = f.opt_tables("scales");
    let tier_tables = f.opt_tables("tiers");
    let has_tiers = f.raw("tiers").is_some();
    let mut ok = f.finish();

    if let Some(u) = &base_url
        && !is_http_url(&u.value)
    {
        ok = false;
        diags.push(
            Diagnostic::error("bad-url", "`base_url` must be an absolute http(s) URL")
                .at(file, u.span.clone())
                .label("not an http(s) URL")
                .help("e.g. `base_url = \"https://example.org/awards/\"`"),
        );
    }

    let mut country_set = BTreeSet::new();
    match &countries {
        Some(list) => {
            for c in &list.value {
                if !iso::is_country(&c.value) {
                    ok = false;
                    diags.push(unknown_country(&c.value, file, c.span.clone(), None));
                } else if !country_set.insert(c.value.clone()) {
                    diags.push(
                        Diagnostic::warning(
                            "duplicate-country",
                            format!("`{}` is listed twice", c.value),
                        )
                        .at(file, c.span.clone())
                        .help("remove one of them"),
                    );
                }
            }
        }
        None => {
            ok = false;
            diags.push(
                Diagnostic::error("missing-field", "site.toml is missing the required field `countries`")
                    .at(file, 0..0)
                    .help("list the ISO 3166-1 alpha-2 codes that count as Europe, e.g. `countries = [\"AT\", \"BE\", \"DE\"]`"),
            );
        }
    }

    let mut scales = Vec::new();
    for (t, span) in &scale_tables {
        if let Some(s) = parse_scale(t, span.clone(), file, diags) {
            if let Some(prev) = scales.iter().find(|p: &&Scale| p.id == s.id) {
                ok = false;
                diags.push(
                    Diagnostic::error(
                        "duplicate-scale",
                        format!("scale `{}` is defined twice", s.id),
                    )
                    .at(file, s.span.clone())
                    .context(prev.span.clone(), "first defined here"),
                );
            }
            scales.push(s);
        } else {
            ok = false;
        }
    }
    if scales.is_empty() && ok {
        ok = false;
        diags.push(
            Diagnostic::error("no-scales", "site.toml defines no `[[scales]]`")
                .at(file, 0..0)
                .help("add a scale: `[[scales]]` with `id`, `from` and `levels = { silver = 20_000, gold = 75_000, diamond = 200_000, platinum = 400_000 }`"),
        );
    }

    let mut tiers = Vec::new();
    let mut tier_spans = Vec::new();
    if has_tiers {
        for (t, span) in &tier_tables {
            let mut f = Fields::new(t, span.clone(), "tier", TIER_KNOWN, file, diags);
            let id = f.req_str("id", "\"silver\"");
            let name = f.req_str("name", "\"Impala Silver\"");
            let level = f.req_str("level", "\"silver\"");
            let multiple = f.opt_units("multiple");
            if !f.finish() {
                ok = false;
                continue;
            }
            if let (Some(id), Some(name), Some(level)) = (id, name, level) {
                tier_spans.push((id.span.clone(), level.span.clone()));
                tiers.push(Tier {
                    id: id.value,
                    name: name.value,
                    level: level.value,
                    multiple: multiple.map_or(1, |m| m.value),
                });
            }
        }
    } else {
        tiers = default_tiers();
    }

    // Every tier's level must exist in every scale, and tiers must rise in units.
    for (i, t) in tiers.iter().enumerate() {
        let (id_span, level_span) = tier_spans.get(i).cloned().unwrap_or((0..0, 0..0));
        for s in &scales {
            if !s.levels.contains_key(&t.level) {
                ok = false;
                let known: Vec<&str> = s.levels.keys().map(String::as_str).collect();
                diags.push(
                    Diagnostic::error(
                        "unknown-level",
                        format!(
                            "tier `{}` uses level `{}`, which scale `{}` does not define",
                            t.id, t.level, s.id
                        ),
                    )
                    .at(
                        file,
                        if has_tiers {
                            level_span.clone()
                        } else {
                            s.span.clone()
                        },
                    )
                    .help_opt(
                        suggest(&t.level, known.iter().copied())
                            .map(|k| format!("did you mean `{k}`?")),
                    )
                    .note(format!(
                        "scale `{}` defines: {}",
                        s.id,
                        known.join(", ")
                    )),
                );
            }
        }
        if let Some(prev) = i.checked_sub(1).and_then(|p| tiers.get(p)) {
            for s in &scales {
                let (Some(a), Some(b)) = (s.levels.get(&prev.level), s.levels.get(&t.level)) else {
                    continue;
                };
                let (a, b) = (
                    a.saturating_mul(prev.multiple),
                    b.saturating_mul(t.multiple),
                );
                if b <= a {
                    ok = false;
                    diags.push(
                        Diagnostic::error(
                            "tier-order",
                            format!(
                                "tier `{}` needs {} units under scale `{}`, not more than `{}` below it ({})",
                                t.id, fmt_units(b), s.id, prev.id, fmt_units(a)
                            ),
                        )
                        .at(file, if has_tiers { id_span.clone() } else { s.span.clone() })
                        .help("list `[[tiers]]` in rank order, lowest units first"),
                    );
                }
            }
        }
    }
    let mut seen = BTreeMap::new();
    for (i, t) in tiers.iter().enumerate() {
        if let Some(_first) = seen.insert(t.id.clone(), i) {
            ok = false;
            let span = tier_spans.get(i).map_or(0..0, |s| s.0.clone());
            diags.push(
                Diagnostic::error(
                    "duplicate-tier",
                    format!("tier `{}` is defined twice", t.id),
                )
                .at(file, span),
            );
        }
    }

    if !ok {
        return None;
    }
    Some(Config {
        title: title?.value,
        base_url: normalise_base_url(&base_url?.value),
        language: language.map_or_else(|| "en".to_string(), |l| l.value),
        description: description.map(|d| d.value).unwrap_or_default(),
        countries: country_set,
        tiers: Tiers::new(scales, tiers),
        static_dir: static_dir.map(|s| PathBuf::from(s.value)),
        theme: theme.map(|s| PathBuf::from(s.value)),
        data_licence: data_licence.map(|s| s.value),
    })
}

fn parse_scale(
    t: &toml::de::DeTable<'_>,
    span: std::ops::Range<usize>,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Scale> {
    let mut f = Fields::new(t, span.clone(), "scale", SCALE_KNOWN, file, diags);
    let id = f.req_str("id", "\"current\"");
    let from = f.req_date("from", "2013-01-01");
    let levels_raw = f.raw("levels");
    let levels_t = f.opt_table("levels");
    if levels_raw.is_none() {
        f.req_str("levels", "{ silver = 20_000, gold = 75_000 }");
    }
    let ok = f.finish();
    let mut levels = BTreeMap::new();
    let mut levels_ok = true;
    if let Some((lt, _)) = levels_t {
        for (k, v) in lt.iter() {
            match read_units(k.get_ref(), v, file, diags) {
                Some(u) => {
                    levels.insert(k.get_ref().to_string(), u.value);
                }
                None => levels_ok = false,
            }
        }
    }
    let from = from?;
    let PartialDate::Day(day) = from.value else {
        diags.push(
            Diagnostic::error("bad-date", "a scale's `from` must be a full date")
                .at(file, from.span.clone())
                .help("e.g. `from = 2013-01-01`"),
        );
        return None;
    };
    if !ok || !levels_ok {
        return None;
    }
    Some(Scale {
        id: id?.value,
        from: day,
        levels,
        span,
    })
}

/// "74,500": units with thousands separators, as the site and messages print them.
pub fn fmt_units(n: u64) -> String {
    let mut s = String::with_capacity(26);
    // Writing into a String cannot fail.
    let _ = write_units(&mut s, n);
    s
}

/// Writes [`fmt_units`] without making a `String`: tables show units on every row.
pub fn write_units(w: &mut impl std::fmt::Write, n: u64) -> std::fmt::Result {
    let mut digits = itoa::Buffer::new();
    let s = digits.format(n);
    let head = match s.len() % 3 {
        0 => 3,
        r => r,
    };
    w.write_str(&s[..head])?;
    let mut at = head;
    while let Some(group) = s.get(at..at + 3) {
        w.write_str(",")?;
        w.write_str(group)?;
        at += 3;
    }
    Ok(())
}

/// An "unknown country code" diagnostic with the best suggestion available.
pub fn unknown_country(
    code: &str,
    file: &Path,
    span: std::ops::Range<usize>,
    allowed: Option<&BTreeSet<String>>,
) -> Diagnostic {
    let upper = code.to_uppercase();
    let mut d = Diagnostic::error(
        "unknown-country",
        format!("`{code}` is not an ISO 3166-1 alpha-2 country code"),
    )
    .at(file, span)
    .label("unknown country code");
    let hint = if upper == "UK" {
        Some("GB".to_string())
    } else if upper != code && iso::is_country(&upper) {
        Some(upper)
    } else {
        iso::code_for_name(code).map(str::to_string)
    };
    if let Some(h) = hint {
        let name = iso::country_name(&h).unwrap_or("");
        d = d.help(format!("did you mean `{h}` ({name})?"));
    } else if let Some(allowed) = allowed
        && let Some(s) = suggest(code, allowed.iter().map(String::as_str))
    {
        d = d.help(format!("did you mean `{s}`?"));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_format() {
        assert_eq!(fmt_units(0), "0");
        assert_eq!(fmt_units(74_500), "74,500");
        assert_eq!(fmt_units(1_000_000), "1,000,000");
        assert_eq!(fmt_units(999), "999");
        assert_eq!(fmt_units(1_000), "1,000");
        assert_eq!(fmt_units(20_000), "20,000");
        assert_eq!(fmt_units(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn urls() {
        assert!(is_http_url("https://example.org/a"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://"));
        assert_eq!(
            normalise_base_url("https://x.org/awards"),
            "https://x.org/awards/"
        );
    }
}
