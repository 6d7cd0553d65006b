//! `impala-awards new`: writes a new release, label or award from command-line values.
//!
//! A record is only written when the checks find no error in it. The new text
//! is checked in memory, together with every other record of the site, so the
//! editor sees the same diagnostics `check` would print (an unknown label with
//! its nearest slug, a figure below the tier's threshold, ...) before anything
//! touches the tree. Only the problems the new record brings are reported:
//! problems already in the tree are counted, not repeated.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use crate::check;
use crate::diagnostics::{Diagnostic, MessageFormat, Severity, Sources, suggest};
use crate::records::date::PartialDate;
use crate::records::load::{Loaded, load};
use crate::records::reader::parse_document;
use crate::records::{Format, parse_label, parse_release};
use crate::slug::{is_slug, slugify};

/// The evidence of an award: at least one of units, shipments or source.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Total units shipped across Europe.
    pub units: Option<u64>,
    /// Units per country code, in the order given.
    pub shipments: Vec<(String, u64)>,
    /// Address of the announcement.
    pub source: Option<String>,
}

/// One award as given on the command line.
#[derive(Debug, Clone)]
pub struct AwardInput {
    pub tier: String,
    /// `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    pub date: String,
    pub evidence: Evidence,
    /// A scale id, when not the one in force at the date.
    pub scale: Option<String>,
    pub note: Option<String>,
}

/// A new release with its first award.
#[derive(Debug, Clone)]
pub struct ReleaseInput {
    pub artists: Vec<String>,
    pub title: String,
    pub label: String,
    pub format: Format,
    pub credit: Option<String>,
    pub released: Option<String>,
    pub catalogue: Option<String>,
    pub award: AwardInput,
}

/// A new label.
#[derive(Debug, Clone)]
pub struct LabelInput {
    /// The file stem; derived from the name when not given.
    pub slug: Option<String>,
    pub name: String,
    pub country: String,
    pub website: Option<String>,
    pub parent: Option<String>,
}

/// What a `new` command did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The file written or that would have been written, relative to the root.
    pub path: Option<PathBuf>,
    /// Whether the file was written.
    pub written: bool,
    /// The problems the new record brings (and why nothing was written).
    pub diags: Vec<Diagnostic>,
    /// Texts to show the diagnostics' lines, including the new text.
    pub sources: Sources,
    /// Errors and warnings the tree already had before this record.
    pub preexisting: (usize, usize),
    /// One line saying what was added, for the terminal.
    pub summary: String,
}

impl Outcome {
    fn refused(path: Option<PathBuf>, d: Diagnostic) -> Outcome {
        Outcome {
            path,
            diags: vec![d],
            ..Outcome::default()
        }
    }
}

/// Where a release of `artists` titled `title` lives: `content/releases/<artist>/<artist>-<title>.toml`.
pub fn release_path(artists: &[String], title: &str) -> (String, PathBuf) {
    let artist = slugify(artists.first().map_or("", String::as_str));
    let slug = format!("{artist}-{}", slugify(title));
    let path = Path::new("content/releases")
        .join(&artist)
        .join(format!("{slug}.toml"));
    (slug, path)
}

/// "41_000": how records write units, grouped by thousands.
pub fn underscored(n: u64) -> String {
    crate::config::fmt_units(n).replace(',', "_")
}

