//! Open data: every award as CSV and JSON (`/data/awards.csv`, `/data/awards.json`,
//! one `data.json` per release), the JSON Schema they follow, and the rows of the
//! whole-archive table at `/awards/`.
//!
//! Columns and their meaning are documented in docs/data.md; keep both in step.

use rayon::prelude::*;
use std::collections::BTreeMap;

use serde::Serialize;

use super::OutFile;
use super::views::{AwardRow, Shown, Views, release_path};
use crate::diagnostics::Diagnostic;
use crate::index::{AwardRef, Index};
use crate::iso;

/// The JSON Schema of `awards.json` and of each release's `data.json`.
pub const SCHEMA: &str = include_str!("../../schemas/awards-data.schema.json");

/// Output path of the schema (its `$id` ends the same way).
pub const SCHEMA_PATH: &str = "data/awards.schema.json";
/// Output path of the CSV.
pub const CSV_PATH: &str = "data/awards.csv";
/// Output path of the JSON.
pub const JSON_PATH: &str = "data/awards.json";
/// Name of each release's JSON file, inside the release's folder.
pub const RELEASE_JSON: &str = "data.json";

/// One award as open data. Field order is the CSV column order.
#[derive(Debug, Clone, Serialize)]
pub struct AwardRecord {
    /// `<release-slug>/<n>`, n counting the release's awards from 1 in record order.
    pub id: String,
    pub release_slug: String,
    pub title: String,
    pub artists: Vec<String>,
    /// The printed credit, or the artists joined ("A, B & C").
    pub credit: String,
    pub label_slug: String,
    pub label: String,
    pub label_country: Option<String>,
    /// Format id: single, ep, album, compilation, download.
    pub format: &'static str,
    /// Tier id.
    pub tier: String,
    pub tier_name: String,
    /// ISO 8601 at the precision known: "2021", "2021-06" or "2021-06-02".
    pub date: String,
    pub year: i32,
    /// Units across Europe; `None` when the figures were not published (never 0).
    pub units: Option<u64>,
    /// Units per country code, by code; empty when not published.
    pub shipments: BTreeMap<String, u64>,
    /// Id of the scale the award was judged under.
    pub scale: Option<String>,
    pub source: Option<String>,
    /// Absolute URL of the release page.
    pub url: String,
}

/// CSV header, in [`AwardRecord`] field order.
pub const CSV_COLUMNS: [&str; 18] = [
    "id",
    "release_slug",
    "title",
    "artists",
    "credit",
    "label_slug",
    "label",
    "label_country",
    "format",
    "tier",
    "tier_name",
    "date",
    "year",
    "units",
    "shipments",
    "scale",
    "source",
    "url",
];

/// The record of one award.
pub fn record(index: &Index<'_>, a: &AwardRef, base_url: &str) -> AwardRecord {
    let r = index.releases[a.release];
    let award = &r.awards[a.award];
    let label = index.label(&r.label.value);
    let tier = index.config.tiers.tier(&award.tier.value).map(|(_, t)| t);
    AwardRecord {
        id: format!("{}/{}", r.slug, a.award + 1),
        release_slug: r.slug.clone(),
        title: r.title.value.clone(),
        artists: r.artists.value.iter().map(|x| x.value.clone()).collect(),
        credit: r.display_credit(),
        label_slug: r.label.value.clone(),
        label: label.map_or_else(|| r.label.value.clone(), |l| l.name.value.clone()),
        label_country: label.map(|l| l.country.value.clone()),
        format: r.format.value.id(),
        tier: award.tier.value.clone(),
        tier_name: tier.map_or_else(|| award.tier.value.clone(), |t| t.name.clone()),
        date: award.date.value.to_string(),
        year: award.date.value.year(),
        units: award.total_units(),
        shipments: award
            .shipments
            .as_ref()
            .map(|s| {
                s.value
                    .iter()
                    .map(|(c, u)| (c.value.clone(), u.value))
                    .collect()
            })
            .unwrap_or_default(),
        scale: index.scale_of(a).map(|s| s.id.clone()),
        source: award.source.as_ref().map(|s| s.value.clone()),
        url: format!("{base_url}{}", release_path(&r.slug)),
    }
}

/// Every award, newest first (the order of the site's lists).
pub fn records(index: &Index<'_>, base_url: &str) -> Vec<AwardRecord> {
    index
        .awards
        .par_iter()
        .map(|a| record(index, a, base_url))
        .collect()
}

