//! The editors' record format: labels, releases with their awards, and pages.
//!
//! Parsing keeps the byte span of every value so that later checks can point
//! at the exact place in the file.

pub mod date;
pub mod load;
pub mod reader;

use std::path::{Path, PathBuf};

use date::PartialDate;
use reader::{Fields, Sp, parse_document, read_units};
use serde::Serialize;
use toml::de::DeValue;

use crate::diagnostics::{Diagnostic, suggest};

/// What kind of release an award is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Single,
    Ep,
    Album,
    Compilation,
    Download,
}

impl Format {
    /// Every format, in the order the site lists them.
    pub const ALL: [Format; 5] = [
        Format::Single,
        Format::Ep,
        Format::Album,
        Format::Compilation,
        Format::Download,
    ];

    /// The identifier used in records.
    pub fn id(self) -> &'static str {
        match self {
            Format::Single => "single",
            Format::Ep => "ep",
            Format::Album => "album",
            Format::Compilation => "compilation",
            Format::Download => "download",
        }
    }

    /// The name shown on the site.
    pub fn name(self) -> &'static str {
        match self {
            Format::Single => "Single",
            Format::Ep => "EP",
            Format::Album => "Album",
            Format::Compilation => "Compilation",
            Format::Download => "Download",
        }
    }

    fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.id() == s)
    }
}

/// An independent label (`content/labels/<slug>.toml`).
#[derive(Debug, Clone)]
pub struct Label {
    pub slug: String,
    pub file: PathBuf,
    pub name: Sp<String>,
    pub country: Sp<String>,
    pub website: Option<Sp<String>>,
    pub parent: Option<Sp<String>>,
    pub aliases: Vec<Sp<String>>,
}

/// Units per country code, each with its span.
pub type Shipments = Vec<(Sp<String>, Sp<u64>)>;

/// One award given to a release.
#[derive(Debug, Clone)]
pub struct Award {
    /// The `[[awards]]` table.
    pub span: std::ops::Range<usize>,
    pub tier: Sp<String>,
    pub date: Sp<PartialDate>,
    pub units: Option<Sp<u64>>,
    /// Units per country code, sorted by code.
    pub shipments: Option<Sp<Shipments>>,
    pub source: Option<Sp<String>>,
    pub scale: Option<Sp<String>>,
    pub note: Option<Sp<String>>,
}

impl Award {
    /// Total units: the stated figure, else the sum of shipments (`None` if unpublished
    /// or if the sum overflows).
    pub fn total_units(&self) -> Option<u64> {
        if let Some(u) = &self.units {
            return Some(u.value);
        }
        let ships = self.shipments.as_ref()?;
        ships
            .value
            .iter()
            .try_fold(0u64, |acc, (_, u)| acc.checked_add(u.value))
    }
}

/// A release and its award history (`content/releases/**/<slug>.toml`).
#[derive(Debug, Clone)]
pub struct Release {
    pub slug: String,
    pub file: PathBuf,
    pub title: Sp<String>,
    pub artists: Sp<Vec<Sp<String>>>,
    pub credit: Option<Sp<String>>,
    pub label: Sp<String>,
    pub format: Sp<Format>,
    pub released: Option<Sp<PartialDate>>,
    pub catalogue: Option<Sp<String>>,
    pub notes: Option<Sp<String>>,
    /// Former slugs; the site redirects them here.
    pub aliases: Vec<Sp<String>>,
    pub awards: Vec<Award>,
}

impl Release {
    /// The credit as printed: `credit`, or the artists joined.
    pub fn display_credit(&self) -> String {
        match &self.credit {
            Some(c) => c.value.clone(),
            None => join_names(self.artists.value.iter().map(|a| a.value.as_str())),
        }
    }
}

/// "A", "A & B", "A, B & C".
pub fn join_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} & {last}", init.join(", ")),
    }
}

/// A free page (`content/pages/<slug>.md`).
#[derive(Debug, Clone)]
pub struct Page {
    pub slug: String,
    pub file: PathBuf,
    pub title: String,
    pub weight: i64,
    /// Markdown body.
    pub body: String,
}