/// A TOML integer written with thousands separators.
fn units_value(n: u64) -> Value {
    // The repr is digits and underscores only, so it always parses.
    underscored(n)
        .parse::<Value>()
        .unwrap_or_else(|_| Value::from(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// A date as records write it: a TOML date when the day is known, else a string.
/// Text that is no date at all is kept as a string, so the check reports it.
fn date_value(text: &str) -> Value {
    let t = text.trim();
    match PartialDate::parse(t) {
        Some(PartialDate::Day(_)) => t.parse::<Value>().unwrap_or_else(|_| Value::from(t)),
        _ => Value::from(t),
    }
}

/// The `[[awards]]` table of one award.
fn award_table(a: &AwardInput) -> Table {
    let mut t = Table::new();
    t.insert("tier", Item::Value(Value::from(a.tier.trim())));
    t.insert("date", Item::Value(date_value(&a.date)));
    if let Some(u) = a.evidence.units {
        t.insert("units", Item::Value(units_value(u)));
    }
    if !a.evidence.shipments.is_empty() {
        let mut ships = InlineTable::new();
        for (code, units) in &a.evidence.shipments {
            ships.insert(code, units_value(*units));
        }
        t.insert("shipments", Item::Value(Value::InlineTable(ships)));
    }
    if let Some(s) = &a.evidence.source {
        t.insert("source", Item::Value(Value::from(s.trim())));
    }
    if let Some(s) = &a.scale {
        t.insert("scale", Item::Value(Value::from(s.trim())));
    }
    if let Some(n) = &a.note {
        t.insert("note", Item::Value(Value::from(n.trim())));
    }
    // A blank line before each `[[awards]]`, as in the shipped records.
    t.decor_mut().set_prefix("\n");
    t
}

/// The text of a new release file.
pub fn release_text(r: &ReleaseInput) -> String {
    let mut doc = DocumentMut::new();
    doc.insert("title", Item::Value(Value::from(r.title.trim())));
    let artists: Array = r.artists.iter().map(|a| a.trim()).collect();
    doc.insert("artists", Item::Value(Value::Array(artists)));
    if let Some(c) = &r.credit {
        doc.insert("credit", Item::Value(Value::from(c.trim())));
    }
    doc.insert("label", Item::Value(Value::from(r.label.trim())));
    doc.insert("format", Item::Value(Value::from(r.format.id())));
    if let Some(d) = &r.released {
        doc.insert("released", Item::Value(date_value(d)));
    }
    if let Some(c) = &r.catalogue {
        doc.insert("catalogue", Item::Value(Value::from(c.trim())));
    }
    let mut awards = ArrayOfTables::new();
    awards.push(award_table(&r.award));
    doc.insert("awards", Item::ArrayOfTables(awards));
    with_final_newline(doc.to_string())
}

fn with_final_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The text of a new label file.
pub fn label_text(l: &LabelInput) -> String {
    let mut doc = DocumentMut::new();
    doc.insert("name", Item::Value(Value::from(l.name.trim())));
    doc.insert("country", Item::Value(Value::from(l.country.trim())));
    if let Some(w) = &l.website {
        doc.insert("website", Item::Value(Value::from(w.trim())));
    }
    if let Some(p) = &l.parent {
        doc.insert("parent", Item::Value(Value::from(p.trim())));
    }
    with_final_newline(doc.to_string())
}

/// Appends `award` to the text of a release file. Every existing byte
/// (comments, spacing, key order) is kept: the new `[[awards]]` table is added
/// after them, separated by a blank line, in the file's own line endings.
/// `None` when the file is not TOML or its `awards` is not an array.
pub fn append_award(text: &str, award: &AwardInput) -> Option<String> {
    let doc: DocumentMut = text.parse().ok()?;
    let before = match doc.get("awards") {
        None => 0,
        Some(Item::ArrayOfTables(aot)) => aot.len(),
        // `awards = [{ ... }]`: the array grows in the file's own style.
        Some(Item::Value(Value::Array(_))) => return append_inline(doc, award),
        Some(_) => return None,
    };
    let mut table = award_table(award);
    table.decor_mut().set_prefix("");
    let mut one = DocumentMut::new();
    let mut aot = ArrayOfTables::new();
    aot.push(table);
    one.insert("awards", Item::ArrayOfTables(aot));
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = text.to_string();
    if !out.is_empty() {
        if !out.ends_with('\n') {
            out.push_str(eol);
        }
        if !out.ends_with(&format!("{eol}{eol}")) {
            out.push_str(eol);
        }
    }
    out.push_str(&one.to_string().replace('\n', eol));
    // The result must hold exactly one more award, or the file was not what it seemed.
    let after: DocumentMut = out.parse().ok()?;
    match after.get("awards") {
        Some(Item::ArrayOfTables(aot)) if aot.len() == before + 1 => Some(out),
        _ => None,
    }
}

fn append_inline(mut doc: DocumentMut, award: &AwardInput) -> Option<String> {
    let Some(Item::Value(Value::Array(arr))) = doc.get_mut("awards") else {
        return None;
    };
    let mut inline = award_table(award).into_inline_table();
    inline.fmt();
    arr.push(inline);
    Some(doc.to_string())
}

/// What kind of record a text is, for checking it in place.
#[derive(Clone, Copy)]
enum Kind {
    Release,
    Label,
}

/// A diagnostic's identity, for telling new problems from old ones.
type DiagKey = (
    &'static str,
    Option<PathBuf>,
    Option<(usize, usize)>,
    String,
);

fn key(d: &Diagnostic) -> DiagKey {
    (
        d.code,
        d.file.clone(),
        d.span.as_ref().map(|s| (s.start, s.end)),
        d.message.clone(),
    )
}

/// Checks the tree with `text` in place of (or added as) `rel`.
/// Returns the problems that are new, the sources, and the tree's old counts.
fn check_with(
    root: &Path,
    today: NaiveDate,
    mut loaded: Loaded,
    kind: Kind,
    slug: &str,
    rel: &Path,
    text: &str,
) -> Outcome {
    let load_diags = std::mem::take(&mut loaded.diags);
    let Some(config) = loaded.config.clone() else {
        // Without a valid site.toml no record can be checked.
        let diags: Vec<Diagnostic> = load_diags
            .into_iter()
            .filter(|d| d.file.as_deref() == Some(Path::new(crate::config::CONFIG_FILE)))
            .collect();
        let mut out = Outcome {
            path: Some(rel.to_path_buf()),
            sources: loaded.sources,
            ..Outcome::default()
        };
        out.diags = if diags.is_empty() {
            vec![
                Diagnostic::error(
                    "no-site",
                    format!("no valid site.toml in `{}`", root.display()),
                )
                .help("run the command in the site's root folder, or pass `--root DIR`"),
            ]
        } else {
            diags
        };
        out.diags.push(
            Diagnostic::error("site-invalid", "site.toml has errors: nothing was checked")
                .help("fix site.toml first; `impala-awards check` lists every problem"),
        );
        return out;
    };
    let mut before: Vec<Diagnostic> = load_diags.clone();
    before.extend(check::check(&loaded, &config, today));

    let mut after: Vec<Diagnostic> = load_diags
        .into_iter()
        .filter(|d| d.file.as_deref() != Some(rel))
        .collect();
    match kind {
        Kind::Release => {
            let parsed = parse_release(slug, text, rel, &mut after);
            let at = loaded.releases.iter().position(|r| r.slug == slug);
            loaded.broken_releases.remove(slug);
            match (parsed, at) {
                (Some(r), Some(i)) => loaded.releases[i] = r,
                (Some(r), None) => loaded.releases.push(r),
                (None, Some(i)) => {
                    loaded.releases.remove(i);
                    loaded.broken_releases.insert(slug.to_string());
                }
                (None, None) => {
                    loaded.broken_releases.insert(slug.to_string());
                }
            }
        }
        Kind::Label => {
            let parsed = parse_label(slug, text, rel, &mut after);
            loaded.labels.retain(|l| l.slug != slug);
            loaded.broken_labels.remove(slug);
            match parsed {
                Some(l) => loaded.labels.push(l),
                None => {
                    loaded.broken_labels.insert(slug.to_string());
                }
            }
        }
    }
    loaded.sources.insert(rel.to_path_buf(), text.into());
    after.extend(check::check(&loaded, &config, today));

    let mut old: BTreeMap<DiagKey, usize> = BTreeMap::new();
    for d in &before {
        *old.entry(key(d)).or_default() += 1;
    }
    let mut new = Vec::new();
    for d in after {
        match old.get_mut(&key(&d)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => new.push(d),
        }
    }
    let errors = before.iter().filter(|d| d.is_error()).count();
    Outcome {
        path: Some(rel.to_path_buf()),
        written: false,
        diags: new,
        sources: loaded.sources,
        preexisting: (errors, before.len() - errors),
        summary: String::new(),
    }
}

impl Outcome {
    /// Whether the new record may be written: no error (no warning either under `deny_warnings`).
    fn acceptable(&self, deny_warnings: bool) -> bool {
        !self
            .diags
            .iter()
            .any(|d| d.severity == Severity::Error || deny_warnings)
    }
}

/// Writes `text` to a file that must not exist yet.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Replaces `path` with `text` at once: written beside it, then renamed over it,
/// so a crash or a watching `serve` never sees half a file.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "record".into(), |n| n.to_string_lossy().into_owned());
    // A leading dot: the loader skips hidden files, so the half-written copy is never read.
    let tmp = path.with_file_name(format!(".{name}.new"));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn io_error(path: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::error("unwritable", format!("cannot write the file: {e}")).in_file(path)
}

/// Adds a release with its first award, unless the checks find an error in it.
pub fn new_release(
    root: &Path,
    today: NaiveDate,
    input: &ReleaseInput,
    deny_warnings: bool,
) -> Outcome {
    let (slug, rel) = release_path(&input.artists, &input.title);
    let full = root.join(&rel);
    let loaded = load(root);
    let existing = loaded
        .releases
        .iter()
        .find(|r| r.slug == slug)
        .map(|r| r.file.clone())
        .or_else(|| {
            (loaded.broken_releases.contains(&slug) || full.exists())
                .then(|| find_release_file(root, &slug).unwrap_or_else(|| rel.clone()))
        });
    if let Some(file) = existing {
        return Outcome::refused(
            Some(rel),
            Diagnostic::error(
                "file-exists",
                format!("release `{slug}` already exists"),
            )
            .in_file(&file)
            .help(format!(
                "to record an upgrade, add an award to it: `impala-awards new award {slug} --tier ... --date ...`"
            ))
            .note("nothing was written: `new` never overwrites a file"),
        );
    }
    let text = release_text(input);
    let mut out = check_with(root, today, loaded, Kind::Release, &slug, &rel, &text);
    if out.acceptable(deny_warnings) {
        match write_new(&full, &text) {
            Ok(()) => {
                out.written = true;
                out.summary = format!(
                    "added release \"{}\" with its {} award",
                    input.title.trim(),
                    input.award.tier.trim()
                );
            }
            Err(e) => out.diags.push(io_error(&rel, &e)),
        }
    }
    out
}

/// The file of release `slug` under `content/releases`, if there is one.
fn find_release_file(root: &Path, slug: &str) -> Option<PathBuf> {
    let name = format!("{slug}.toml");
    walkdir::WalkDir::new(root.join("content/releases"))
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_type().is_file() && e.file_name().to_string_lossy() == name)
        .and_then(|e| e.path().strip_prefix(root).ok().map(Path::to_path_buf))
}

/// Appends an award (an upgrade) to an existing release, unless the checks find an error in it.
pub fn new_award(
    root: &Path,
    today: NaiveDate,
    release: &str,
    award: &AwardInput,
    deny_warnings: bool,
) -> Outcome {
    let loaded = load(root);
    let wanted = release.trim().trim_end_matches(".toml");
    // A former slug (an alias) still finds its release.
    let (slug, former) = match loaded
        .releases
        .iter()
        .find(|r| r.aliases.iter().any(|a| a.value == wanted) && r.slug != wanted)
    {
        Some(r) if find_release_file(root, wanted).is_none() => (r.slug.clone(), Some(wanted)),
        _ => (wanted.to_string(), None),
    };
    let Some(rel) = find_release_file(root, &slug) else {
        let slugs = loaded
            .releases
            .iter()
            .map(|r| r.slug.as_str())
            .chain(loaded.broken_releases.iter().map(String::as_str));
        return Outcome::refused(
            None,
            Diagnostic::error("unknown-release", format!("no release has the slug `{wanted}`"))
                .help(match suggest(wanted, slugs) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "a release's slug is its file name without `.toml`; add a new release with `impala-awards new release`".to_string(),
                }),
        );
    };
    let full = root.join(&rel);
    let text = match crate::records::load::read_text(&full, &rel) {
        Ok(t) => t,
        Err(e) => return Outcome::refused(Some(rel), e.diagnostic),
    };
    let Some(new_text) = append_award(&text, award) else {
        let mut diags = Vec::new();
        parse_document(&text, &rel, &mut diags);
        let mut sources = Sources::default();
        sources.insert(rel.clone(), text.into());
        diags.push(
            Diagnostic::error("unwritable", "cannot add an award to this file")
                .in_file(&rel)
                .help("fix the file first: `awards` must be `[[awards]]` tables"),
        );
        return Outcome {
            path: Some(rel),
            diags,
            sources,
            ..Outcome::default()
        };
    };
    let mut out = check_with(root, today, loaded, Kind::Release, &slug, &rel, &new_text);
    if out.acceptable(deny_warnings) {
        match replace(&full, &new_text) {
            Ok(()) => {
                out.written = true;
                out.summary = format!(
                    "added the {} award of {} to `{slug}`{}",
                    award.tier.trim(),
                    award.date.trim(),
                    former.map_or_else(String::new, |f| format!(" (`{f}` is its former slug)"))
                );
            }
            Err(e) => out.diags.push(io_error(&rel, &e)),
        }
    }
    out
}

/// Adds a label, unless the checks find an error in it.
pub fn new_label(
    root: &Path,
    today: NaiveDate,
    input: &LabelInput,
    deny_warnings: bool,
) -> Outcome {
    let slug = match &input.slug {
        Some(s) if !is_slug(s) => {
            return Outcome::refused(
                None,
                Diagnostic::error("bad-slug", format!("`{s}` is not a valid slug")).help(format!(
                    "slugs use lowercase a-z, 0-9 and hyphens: `{}`",
                    slugify(s)
                )),
            );
        }
        Some(s) => s.clone(),
        None => slugify(&input.name),
    };
    let rel = Path::new("content/labels").join(format!("{slug}.toml"));
    let full = root.join(&rel);
    if full.exists() {
        return Outcome::refused(
            Some(rel.clone()),
            Diagnostic::error("file-exists", format!("label `{slug}` already exists"))
                .in_file(&rel)
                .help("edit the file, or choose another slug")
                .note("nothing was written: `new` never overwrites a file"),
        );
    }
    let loaded = load(root);
    let text = label_text(input);
    let mut out = check_with(root, today, loaded, Kind::Label, &slug, &rel, &text);
    if out.acceptable(deny_warnings) {
        match write_new(&full, &text) {
            Ok(()) => {
                out.written = true;
                out.summary = format!("added label \"{}\"", input.name.trim());
            }
            Err(e) => out.diags.push(io_error(&rel, &e)),
        }
    }
    out
}

/// `rel` below `root` as the user would type it: without a leading `./`.
pub fn shown_path(root: &Path, rel: &Path) -> PathBuf {
    if root == Path::new(".") || root.as_os_str().is_empty() {
        rel.to_path_buf()
    } else {
        root.join(rel)
    }
}

/// Options every `new` command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct NewOptions {
    /// The site's root folder (holding site.toml and content/).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// How to print problems.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
    /// Refuse to write on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// The award flags shared by `new release` and `new award`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("evidence").required(true).multiple(true)))]
pub struct AwardArgs {
    /// Tier id, e.g. `silver`, `double-silver`, `gold`.
    #[arg(long)]
    pub tier: String,
    /// Date of the award: `2024-06-01`, or `2024-06` / `2024` when only the month or year is known.
    #[arg(long)]
    pub date: String,
    /// Total units shipped across Europe.
    #[arg(long, group = "evidence", value_parser = parse_units)]
    pub units: Option<u64>,
    /// Units per country: `DE=41000,AT=12500`.
    #[arg(long, group = "evidence", value_parser = parse_shipments)]
    pub shipments: Option<Shipped>,
    /// Address of the announcement of the award (required when no figures were published).
    #[arg(long, group = "evidence")]
    pub source: Option<String>,
    /// Scale id, only when the award was given under another scale than its date selects.
    #[arg(long)]
    pub scale: Option<String>,
    /// A short note on this award.
    #[arg(long)]
    pub note: Option<String>,
}

impl AwardArgs {
    fn input(&self) -> AwardInput {
        AwardInput {
            tier: self.tier.clone(),
            date: self.date.clone(),
            evidence: Evidence {
                units: self.units,
                shipments: self.shipments.clone().map(|s| s.0).unwrap_or_default(),
                source: self.source.clone(),
            },
            scale: self.scale.clone(),
            note: self.note.clone(),
        }
    }
}

/// Units per country as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipped(pub Vec<(String, u64)>);

/// Parses a units figure: digits, optionally grouped with `_` or `,`.
fn parse_units(s: &str) -> Result<u64, String> {
    let digits: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, '_' | ','))
        .collect();
    match digits.parse::<u64>() {
        Ok(0) => Err("units must be above zero".into()),
        Ok(n) if i64::try_from(n).is_ok() => Ok(n),
        Ok(_) => Err("too large".into()),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// Parses `DE=41000,AT=12500`; codes are upper-cased.
fn parse_shipments(s: &str) -> Result<Shipped, String> {
    let mut out: Vec<(String, u64)> = Vec::new();
    // Commas separate countries; a comma inside a figure ("41,000") would be ambiguous.
    for part in s.split([',', ' ']).filter(|p| !p.trim().is_empty()) {
        let Some((code, units)) = part.split_once('=') else {
            return Err(format!("`{part}` is not COUNTRY=UNITS, e.g. `DE=41000`"));
        };
        let code = code.trim().to_uppercase();
        if out.iter().any(|(c, _)| *c == code) {
            return Err(format!("`{code}` is given twice"));
        }
        out.push((code, parse_units(units)?));
    }
    if out.is_empty() {
        return Err("give units per country, e.g. `DE=41000,AT=12500`".into());
    }
    Ok(Shipped(out))
}

/// `impala-awards new ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum NewCommand {
    /// Add a release with its first award, as content/releases/<artist>/<artist>-<title>.toml.
    Release {
        /// An artist, as credited; repeat for each artist.
        #[arg(long = "artist", required = true)]
        artists: Vec<String>,
        /// Title exactly as printed.
        #[arg(long)]
        title: String,
        /// Slug of the releasing label (a file in content/labels/).
        #[arg(long)]
        label: String,
        /// What was released: single, ep, album, compilation or download.
        #[arg(long, value_parser = parse_format)]
        format: Format,
        /// The printed credit, only when it is not simply the artists joined.
        #[arg(long)]
        credit: Option<String>,
        /// Original release date: `2018-11-09`, `2018-11` or `2018`.
        #[arg(long)]
        released: Option<String>,
        /// Catalogue number.
        #[arg(long)]
        catalogue: Option<String>,
        #[command(flatten)]
        award: AwardArgs,
        #[command(flatten)]
        opts: NewOptions,
    },
    /// Add an award (an upgrade) at the end of an existing release's file.
    Award {
        /// The release's slug: its file name without `.toml`.
        release: String,
        #[command(flatten)]
        award: AwardArgs,
        #[command(flatten)]
        opts: NewOptions,
    },
    /// Add a label, as content/labels/<slug>.toml.
    Label {
        /// The label's slug (default: made from its name).
        slug: Option<String>,
        /// Name of the label.
        #[arg(long)]
        name: String,
        /// Country of the label: ISO 3166-1 alpha-2 code, e.g. `DE`.
        #[arg(long)]
        country: String,
        /// The label's website.
        #[arg(long)]
        website: Option<String>,
        /// Slug of the label this one is an imprint of.
        #[arg(long)]
        parent: Option<String>,
        #[command(flatten)]
        opts: NewOptions,
    },
}