/// One CSV cell: guarded against spreadsheet formulas, then quoted per RFC 4180.
pub fn csv_cell(value: &str) -> String {
    // A spreadsheet runs a cell starting with one of these as a formula; a leading
    // apostrophe makes it text (OWASP "CSV injection").
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The CSV file: a header line, then one line per record, CRLF line ends (RFC 4180).
pub fn csv(records: &[AwardRecord]) -> String {
    let mut out = String::with_capacity(64 + records.len() * 320);
    push_csv_line(&mut out, CSV_COLUMNS.iter().copied());
    for r in records {
        let shipments = r
            .shipments
            .iter()
            .map(|(c, u)| format!("{c}={u}"))
            .collect::<Vec<_>>()
            .join(";");
        let fields = [
            r.id.clone(),
            r.release_slug.clone(),
            r.title.clone(),
            r.artists.join("; "),
            r.credit.clone(),
            r.label_slug.clone(),
            r.label.clone(),
            r.label_country.clone().unwrap_or_default(),
            r.format.to_string(),
            r.tier.clone(),
            r.tier_name.clone(),
            r.date.clone(),
            r.year.to_string(),
            r.units.map(|u| u.to_string()).unwrap_or_default(),
            shipments,
            r.scale.clone().unwrap_or_default(),
            r.source.clone().unwrap_or_default(),
            r.url.clone(),
        ];
        push_csv_line(&mut out, fields.iter().map(String::as_str));
    }
    out
}

fn push_csv_line<'s>(out: &mut String, cells: impl Iterator<Item = &'s str>) {
    for (i, c) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(c));
    }
    out.push_str("\r\n");
}

/// The envelope of a JSON data file.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "$schema")]
    schema: String,
    generated_from: &'a str,
    site: &'a str,
    licence: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<&'a str>,
    awards: Vec<serde_json::Value>,
}

/// A JSON data file: the envelope, then one award per line (readable, and a new
/// award shows as one added line in a diff).
pub fn json(
    index: &Index<'_>,
    base_url: &str,
    release: Option<&str>,
    records: &[AwardRecord],
) -> Result<String, serde_json::Error> {
    let head = Envelope {
        schema: format!("{base_url}{SCHEMA_PATH}"),
        generated_from: &index.config.title,
        site: base_url,
        licence: index.config.data_licence.as_deref(),
        release,
        awards: Vec::new(),
    };
    let head = serde_json::to_string_pretty(&head)?;
    // The pretty envelope ends with `"awards": []\n}`: splice the lines in.
    let Some(cut) = head.rfind("[]") else {
        return Ok(head);
    };
    // Each award takes about 510 bytes; reserving past that costs no memory
    // until written, while growing by doubling would copy 70 MB at 100k.
    let mut out = String::with_capacity(head.len() + records.len() * 560);
    out.push_str(&head[..cut]);
    out.push('[');
    for (i, r) in records.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(&serde_json::to_string(r)?);
    }
    if !records.is_empty() {
        out.push_str("\n  ");
    }
    out.push(']');
    out.push_str(&head[cut + 2..]);
    out.push('\n');
    Ok(out)
}

/// The open-data files of the whole archive: CSV, JSON and schema (each
/// release's `data.json` comes from [`release_file`]), each given to `emit` as
/// soon as it is made, so that no two of them (100 MB at 100,000 releases)
/// wait in memory together for the rest of the build.
pub fn files<R: Send>(
    index: &Index<'_>,
    base_url: &str,
    emit: impl Fn(OutFile) -> R + Sync,
) -> Result<Vec<R>, Box<Diagnostic>> {
    let all = records(index, base_url);
    let (csv_out, json_out) = rayon::join(
        || {
            emit(OutFile {
                path: CSV_PATH.into(),
                bytes: csv(&all).into_bytes(),
            })
        },
        || {
            json(index, base_url, None, &all).map(|text| {
                emit(OutFile {
                    path: JSON_PATH.into(),
                    bytes: text.into_bytes(),
                })
            })
        },
    );
    drop(all);
    let schema = emit(OutFile {
        path: SCHEMA_PATH.into(),
        bytes: SCHEMA.as_bytes().to_vec(),
    });
    Ok(vec![csv_out, json_out.map_err(json_error)?, schema])
}

fn json_error(e: serde_json::Error) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(
        "data",
        format!("cannot write the open data as JSON: {e}"),
    ))
}

/// The awards of each release (by index), in record order (n = 1, 2, ...).
pub fn awards_by_release(index: &Index<'_>) -> Vec<Vec<AwardRef>> {
    let mut per_release: Vec<Vec<AwardRef>> = vec![Vec::new(); index.releases.len()];
    for a in &index.awards {
        if let Some(list) = per_release.get_mut(a.release) {
            list.push(*a);
        }
    }
    for list in &mut per_release {
        list.sort_by_key(|a| a.award);
    }
    per_release
}

/// `releases/<slug>/data.json`: the awards of release `ri`, like its page.
/// Built with the release's page, so the archive's files are written as
/// they render rather than in a pass of their own.
pub fn release_file(
    index: &Index<'_>,
    base_url: &str,
    ri: usize,
    awards: &[AwardRef],
) -> Result<OutFile, Box<Diagnostic>> {
    let records: Vec<AwardRecord> = awards.iter().map(|a| record(index, a, base_url)).collect();
    let slug = &index.releases[ri].slug;
    Ok(OutFile {
        path: format!("{}{RELEASE_JSON}", release_path(slug)),
        bytes: json(index, base_url, Some(slug), &records)
            .map_err(json_error)?
            .into_bytes(),
    })
}

