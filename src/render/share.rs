//! What a page needs to be cited and shared: the suggested citation, Open Graph
//! values and schema.org JSON-LD for release, label and artist pages.

use serde::Serialize;
use serde_json::{Value, json};

use super::views::{artist_path, label_path, release_path};
use crate::index::{Artist, AwardRef, Index, LabelEntry};
use crate::records::Format;
use crate::slug::slugify;

/// A suggested citation. The page's URL and "(accessed [date])" follow `text`.
#[derive(Debug, Clone, Serialize)]
pub struct Citation {
    /// Everything before the URL, ending with a full stop.
    pub text: String,
    /// The whole citation as plain text, access date left to the reader.
    pub full: String,
}

/// Sharing and citation values of one page (the template's `share`).
#[derive(Debug, Clone, Serialize)]
pub struct Share {
    pub title: String,
    pub description: String,
    /// Open Graph type: "music.album", "music.song" or "website".
    pub og_type: &'static str,
    /// Absolute, permanent URL of the page.
    pub url: String,
    /// schema.org JSON-LD, already safe to place inside a `<script>` element.
    pub json_ld: String,
    pub cite: Citation,
}

/// Serialises JSON for a `<script type="application/ld+json">` element: `<`, `>`
/// and `&` become `\u003c` etc. so no record text can close the element or open
/// a comment; U+2028/2029 are escaped for old JavaScript parsers.
pub fn script_json(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string());
    // Most records hold none of these: keep the text as it is.
    if memchr::memchr3(b'<', b'>', b'&', text.as_bytes()).is_none()
        && memchr::memmem::find(text.as_bytes(), "\u{2028}".as_bytes()).is_none()
        && memchr::memmem::find(text.as_bytes(), "\u{2029}".as_bytes()).is_none()
    {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn citation(site_title: &str, what: &str, url: &str) -> Citation {
    let text = format!("{site_title}. {what}.");
    Citation {
        full: format!("{text} {url} (accessed [date])."),
        text,
    }
}

fn tier_name<'i>(index: &'i Index<'_>, a: &AwardRef) -> &'i str {
    let id = &index.releases[a.release].awards[a.award].tier.value;
    index
        .config
        .tiers
        .tier(id)
        .map_or(id.as_str(), |(_, t)| t.name.as_str())
}

/// "Impala Silver (14 March 2019)".
fn award_text(index: &Index<'_>, a: &AwardRef) -> String {
    format!("{} ({})", tier_name(index, a), index.date(a).human())
}

/// "Impala Gold for “Title” by Credit (10 February 2017)".
fn award_text_with_release(index: &Index<'_>, a: &AwardRef) -> String {
    let r = index.releases[a.release];
    format!(
        "{} for \u{201c}{}\u{201d} by {} ({})",
        tier_name(index, a),
        r.title.value,
        r.display_credit(),
        index.date(a).human()
    )
}

/// "3 awards, 2015–2021", "1 award, 2019", "no awards yet".
fn awards_span(index: &Index<'_>, awards: &[AwardRef]) -> String {
    let years = awards.iter().map(|a| index.date(a).year());
    match (years.clone().min(), years.max()) {
        (Some(lo), Some(hi)) => {
            let n = awards.len();
            let noun = if n == 1 { "award" } else { "awards" };
            if lo == hi {
                format!("{n} {noun}, {lo}")
            } else {
                format!("{n} {noun}, {lo}\u{2013}{hi}")
            }
        }
        _ => "no awards yet".to_string(),
    }
}

/// Citation, meta and JSON-LD of release `ri`.
pub fn release(index: &Index<'_>, ri: usize, base_url: &str) -> Share {
    let r = index.releases[ri];
    let url = format!("{base_url}{}", release_path(&r.slug));
    let label = index.label(&r.label.value);
    let label_name = label.map_or(r.label.value.as_str(), |l| l.name.value.as_str());
    let credit = r.display_credit();
    let tiers = &index.config.tiers;
    let refs: Vec<AwardRef> = r
        .awards
        .iter()
        .enumerate()
        .map(|(ai, a)| AwardRef {
            release: ri,
            award: ai,
            tier: tiers.tier(&a.tier.value).map_or(0, |(rank, _)| rank),
        })
        .collect();
    // The highest award; on equal rank the later one.
    let top = refs.iter().max_by_key(|a| (a.tier, a.award));
    let mut what = format!("\"{}\" by {credit} ({label_name})", r.title.value);
    if let Some(a) = top {
        what.push_str(&format!(
            ": {}, {}",
            tier_name(index, a),
            index.date(a).year()
        ));
    }
    let is_single = r.format.value == Format::Single;
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": [if is_single { "MusicRecording" } else { "MusicAlbum" }, "MusicRelease"],
        "@id": url,
        "url": url,
        "name": r.title.value,
        "byArtist": r.artists.value.iter().map(|a| json!({
            "@type": "MusicGroup",
            "name": a.value,
            "url": format!("{base_url}{}", artist_path(&slugify(&a.value))),
        })).collect::<Vec<_>>(),
        "recordLabel": {
            "@type": "Organization",
            "name": label_name,
            "url": format!("{base_url}{}", label_path(&r.label.value)),
        },
        "award": refs.iter().map(|a| award_text(index, a)).collect::<Vec<_>>(),
    });
    if let Some(obj) = ld.as_object_mut() {
        if let Some(d) = &r.released {
            obj.insert("datePublished".into(), Value::from(d.value.to_string()));
        }
        if let Some(c) = &r.catalogue {
            obj.insert("catalogNumber".into(), Value::from(c.value.clone()));
        }
        if r.credit.is_some() {
            obj.insert(
                "creditedTo".into(),
                json!({"@type": "MusicGroup", "name": credit}),
            );
        }
        let release_type = match r.format.value {
            Format::Ep => Some("EPRelease"),
            Format::Album | Format::Compilation => Some("AlbumRelease"),
            Format::Single | Format::Download => None,
        };
        if let Some(t) = release_type {
            obj.insert(
                "albumReleaseType".into(),
                Value::from(format!("https://schema.org/{t}")),
            );
        }
        if r.format.value == Format::Compilation {
            obj.insert(
                "albumProductionType".into(),
                Value::from("https://schema.org/CompilationAlbum"),
            );
        }
    }
    let cite = citation(&index.config.title, &what, &url);
    Share {
        title: format!("{} by {credit}", r.title.value),
        description: format!(
            "{} by {credit} ({label_name}): IMPALA award history.",
            r.title.value
        ),
        og_type: if is_single {
            "music.song"
        } else {
            "music.album"
        },
        json_ld: script_json(&ld),
        url,
        cite,
    }
}