fn parse_format(s: &str) -> Result<Format, String> {
    let ids: Vec<&str> = Format::ALL.iter().map(|f| f.id()).collect();
    Format::ALL
        .into_iter()
        .find(|f| f.id().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| {
            let hint = suggest(s, ids.iter().copied())
                .map(|h| format!("did you mean `{h}`? "))
                .unwrap_or_default();
            format!("unknown format `{s}`: {hint}use one of {}", ids.join(", "))
        })
}

impl NewCommand {
    /// The options of the command.
    pub fn options(&self) -> &NewOptions {
        match self {
            NewCommand::Release { opts, .. }
            | NewCommand::Award { opts, .. }
            | NewCommand::Label { opts, .. } => opts,
        }
    }

    /// Runs the command with `today` as the build date.
    pub fn run(&self, today: NaiveDate) -> Outcome {
        let o = self.options();
        match self {
            NewCommand::Release {
                artists,
                title,
                label,
                format,
                credit,
                released,
                catalogue,
                award,
                ..
            } => new_release(
                &o.root,
                today,
                &ReleaseInput {
                    artists: artists.clone(),
                    title: title.clone(),
                    label: label.clone(),
                    format: *format,
                    credit: credit.clone(),
                    released: released.clone(),
                    catalogue: catalogue.clone(),
                    award: award.input(),
                },
                o.deny_warnings,
            ),
            NewCommand::Award { release, award, .. } => {
                new_award(&o.root, today, release, &award.input(), o.deny_warnings)
            }
            NewCommand::Label {
                slug,
                name,
                country,
                website,
                parent,
                ..
            } => new_label(
                &o.root,
                today,
                &LabelInput {
                    slug: slug.clone(),
                    name: name.clone(),
                    country: country.trim().to_uppercase(),
                    website: website.clone(),
                    parent: parent.clone(),
                },
                o.deny_warnings,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn award() -> AwardInput {
        AwardInput {
            tier: "gold".into(),
            date: "2024-06-01".into(),
            evidence: Evidence {
                units: Some(80_000),
                shipments: vec![("DE".into(), 41_000), ("AT".into(), 39_000)],
                source: Some("https://example.org/news".into()),
            },
            scale: None,
            note: None,
        }
    }

    #[test]
    fn appends_without_touching_the_rest() {
        let text = "title = \"X\"  # the title\n\n# first\n[[awards]]\ntier = \"silver\"\ndate = \"2021\"\nunits =   20_000 # so\n";
        let out = append_award(text, &award()).unwrap();
        assert_eq!(
            out,
            format!(
                "{text}\n[[awards]]\ntier = \"gold\"\ndate = 2024-06-01\nunits = 80_000\n\
                 shipments = {{ DE = 41_000, AT = 39_000 }}\nsource = \"https://example.org/news\"\n"
            )
        );
    }

    #[test]
    fn appends_in_the_file_s_line_endings() {
        let text = "title = \"X\"\r\n\r\n[[awards]]\r\ntier = \"silver\"\r\ndate = \"2021\"\r\n";
        let out = append_award(text, &award()).unwrap();
        assert!(out.starts_with(text), "{out}");
        assert!(
            out[text.len()..].starts_with("\r\n[[awards]]\r\ntier = \"gold\"\r\n"),
            "{out:?}"
        );
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    }

    #[test]
    fn appends_after_a_missing_final_newline() {
        let text = "title = \"X\"\n[[awards]]\ntier = \"silver\"\ndate = \"2021\"";
        let out = append_award(text, &award()).unwrap();
        assert!(out.starts_with(text), "{out}");
        assert!(out[text.len()..].starts_with("\n\n[[awards]]\n"), "{out}");
    }

    #[test]
    fn dates_and_units() {
        assert_eq!(date_value("2021-06-02").to_string(), "2021-06-02");
        assert_eq!(date_value("2021-06").to_string(), "\"2021-06\"");
        assert_eq!(date_value("yesterday").to_string(), "\"yesterday\"");
        assert_eq!(units_value(1_234_567).to_string(), "1_234_567");
        assert_eq!(underscored(999), "999");
    }
}