/// A country in the `/awards/` table.
#[derive(Debug, Clone, Serialize)]
pub struct CountryCell<'v> {
    pub code: &'v str,
    pub name: &'v str,
}

/// One row of the `/awards/` table: the shared row plus what filters and sorting need.
#[derive(Debug, Clone, Serialize)]
pub struct TableRow<'v> {
    pub row: &'v AwardRow<'v>,
    /// The row's id with `-` for `/` (`<release-slug>-<n>`): an HTML id and fragment.
    pub anchor: Shown<Anchor<'v>>,
    pub label_slug: &'v str,
    pub countries: Vec<CountryCell<'v>>,
    /// The country codes, space-separated (the filter script's `data-countries`).
    pub country_codes: Shown<SpaceJoined<'v>>,
}

/// An award's [`views::RowId`] with `-` for `/`, written where it is shown:
/// a template's `replace` filter and loop for each of 100,000 rows cost more
/// than the row's other cells.
#[derive(Debug, Clone, Copy)]
pub struct Anchor<'v>(pub &'v str, pub usize);

impl std::fmt::Display for Anchor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)?;
        f.write_str("-")?;
        f.write_str(itoa::Buffer::new().format(self.1))
    }
}

/// Words joined by single spaces, written where they are shown.
#[derive(Debug, Clone, Copy)]
pub struct SpaceJoined<'v>(pub &'v [&'v str]);

impl std::fmt::Display for SpaceJoined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, w) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(w)?;
        }
        Ok(())
    }
}

/// An option of a filter select.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FilterOption {
    pub value: String,
    pub name: String,
}

/// The `/awards/` page: every award, and the options of each filter.
#[derive(Debug, Clone, Serialize)]
pub struct AwardsTable<'v> {
    /// Rendered apart, in parallel chunks (`awards_rows.html`).
    #[serde(skip)]
    pub rows: Vec<TableRow<'v>>,
    /// Number of rows.
    pub count: usize,
    /// Tiers by rank, lowest first.
    pub tiers: Vec<FilterOption>,
    /// Years, newest first.
    pub years: Vec<FilterOption>,
    /// Labels A-Z by name.
    pub labels: Vec<FilterOption>,
    /// Countries with shipments, A-Z by name.
    pub countries: Vec<FilterOption>,
    pub csv: &'static str,
    pub json: &'static str,
}

/// Builds the `/awards/` table from the shared rows.
pub fn awards_table<'v>(views: &'v Views<'_, '_>) -> AwardsTable<'v> {
    let index = views.index;
    let rows: Vec<TableRow<'v>> = views
        .all_rows()
        .iter()
        .zip(&index.awards)
        .map(|(row, a)| TableRow {
            row,
            anchor: Shown(Anchor(row.id.0.0, row.id.0.1)),
            label_slug: &index.releases[a.release].label.value,
            country_codes: Shown(SpaceJoined(&row.countries)),
            countries: row
                .countries
                .iter()
                .map(|&c| CountryCell {
                    code: c,
                    name: iso::country_name(c).unwrap_or(c),
                })
                .collect(),
        })
        .collect();
    let tiers = index
        .config
        .tiers
        .tiers()
        .iter()
        .enumerate()
        .filter(|(rank, _)| index.by_tier.get(*rank).is_some_and(|l| !l.is_empty()))
        .map(|(_, t)| FilterOption {
            value: t.id.clone(),
            name: t.name.clone(),
        })
        .collect();
    let years = index
        .by_year
        .keys()
        .rev()
        .map(|y| FilterOption {
            value: y.to_string(),
            name: y.to_string(),
        })
        .collect();
    let mut labels: Vec<FilterOption> = index
        .by_label
        .iter()
        .filter(|(_, e)| !e.awards.is_empty())
        .map(|(slug, e)| FilterOption {
            value: slug.clone(),
            name: index.labels[e.label].name.value.clone(),
        })
        .collect();
    labels.sort_by_cached_key(|o| (crate::slug::slugify(&o.name), o.value.clone()));
    let mut countries: Vec<FilterOption> = index
        .by_country
        .keys()
        .map(|c| FilterOption {
            value: c.clone(),
            name: iso::country_name(c).unwrap_or(c).to_string(),
        })
        .collect();
    countries.sort_by_cached_key(|o| (crate::slug::slugify(&o.name), o.value.clone()));
    AwardsTable {
        count: rows.len(),
        rows,
        tiers,
        years,
        labels,
        countries,
        csv: CSV_PATH,
        json: JSON_PATH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_guarded() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("a-b=c"), "a-b=c");
        assert_eq!(csv_cell(""), "");
    }
}