/// Citation, meta and JSON-LD of the label `slug`.
pub fn label(index: &Index<'_>, slug: &str, entry: &LabelEntry, base_url: &str) -> Share {
    let l = index.labels[entry.label];
    let url = format!("{base_url}{}", label_path(slug));
    let country = crate::iso::country_name(&l.country.value).unwrap_or(&l.country.value);
    let awards = &entry.awards_with_imprints;
    let span = awards_span(index, awards);
    let org = |s: &str| {
        json!({
            "@type": "Organization",
            "name": index.label(s).map_or(s, |x| x.name.value.as_str()),
            "url": format!("{base_url}{}", label_path(s)),
        })
    };
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": url,
        "url": url,
        "name": l.name.value,
        "address": {"@type": "PostalAddress", "addressCountry": l.country.value},
        "award": awards.iter().map(|a| award_text_with_release(index, a)).collect::<Vec<_>>(),
    });
    if let Some(obj) = ld.as_object_mut() {
        if !l.aliases.is_empty() {
            obj.insert(
                "alternateName".into(),
                l.aliases
                    .iter()
                    .map(|a| Value::from(a.value.clone()))
                    .collect(),
            );
        }
        if let Some(w) = &l.website {
            obj.insert("sameAs".into(), Value::from(w.value.clone()));
        }
        if let Some(p) = &l.parent {
            obj.insert("parentOrganization".into(), org(&p.value));
        }
        if !entry.imprints.is_empty() {
            obj.insert(
                "subOrganization".into(),
                entry
                    .imprints
                    .iter()
                    .map(|&i| org(&index.labels[i].slug))
                    .collect(),
            );
        }
    }
    let what = format!("\"{}\" (label, {country}): {span}", l.name.value);
    Share {
        title: l.name.value.clone(),
        description: format!(
            "{}, independent label ({country}): {span} in the {}.",
            l.name.value, index.config.title
        ),
        og_type: "website",
        json_ld: script_json(&ld),
        cite: citation(&index.config.title, &what, &url),
        url,
    }
}

/// Citation, meta and JSON-LD of an artist.
pub fn artist(index: &Index<'_>, a: &Artist, base_url: &str) -> Share {
    let url = format!("{base_url}{}", artist_path(&a.slug));
    let span = awards_span(index, &a.awards);
    let release = |ri: &usize| {
        let r = index.releases[*ri];
        let single = r.format.value == Format::Single;
        json!({
            "@type": if single { "MusicRecording" } else { "MusicAlbum" },
            "name": r.title.value,
            "url": format!("{base_url}{}", release_path(&r.slug)),
        })
    };
    let (singles, albums): (Vec<&usize>, Vec<&usize>) = a
        .releases
        .iter()
        .partition(|&&ri| index.releases[ri].format.value == Format::Single);
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "MusicGroup",
        "@id": url,
        "url": url,
        "name": a.name,
        "award": a.awards.iter().map(|x| award_text_with_release(index, x)).collect::<Vec<_>>(),
    });
    if let Some(obj) = ld.as_object_mut() {
        if !albums.is_empty() {
            obj.insert(
                "album".into(),
                albums.into_iter().map(release).collect::<Vec<_>>().into(),
            );
        }
        if !singles.is_empty() {
            obj.insert(
                "track".into(),
                singles.into_iter().map(release).collect::<Vec<_>>().into(),
            );
        }
    }
    let what = format!("\"{}\" (artist): {span}", a.name);
    Share {
        title: a.name.clone(),
        description: format!("{}: {span} in the {}.", a.name, index.config.title),
        og_type: "website",
        json_ld: script_json(&ld),
        cite: citation(&index.config.title, &what, &url),
        url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script() {
        let v = json!({"name": "</script><!-- & \u{2028}"});
        let s = script_json(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert_eq!(
            s,
            r#"{"name":"\u003c/script\u003e\u003c!-- \u0026 \u2028"}"#
        );
        // Still the same JSON.
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
        // Each character alone is escaped too; text without any is as serde_json wrote it.
        for (c, escaped) in [
            ("<", "\\u003c"),
            ("\u{2028}", "\\u2028"),
            ("\u{2029}", "\\u2029"),
        ] {
            let s = script_json(&json!({ "name": format!("a{c}b") }));
            assert_eq!(s, format!(r#"{{"name":"a{escaped}b"}}"#));
        }
        let plain = json!({"name": "Ärger — «Nacht»"});
        assert_eq!(script_json(&plain), serde_json::to_string(&plain).unwrap());
    }
}