const LABEL_KNOWN: &[&str] = &["name", "country", "website", "parent", "aliases"];
const RELEASE_KNOWN: &[&str] = &[
    "title",
    "artists",
    "credit",
    "label",
    "format",
    "released",
    "catalogue",
    "notes",
    "aliases",
    "awards",
];
const AWARD_KNOWN: &[&str] = &[
    "tier",
    "date",
    "units",
    "shipments",
    "source",
    "scale",
    "note",
];
const PAGE_KNOWN: &[&str] = &["title", "weight"];

/// Parses a label file. `None` when the file has errors (all are reported).
pub fn parse_label(
    slug: &str,
    text: &str,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Label> {
    let doc = parse_document(text, file, diags)?;
    let mut f = Fields::new(doc.get_ref(), 0..0, "label", LABEL_KNOWN, file, diags);
    let name = f.req_str("name", "\"Domino Recording Company\"");
    let country = f.req_str("country", "\"GB\"");
    let website = f.opt_str("website");
    let parent = f.opt_str("parent");
    let aliases = f.opt_str_list("aliases");
    if !f.finish() {
        return None;
    }
    Some(Label {
        slug: slug.to_string(),
        file: file.to_path_buf(),
        name: name?,
        country: country?,
        website,
        parent,
        aliases: aliases.map(|a| a.value).unwrap_or_default(),
    })
}

/// Parses a release file. `None` when the file has errors (all are reported).
pub fn parse_release(
    slug: &str,
    text: &str,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Release> {
    let doc = parse_document(text, file, diags)?;
    let mut f = Fields::new(doc.get_ref(), 0..0, "release", RELEASE_KNOWN, file, diags);
    let title = f.req_str("title", "\"Kodama\"");
    let artists = if f.raw("artists").is_none() {
        f.req_str("artists", "[\"Alcest\"]");
        None
    } else {
        f.opt_str_list("artists")
    };
    let credit = f.opt_str("credit");
    let label = f.req_str("label", "\"prophecy-productions\"");
    let format_raw = f.req_str("format", "\"album\"");
    let released = f.opt_date("released");
    let catalogue = f.opt_str("catalogue");
    let notes = f.opt_str("notes");
    let aliases = f.opt_str_list("aliases");
    let award_tables = f.opt_tables("awards");
    if f.raw("awards").is_none() {
        f.failed = true;
        f.diags.push(
            Diagnostic::error(
                "missing-field",
                "release is missing the required field `awards`",
            )
            .at(file, 0..0)
            .label("this release has no `awards`")
            .help("add its award history: an `[[awards]]` table with `tier`, `date` and `units`, `shipments` or `source`"),
        );
    } else if let Some(v) = f.raw("awards")
        && matches!(v.get_ref(), DeValue::Array(a) if a.is_empty())
    {
        // `awards = []`: a release is on the site because of its awards.
        f.failed = true;
        f.diags.push(
            Diagnostic::error("missing-field", "release has no award: `awards` is empty")
                .at(file, v.span())
                .label("no award")
                .help("add its award history: an `[[awards]]` table with `tier`, `date` and `units`, `shipments` or `source`"),
        );
    }
    // Problems in other fields are reported, but the release is still
    // checked as far as its required fields allow, so one run shows all.
    f.finish();

    let format = format_raw.and_then(|fr| match Format::parse(&fr.value) {
        Some(fmt) => Some(Sp::new(fmt, fr.span)),
        None => {
            let ids: Vec<&str> = Format::ALL.iter().map(|f| f.id()).collect();
            diags.push(
                Diagnostic::error("unknown-format", format!("unknown format `{}`", fr.value))
                    .at(file, fr.span.clone())
                    .label("not a format")
                    .help(
                        suggest(&fr.value, ids.iter().copied())
                            .map(|s| format!("did you mean `{s}`?"))
                            .unwrap_or_else(|| format!("use one of: {}", ids.join(", "))),
                    ),
            );
            None
        }
    });

    if let Some(a) = &artists {
        if a.value.is_empty() {
            diags.push(
                Diagnostic::error("empty-artists", "`artists` is empty")
                    .at(file, a.span.clone())
                    .label("no artist")
                    .help("list each artist as credited, e.g. `artists = [\"Alcest\"]`"),
            );
        }
        for name in &a.value {
            if name.value.trim().is_empty() {
                diags.push(
                    Diagnostic::error("empty-field", "an artist name is empty")
                        .at(file, name.span.clone())
                        .help("remove the empty entry or write the name"),
                );
            }
        }
    }

    // Sized exactly: `collect` from a `filter_map` starts at four awards, and
    // most releases have one (80 MB of slack at 100,000 releases).
    let mut awards = Vec::with_capacity(award_tables.len());
    awards.extend(
        award_tables
            .into_iter()
            .filter_map(|(t, span)| parse_award(t, span, file, diags)),
    );
    Some(Release {
        slug: slug.to_string(),
        file: file.to_path_buf(),
        title: title?,
        artists: artists?,
        credit,
        label: label?,
        format: format?,
        released,
        catalogue,
        notes,
        aliases: aliases.map(|a| a.value).unwrap_or_default(),
        awards,
    })
}

fn parse_award(
    t: &toml::de::DeTable<'_>,
    span: std::ops::Range<usize>,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Award> {
    let mut f = Fields::new(t, span.clone(), "award", AWARD_KNOWN, file, diags);
    let tier = f.req_str("tier", "\"silver\"");
    let date = f.req_date("date", "2021-06-30");
    let units = f.opt_units("units");
    let ships_t = f.opt_table("shipments");
    let source = f.opt_str("source");
    let scale = f.opt_str("scale");
    let note = f.opt_str("note");
    let mut ok = f.finish();
    let shipments = ships_t.map(|(st, sspan)| {
        let mut list = Vec::with_capacity(st.len());
        for (k, v) in st.iter() {
            let code = Sp::new(k.get_ref().to_string(), k.span());
            let key = format!("shipments.{}", code.value);
            if let DeValue::Table(_) = v.get_ref() {
                ok = false;
                diags.push(
                    Diagnostic::error("wrong-type", format!("`{key}` must be an integer, found a table"))
                        .at(file, v.span())
                        .help("shipments map a country code to its units: `shipments = { DE = 41_000, AT = 12_500 }`"),
                );
                continue;
            }
            match read_units(&key, v, file, diags) {
                Some(u) => list.push((code, u)),
                None => ok = false,
            }
        }
        list.sort_by(|a, b| a.0.value.cmp(&b.0.value));
        Sp::new(list, sspan)
    });
    if !ok {
        return None;
    }
    Some(Award {
        span,
        tier: tier?,
        date: date?,
        units,
        shipments,
        source,
        scale,
        note,
    })
}

/// Parses a page: `+++` TOML front matter, then markdown.
pub fn parse_page(
    slug: &str,
    text: &str,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Page> {
    let Some(after_open) = text.strip_prefix("+++") else {
        diags.push(
            Diagnostic::error("front-matter", "a page must start with `+++` front matter")
                .at(file, 0..0)
                .help("start the file with:\n+++\ntitle = \"About the awards\"\n+++"),
        );
        return None;
    };
    let fm_start = 3;
    let Some(close) = after_open.find("\n+++") else {
        diags.push(
            Diagnostic::error("front-matter", "the front matter is not closed")
                .at(file, 0..3)
                .label("opened here")
                .help("end the front matter with a line `+++`"),
        );
        return None;
    };
    // With CRLF line ends the closing `+++` line leaves a `\r` behind.
    let fm = after_open[..close]
        .strip_suffix('\r')
        .unwrap_or(&after_open[..close]);
    let body_start = fm_start + close + 4;
    let body = text
        .get(body_start..)
        .unwrap_or("")
        .trim_start_matches(['\r', '\n'])
        .to_string();
    let mut local = Vec::new();
    let page = (|| {
        let doc = parse_document(fm, file, &mut local)?;
        let mut f = Fields::new(doc.get_ref(), 0..0, "page", PAGE_KNOWN, file, &mut local);
        let title = f.req_str("title", "\"About the awards\"");
        let weight = f.opt_int("weight");
        if !f.finish() {
            return None;
        }
        Some(Page {
            slug: slug.to_string(),
            file: file.to_path_buf(),
            title: title?.value,
            weight: weight.map_or(0, |w| w.value),
            body,
        })
    })();
    // Spans were relative to the front matter: move them to the file.
    for mut d in local {
        if let Some(s) = &mut d.span {
            *s = s.start + fm_start..s.end + fm_start;
        }
        d.context
            .iter_mut()
            .for_each(|(s, _)| *s = s.start + fm_start..s.end + fm_start);
        diags.push(d);
    }
    page
}
