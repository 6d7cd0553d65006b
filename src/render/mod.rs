//! Renders the indexed archive into the files of the site.

pub mod charts;
pub mod data;
pub mod escape;
pub mod feeds;
pub mod markdown;
pub mod search;
pub mod share;
pub mod sitemap;
pub mod theme;
pub mod views;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;
use tera::Context;

use crate::diagnostics::Diagnostic;
use crate::index::{AwardRef, Index};
pub use theme::Theme;
use views::{Link, Views, year_path};

/// One file of the output, by its path relative to the output folder ('/'-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Where rendered files go, as each is made (from any thread): the staging
/// folder of a publish, or memory for `serve` and tests.
pub trait Sink: Sync {
    /// Takes one file; `path` is relative to the output folder, '/'-separated.
    fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), Box<Diagnostic>>;

    /// Takes one file made of `parts`, in order. A long list page (a
    /// country's 30,000 rows at 100,000 releases) goes to its file without
    /// its rows being joined into one buffer first.
    fn put_parts(&self, path: &str, parts: &[&[u8]]) -> Result<(), Box<Diagnostic>> {
        self.put(path, parts.concat())
    }
}

/// A [`Sink`] that keeps every file in memory.
#[derive(Default)]
pub struct Collect(std::sync::Mutex<Vec<OutFile>>);

impl Collect {
    /// The files put, sorted by path.
    pub fn into_files(self) -> Vec<OutFile> {
        let mut files = self
            .0
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }
}

impl Sink for Collect {
    fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), Box<Diagnostic>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(OutFile {
                path: path.to_string(),
                bytes,
            });
        Ok(())
    }
}

/// Which files a render makes: every one (`None`), or those whose output
/// path passes the test. `serve` re-renders only what an edit touches; a
/// partial render writes no sitemap (it depends on the whole set of pages).
pub type Only<'a> = Option<&'a (dyn Fn(&str) -> bool + Sync)>;

/// Path of the search bundle's entry file: a partial render builds the search
/// index only when `only` accepts it.
pub const SEARCH_ENTRY: &str = "pagefind/pagefind-entry.json";

/// Site-wide values every template gets as `site`.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub title: String,
    pub description: String,
    pub language: String,
    /// Path prefix of every internal link, e.g. "/" or "/awards/".
    pub base: String,
    /// Absolute base URL, ending in '/'.
    pub base_url: String,
    /// Free pages for the navigation, by weight.
    pub pages: Vec<Link>,
    pub releases: usize,
    pub awards: usize,
    pub labels: usize,
    pub artists: usize,
    pub data_licence: Option<String>,
}

/// The path part of an absolute URL, always starting and ending with '/'.
pub fn base_path(base_url: &str) -> String {
    let after_scheme = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    format!("/{}/", path.trim_matches('/')).replace("//", "/")
}

/// A page to render: output folder path, template, and its own context values.
struct Job {
    path: String,
    template: &'static str,
    title: String,
    context: Context,
    /// A part rendered ahead (see [`RowRenderer::rows`]) failed.
    error: Option<Box<Diagnostic>>,
    /// Rows to put where the page shows [`SPLICE_MARK`], by context key.
    spliced: Option<(&'static str, Vec<RowsPart>)>,
}

/// A piece of a list's rows, spliced into its page as it is written.
enum RowsPart {
    /// Text shared with other pages: an award's row, or the part of a
    /// release's country row before or after its units.
    Row(std::sync::Arc<str>),
    /// Rows rendered for this page alone.
    Chunk(String),
}

impl RowsPart {
    fn as_str(&self) -> &str {
        match self {
            RowsPart::Row(s) => s,
            RowsPart::Chunk(s) => s,
        }
    }

    /// `parts` as one string, for a template that gets them as a value.
    fn join(parts: &[RowsPart]) -> String {
        parts.iter().map(RowsPart::as_str).collect()
    }
}

/// The rows of an award table (`award_table.html` shows them).
const AWARD_ROWS: &str = "award_rows.html";

/// Rows per render of a long list (see [`RowRenderer::rows`]).
const ROW_CHUNK: usize = 256;

/// What rendering a list's rows needs: the theme and the site-wide context.
#[derive(Clone, Copy)]
struct RowRenderer<'a> {
    theme: &'a Theme,
    site: &'a Context,
}

impl RowRenderer<'_> {
    /// Renders `template` (a loop over `key`) once per chunk of `items`, in
    /// parallel, and joins the parts: the same HTML as one loop over every
    /// item, but a long list (a tier's 50,000 awards) no longer renders on one
    /// thread nor becomes one huge tree of template values.
    fn rows<T: Serialize + Sync>(
        self,
        template: &'static str,
        key: &'static str,
        items: &[T],
    ) -> Result<String, Box<Diagnostic>> {
        Ok(self.parts(template, key, items)?.concat())
    }

    /// [`RowRenderer::rows`] as the rendered chunks, not yet joined.
    fn parts<T: Serialize + Sync>(
        self,
        template: &'static str,
        key: &'static str,
        items: &[T],
    ) -> Result<Vec<String>, Box<Diagnostic>> {
        self.parts_with(template, items, |ctx, chunk| ctx.insert(key, chunk))
    }

    /// [`RowRenderer::parts`] for rows that are template values already.
    fn value_parts(
        self,
        template: &'static str,
        key: &'static str,
        items: &[tera::Value],
    ) -> Result<Vec<RowsPart>, Box<Diagnostic>> {
        let parts = self.parts_with(template, items, |ctx, chunk| {
            ctx.insert_value(key, tera::Value::from(chunk));
        })?;
        Ok(parts.into_iter().map(RowsPart::Chunk).collect())
    }

    fn parts_with<T: Sync>(
        self,
        template: &'static str,
        items: &[T],
        put: impl Fn(&mut Context, &[T]) + Sync,
    ) -> Result<Vec<String>, Box<Diagnostic>> {
        items
            .par_chunks(ROW_CHUNK)
            .map(|chunk| {
                let mut ctx = self.site.clone();
                put(&mut ctx, chunk);
                self.theme.render(template, &ctx)
            })
            .collect()
    }
}

/// Each release's [`views::ReleaseSummary`] as a template value, made the
/// first time a list shows the release and shared by every other list that
/// shows it: its label, parent label, artist and country pages (650,000
/// country rows at 100,000 releases). Template values are reference-counted,
/// so sharing one copies nothing.
struct SummaryValues<'v, 'i> {
    views: &'v Views<'v, 'i>,
    cells: Vec<std::sync::OnceLock<tera::Value>>,
}

impl<'v, 'i> SummaryValues<'v, 'i> {
    fn new(views: &'v Views<'v, 'i>) -> Self {
        let cells = (0..views.index.releases.len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        SummaryValues { views, cells }
    }

    /// The summary of release `ri`.
    fn one(&self, ri: usize) -> tera::Value {
        self.cells[ri]
            .get_or_init(|| {
                // A summary is strings and numbers: it always converts.
                tera::Value::try_from_serializable(&self.views.release_summary(ri))
                    .unwrap_or_else(|_| tera::Value::none())
            })
            .clone()
    }

    /// The summaries of `releases`, in that order, as one list.
    fn list(&self, releases: &[usize]) -> tera::Value {
        tera::Value::from(releases.iter().map(|&ri| self.one(ri)).collect::<Vec<_>>())
    }
}

/// Stands in the page's context for rows spliced in after it renders (see
/// [`Job::with_rows_spliced`]): a control character no page otherwise holds,
/// and a `&` that HTML escaping would change, so the mark is found only where
/// the template shows the value unescaped (`| safe`), as it does the rows.
const SPLICE_MARK: &str = "\u{1}impala-awards-rows&\u{1}";

/// The list pages' rows of one render, kept for the next render of the same
/// site (`serve`): a row of a release whose record did not change is the
/// same text, as long as nothing site-wide changed (site.toml, theme, a
/// label, the set of artists: what makes `serve` render everything).
/// Rendering the rows again was most of an edit's list pages.
#[derive(Default)]
pub struct RowMemo {
    /// By release slug: each award's row, by the award's place in the record.
    awards: std::collections::HashMap<String, Vec<Option<std::sync::Arc<str>>>>,
    /// By release slug: its country row, split where its units go.
    countries: std::collections::HashMap<String, [std::sync::Arc<str>; 2]>,
}

impl RowMemo {
    /// Forgets every row: before a render of everything, whose site-wide
    /// context may have changed.
    pub fn clear(&mut self) {
        self.awards.clear();
        self.countries.clear();
    }

    /// Forgets the rows of the releases whose records changed.
    pub fn forget<'s>(&mut self, slugs: impl IntoIterator<Item = &'s str>) {
        for slug in slugs {
            self.awards.remove(slug);
            self.countries.remove(slug);
        }
    }

    /// The row held of release `slug`'s award at `award` (its place in the record).
    pub fn award(&self, slug: &str, award: usize) -> Option<&std::sync::Arc<str>> {
        self.awards.get(slug)?.get(award)?.as_ref()
    }

    fn keep_award(&mut self, slug: &str, award: usize, row: std::sync::Arc<str>) {
        if !self.awards.contains_key(slug) {
            self.awards.insert(slug.to_string(), Vec::new());
        }
        if let Some(rows) = self.awards.get_mut(slug) {
            if rows.len() <= award {
                rows.resize(award + 1, None);
            }
            rows[award] = Some(row);
        }
    }
}

/// A row and whether this render made it (else it came from the [`RowMemo`]).
type Made = (std::sync::Arc<str>, bool);

/// The cells a render filled itself (not from the [`RowMemo`]), by position.
fn made_here<T: Clone>(
    cells: &[std::sync::OnceLock<(T, bool)>],
) -> impl Iterator<Item = (usize, T)> + '_ {
    cells
        .iter()
        .enumerate()
        .filter_map(|(i, cell)| match cell.get() {
            Some((made, true)) => Some((i, made.clone())),
            _ => None,
        })
}

/// A country row split where its units go (`None`: the template does not
/// show them exactly once), and whether this render made it.
type MadeHalves = (Option<[std::sync::Arc<str>; 2]>, bool);

/// The HTML of each award's row in `award_rows.html`, rendered the first time
/// a page lists the award and reused by every other page that lists it: an
/// award appears on its tier, year, label (and parent label) and artist pages,
/// and rendering its row once instead of five or six times was a third of the
/// list pages' cost. `award_rows.html` therefore renders one row at a time
/// (its loop over `rows` gets one row; the rows are joined as they are).
struct AwardRowsHtml<'a, 'v, 'i> {
    rows: RowRenderer<'a>,
    views: &'v Views<'v, 'i>,
    index: &'v Index<'i>,
    /// The last render's rows, still true (see [`RowMemo`]).
    memo: Option<&'v RowMemo>,
    /// By position in [`Views::all_rows`], which is that of `index.awards`.
    cells: Vec<std::sync::OnceLock<Made>>,
}

impl<'a, 'v, 'i> AwardRowsHtml<'a, 'v, 'i> {
    fn new(
        rows: RowRenderer<'a>,
        views: &'v Views<'v, 'i>,
        index: &'v Index<'i>,
        memo: Option<&'v RowMemo>,
    ) -> Self {
        let cells = (0..views.all_rows().len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        AwardRowsHtml {
            rows,
            views,
            index,
            memo,
            cells,
        }
    }

    /// The row of the award at position `i`.
    fn one(&self, i: usize) -> Result<&std::sync::Arc<str>, Box<Diagnostic>> {
        let cell = &self.cells[i];
        if let Some((html, _)) = cell.get() {
            return Ok(html);
        }
        let a = &self.index.awards[i];
        let slug = &self.index.releases[a.release].slug;
        if let Some(row) = self.memo.and_then(|m| m.award(slug, a.award)) {
            return Ok(&cell.get_or_init(|| (row.clone(), false)).0);
        }
        let html = self.rows.rows(
            AWARD_ROWS,
            "rows",
            std::slice::from_ref(&self.views.all_rows()[i]),
        )?;
        // Two threads may render the same row at once; both get the same bytes.
        Ok(&cell.get_or_init(|| (html.into(), true)).0)
    }

    /// The rows this render made, for the [`RowMemo`], by position in
    /// `index.awards`.
    fn made(&self) -> Vec<(usize, std::sync::Arc<str>)> {
        made_here(&self.cells).collect()
    }

    /// The rows of `awards`, in that order, shared with the cache: a page's
    /// rows are never joined, they go to its file one after another.
    fn parts(&self, awards: &[AwardRef]) -> Result<Vec<RowsPart>, Box<Diagnostic>> {
        let positions: Vec<usize> = awards
            .iter()
            .filter_map(|a| self.views.row_index(a))
            .collect();
        positions
            .par_iter()
            .with_min_len(ROW_CHUNK)
            .map(|&i| self.one(i).map(|row| RowsPart::Row(row.clone())))
            .collect()
    }
}

/// Stands in for a country row's units when the row is rendered once for
/// every country (see [`CountryRowsHtml`]): a control character no record
/// holds (tera escapes none of it).
const UNITS_MARK: &str = "\u{1}impala-awards-units\u{1}";

/// The rows of the country pages (`country_rows.html`, one row per release
/// with its units in the country). A release's row is the same on each of
/// its countries' pages but for the units (650,000 rows for 100,000
/// releases, 6.5 per release): with the default theme's template, whose units are
/// shown once and escaped, each release's row renders once, around a mark,
/// and each page puts its units in between. A site's own `country_rows.html`
/// renders every row as it says.
struct CountryRowsHtml<'a, 'v, 'i> {
    rows: RowRenderer<'a>,
    summaries: &'v SummaryValues<'v, 'i>,
    /// Whether rows render once per release (the default template).
    shared: bool,
    index: &'v Index<'i>,
    /// The last render's rows, still true (see [`RowMemo`]).
    memo: Option<&'v RowMemo>,
    /// By release: the row's text before and after its units (`None` when
    /// the mark is not shown exactly once), and whether this render made it.
    cells: Vec<std::sync::OnceLock<MadeHalves>>,
    /// The text after the units that most rows share, kept once.
    common_tail: std::sync::OnceLock<std::sync::Arc<str>>,
}

impl<'a, 'v, 'i> CountryRowsHtml<'a, 'v, 'i> {
    const TEMPLATE: &'static str = "country_rows.html";

    fn new(
        rows: RowRenderer<'a>,
        summaries: &'v SummaryValues<'v, 'i>,
        index: &'v Index<'i>,
        memo: Option<&'v RowMemo>,
    ) -> Self {
        CountryRowsHtml {
            rows,
            summaries,
            shared: rows.theme.is_default(Self::TEMPLATE),
            index,
            memo,
            cells: (0..index.releases.len())
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            common_tail: std::sync::OnceLock::new(),
        }
    }

    /// The rows this render made, for the [`RowMemo`], by release.
    fn made(&self) -> Vec<(usize, [std::sync::Arc<str>; 2])> {
        made_here(&self.cells)
            .filter_map(|(ri, halves)| Some((ri, halves?)))
            .collect()
    }

    /// The template value of one row.
    fn row(&self, ri: usize, units: tera::Value) -> tera::Value {
        tera::Value::from(BTreeMap::from([
            ("release", self.summaries.one(ri)),
            ("units", units),
        ]))
    }

    /// Release `ri`'s row, split where its units go.
    fn halves(&self, ri: usize) -> Result<Option<&[std::sync::Arc<str>; 2]>, Box<Diagnostic>> {
        if let Some((halves, _)) = self.cells[ri].get() {
            return Ok(halves.as_ref());
        }
        let slug = self.index.releases[ri].slug.as_str();
        if let Some(halves) = self.memo.and_then(|m| m.countries.get(slug)) {
            return Ok(self.cells[ri]
                .get_or_init(|| (Some(halves.clone()), false))
                .0
                .as_ref());
        }
        let rows = [self.row(ri, UNITS_MARK.into())];
        let html = RowsPart::join(&self.rows.value_parts(Self::TEMPLATE, "releases", &rows)?);
        let mut pieces = html.split(UNITS_MARK);
        let halves = match (pieces.next(), pieces.next(), pieces.next()) {
            (Some(head), Some(tail), None) => {
                let common = self.common_tail.get_or_init(|| tail.into());
                let tail = if **common == *tail {
                    common.clone()
                } else {
                    tail.into()
                };
                Some([head.into(), tail])
            }
            _ => None,
        };
        Ok(self.cells[ri].get_or_init(|| (halves, true)).0.as_ref())
    }

    /// The rows of `releases` (release, units in the country), in order.
    fn parts(&self, releases: &[(usize, u64)]) -> Result<Vec<RowsPart>, Box<Diagnostic>> {
        if self.shared {
            let rows: Option<Vec<[RowsPart; 3]>> = releases
                .par_iter()
                .with_min_len(ROW_CHUNK)
                .map(|&(ri, units)| {
                    Ok(self.halves(ri)?.map(|[head, tail]| {
                        [
                            RowsPart::Row(head.clone()),
                            // Digits and commas: nothing to escape.
                            RowsPart::Chunk(crate::config::fmt_units(units)),
                            RowsPart::Row(tail.clone()),
                        ]
                    }))
                })
                .collect::<Result<_, Box<Diagnostic>>>()?;
            if let Some(rows) = rows {
                return Ok(rows.into_iter().flatten().collect());
            }
        }
        let rows: Vec<tera::Value> = releases
            .iter()
            .map(|&(ri, units)| self.row(ri, crate::config::fmt_units(units).into()))
            .collect();
        self.rows.value_parts(Self::TEMPLATE, "releases", &rows)
    }
}

/// A page whose context is built when it renders.
type LazyJob<'a> = Box<dyn Fn() -> Job + Send + Sync + 'a>;

fn job(path: String, template: &'static str, title: impl Into<String>) -> Job {
    Job {
        path,
        template,
        title: title.into(),
        context: Context::new(),
        error: None,
        spliced: None,
    }
}

impl Job {
    fn with<T: Serialize + ?Sized>(mut self, key: &'static str, value: &T) -> Self {
        self.context.insert(key, value);
        self
    }

    /// [`Job::with`] for a template value made ahead.
    fn with_value(mut self, key: &'static str, value: tera::Value) -> Self {
        self.context.insert_value(key, value);
        self
    }

    /// Adds `key`: the rows of `awards` in `award_rows.html`.
    fn with_award_rows(
        self,
        cache: &AwardRowsHtml<'_, '_, '_>,
        key: &'static str,
        awards: &[AwardRef],
    ) -> Self {
        self.with_parts(key, cache.parts(awards))
    }

    /// Adds `key`: rows rendered ahead, to be spliced in where the page shows
    /// them (see [`SPLICE_MARK`]), or the first error of the page. No rows
    /// are an empty string, as a template testing `{% if key %}` expects; a
    /// page splices one key, any other gets its rows joined.
    fn with_parts(
        mut self,
        key: &'static str,
        parts: Result<Vec<RowsPart>, Box<Diagnostic>>,
    ) -> Self {
        match parts {
            Ok(parts) if parts.iter().all(|p| p.as_str().is_empty()) => {
                self.context.insert(key, "");
            }
            Ok(parts) if self.spliced.is_some() => {
                self.context.insert(key, &RowsPart::join(&parts));
            }
            Ok(parts) => {
                self.context.insert(key, SPLICE_MARK);
                self.spliced = Some((key, parts));
            }
            Err(e) => self.error = self.error.or(Some(e)),
        }
        self
    }

    /// [`RowRenderer::rows`] for a very long list (every award of the archive,
    /// 120 MB of rows at 100,000 releases): the page renders around a mark
    /// and the rows go to its file after the part before the mark, instead
    /// of being copied into a template value and again through the template.
    fn with_rows_spliced<T: Serialize + Sync>(
        self,
        r: RowRenderer<'_>,
        key: &'static str,
        template: &'static str,
        item_key: &'static str,
        items: &[T],
    ) -> Self {
        let parts = r.parts(template, item_key, items);
        self.with_parts(
            key,
            parts.map(|ps| ps.into_iter().map(RowsPart::Chunk).collect()),
        )
    }
}

/// Renders every file of the site into `sink`, each as soon as it is made, and
/// returns their paths, sorted. Errors (template problems, a sink that cannot
/// write) are diagnostics.
///
/// `search_cache` names a file where the search index is kept between builds:
/// pagefind indexing is the slowest step, and most builds do not change what
/// is searched. `memo` holds the last render's rows (see [`RowMemo`]), which
/// its caller has pruned of what changed; it gets the rows made here.
pub fn render_site(
    index: &Index<'_>,
    theme: &Theme,
    base_url: &str,
    search_cache: Option<&std::path::Path>,
    sink: &dyn Sink,
    only: Only<'_>,
    memo: Option<&mut RowMemo>,
) -> Result<Vec<String>, Vec<Diagnostic>> {
    // Pages render on a pool of their own while Pagefind, on the global pool,
    // indexes (beside the release pages, see `render_pages`): each fills the
    // cores the other leaves idle in its serial parts.
    let pool = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("render-{i}"))
        .build()
        .map_err(|e| {
            vec![Diagnostic::error(
                "render",
                format!("cannot start the render threads: {e}"),
            )]
        })?;
    std::thread::scope(|scope| {
        let (facets_tx, facets_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let search = scope.spawn(move || {
            // Indexing waits for `render_pages` to say go (after the list pages
            // and the open data; at once in a partial build); a render that
            // stopped early drops the sender, which also lets it go.
            let _ = go_rx.recv();
            // An edit of nothing searched keeps the bundle and the search page.
            if !only.is_none_or(|f| f(SEARCH_ENTRY) || f("search/index.html")) {
                return Ok(Vec::new());
            }
            let records = search::records(index);
            let _ = facets_tx.send(search::facets(index, &records));
            crate::timings::mark("search records");
            if !only.is_none_or(|f| f(SEARCH_ENTRY)) {
                return Ok(Vec::new());
            }
            let bundle = search::bundle_cached(records, search_cache);
            crate::timings::mark("search index");
            bundle
        });
        let search = SearchJob {
            go: go_tx,
            facets: facets_rx,
            handle: search,
        };
        pool.install(|| render_pages(index, theme, base_url, sink, only, search, memo))
    })
}

type SearchBundle = Result<Vec<OutFile>, Box<Diagnostic>>;

/// The search indexer's thread, as [`render_pages`] drives it.
struct SearchJob<'s> {
    /// Starts the indexer.
    go: std::sync::mpsc::Sender<()>,
    /// The search page's filter values, once the records are made.
    facets: std::sync::mpsc::Receiver<search::SearchFacets>,
    handle: std::thread::ScopedJoinHandle<'s, SearchBundle>,
}

/// [`render_site`] but the search index, which `search` builds meanwhile.
fn render_pages(
    index: &Index<'_>,
    theme: &Theme,
    base_url: &str,
    sink: &dyn Sink,
    only: Only<'_>,
    search: SearchJob<'_>,
    memo: Option<&mut RowMemo>,
) -> Result<Vec<String>, Vec<Diagnostic>> {
    // A partial build renders few list pages and holds little: its search
    // index (when the edit changes what is searched) starts at once.
    if only.is_some() {
        let _ = search.go.send(());
    }
    let mut views = Views::new(index);
    views.base = base_path(base_url);
    crate::timings::mark("views");
    let config = index.config;
    let site = SiteView {
        title: config.title.clone(),
        description: config.description.clone(),
        language: config.language.clone(),
        base: base_path(base_url),
        base_url: base_url.to_string(),
        pages: index
            .pages
            .iter()
            .map(|p| Link {
                name: p.title.clone(),
                url: format!("{}/", p.slug),
            })
            .collect(),
        releases: index.releases.len(),
        awards: index.awards.len(),
        labels: index.labels.len(),
        artists: index.by_artist.len(),
        data_licence: config.data_licence.clone(),
    };
    let tiers = views.tier_summaries();
    let years = views.year_summaries();
    let mut site_ctx = Context::new();
    site_ctx.insert("site", &site);
    // Each tier's badge, rendered once by the theme's `badge.html` (which sees
    // `tier` and `site`): rows show it by rank (`badges[rank] | safe`) instead
    // of including the template per row, a third of a country page's rows.
    let badges = (0..config.tiers.tiers().len())
        .map(|rank| {
            let mut c = site_ctx.clone();
            c.insert("tier", &views.badge(rank));
            theme.render("badge.html", &c)
        })
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| vec![*e])?;
    site_ctx.insert("badges", &badges);
    let rr = RowRenderer {
        theme,
        site: &site_ctx,
    };
    let award_rows_cache = AwardRowsHtml::new(rr, &views, index, memo.as_deref());
    let summaries_cache = SummaryValues::new(&views);
    let country_rows_cache = CountryRowsHtml::new(rr, &summaries_cache, index, memo.as_deref());
    let (award_rows, summaries) = (&award_rows_cache, &summaries_cache);
    let country_rows = &country_rows_cache;

    // Every page is described by its folder and a closure that builds its
    // context inside the parallel render, so contexts exist only while their
    // page renders (holding them all cost memory and a serial pass), and a
    // partial render (`only`) builds none it skips.
    let (views_r, tiers_r, years_r) = (&views, &tiers, &years);
    let mut lazy: Vec<(String, LazyJob<'_>)> = Vec::new();
    lazy.push((
        "stats/".into(),
        Box::new(move || {
            job("stats/".into(), "stats.html", "Statistics")
                .with("charts", &charts::site_charts(index))
        }),
    ));
    lazy.push((
        String::new(),
        Box::new(move || {
            let latest = &index.awards[..index.awards.len().min(12)];
            job(String::new(), "index.html", &config.title)
                .with_award_rows(award_rows, "latest_html", latest)
                .with("tiers", tiers_r)
                .with("years", years_r)
        }),
    ));
    lazy.push((
        "awards/".into(),
        Box::new(move || {
            let table = data::awards_table(views_r);
            job("awards/".into(), "awards.html", "All awards")
                .with("table", &table)
                .with_rows_spliced(rr, "rows_html", "awards_rows.html", "rows", &table.rows)
        }),
    ));
    lazy.push((
        "tiers/".into(),
        Box::new(move || job("tiers/".into(), "tiers.html", "Tiers").with("tiers", tiers_r)),
    ));
    for (rank, t) in tiers.iter().enumerate() {
        lazy.push((
            views::tier_path(&t.badge.tier.id),
            Box::new(move || {
                let awards = index.by_tier.get(rank).map(Vec::as_slice).unwrap_or(&[]);
                job(
                    views::tier_path(&t.badge.tier.id),
                    "tier.html",
                    &t.badge.tier.name,
                )
                .with(
                    "feeds",
                    &[feeds::tier_feed(&t.badge.tier.name, &t.badge.tier.id)],
                )
                .with("tier", t)
                .with_award_rows(award_rows, "awards_html", awards)
            }),
        ));
    }
    lazy.push((
        "labels/".into(),
        Box::new(move || {
            job("labels/".into(), "labels.html", "Labels")
                .with("labels", &views_r.label_summaries())
        }),
    ));
    for (slug, e) in &index.by_label {
        let views = views_r;
        lazy.push((
            views::label_path(slug),
            Box::new(move || {
                let l = index.labels[e.label];
                let imprints: Vec<Link> =
                    e.imprints.iter().map(|&i| views.label_link_at(i)).collect();
                let parent = l.parent.as_ref().and_then(|p| {
                    index
                        .by_label
                        .get(&p.value)
                        .map(|pe| views.label_link_at(pe.label))
                });
                job(views::label_path(slug), "label.html", &l.name.value)
                    .with("feeds", &[feeds::label_feed(index, slug)])
                    .with("share", &share::label(index, slug, e, base_url))
                    .with(
                        "label",
                        &LabelView {
                            name: &l.name.value,
                            country: &l.country.value,
                            country_name: crate::iso::country_name(&l.country.value).unwrap_or(""),
                            website: l.website.as_ref().map(|w| w.value.as_str()),
                            aliases: l.aliases.iter().map(|a| a.value.as_str()).collect(),
                            parent,
                            imprints,
                            own_awards: e.awards.len(),
                        },
                    )
                    .with_value("releases", summaries.list(&e.releases))
                    .with("awards_count", &e.awards_with_imprints.len())
                    .with_award_rows(award_rows, "awards_html", &e.awards_with_imprints)
                    .with(
                        "charts",
                        &charts::subject_charts(index, &e.awards_with_imprints, &l.name.value),
                    )
            }),
        ));
    }
    lazy.push((
        "years/".into(),
        Box::new(move || {
            job("years/".into(), "years.html", "Years")
                .with("years", years_r)
                .with("tiers", tiers_r)
        }),
    ));
    for (y, awards) in &index.by_year {
        lazy.push((
            year_path(*y),
            Box::new(move || {
                let summary = years_r.iter().find(|s| s.year == *y);
                job(year_path(*y), "year.html", format!("Awards of {y}"))
                    .with("year", &summary)
                    .with("tiers", tiers_r)
                    .with_award_rows(award_rows, "awards_html", awards)
            }),
        ));
    }
    lazy.push((
        "artists/".into(),
        Box::new(move || {
            job("artists/".into(), "artists.html", "Artists")
                .with("artists", &views_r.artist_summaries())
        }),
    ));
    for a in index.by_artist.values() {
        lazy.push((
            views::artist_path(&a.slug),
            Box::new(move || {
                job(views::artist_path(&a.slug), "artist.html", &a.name)
                    .with("share", &share::artist(index, a, base_url))
                    .with("artist", &ArtistView { name: &a.name })
                    .with("charts", &charts::subject_charts(index, &a.awards, &a.name))
                    .with_value("releases", summaries.list(&a.releases))
                    .with_award_rows(award_rows, "awards_html", &a.awards)
            }),
        ));
    }
    lazy.push((
        "countries/".into(),
        Box::new(move || {
            job("countries/".into(), "countries.html", "Countries")
                .with("countries", &views_r.country_summaries())
        }),
    ));
    for (code, e) in &index.by_country {
        lazy.push((
            views::country_path(code),
            Box::new(move || {
                let name = crate::iso::country_name(code).unwrap_or(code);
                job(views::country_path(code), "country.html", name)
                    .with(
                        "country",
                        &CountryView {
                            code,
                            name,
                            units: crate::config::fmt_units(e.units),
                        },
                    )
                    .with_parts("releases_html", country_rows.parts(&e.releases))
            }),
        ));
    }
    let site_base = &site.base;
    for p in &index.pages {
        lazy.push((
            format!("{}/", p.slug),
            Box::new(move || {
                job(format!("{}/", p.slug), "page.html", &p.title)
                    .with("content_html", &markdown::to_html_under(&p.body, site_base))
            }),
        ));
    }
    // A renamed release keeps its published links: a redirect page at each former slug.
    for r in &index.releases {
        for alias in &r.aliases {
            lazy.push((
                views::release_path(&alias.value),
                Box::new(move || {
                    job(
                        views::release_path(&alias.value),
                        "redirect.html",
                        &r.title.value,
                    )
                    .with("target", &views::release_path(&r.slug))
                }),
            ));
        }
    }
    // Release pages are the bulk: build their views inside the parallel loop.
    let release_jobs: Vec<usize> = (0..index.releases.len()).collect();
    let release_awards = data::awards_by_release(index);

    let wanted = |path: &str| only.is_none_or(|f| f(path));
    // What each rendered file leaves behind: its path, and for an indexable
    // HTML page its sitemap path.
    struct Written {
        path: String,
        sitemap: Option<String>,
    }
    let sitemap_path = |path: &str, head: &[u8]| {
        (path == "index.html" || path.ends_with("/index.html"))
            .then(|| path[..path.len() - "index.html".len()].to_string())
            .filter(|_| !sitemap::is_noindex(head))
    };
    let put = |path: String, bytes: Vec<u8>| -> Result<Written, Box<Diagnostic>> {
        let sitemap = sitemap_path(&path, &bytes);
        sink.put(&path, bytes)?;
        Ok(Written { path, sitemap })
    };
    // The head, where a page says noindex, is in the first part.
    let put_parts = |path: String, parts: &[&[u8]]| -> Result<Written, Box<Diagnostic>> {
        let sitemap = sitemap_path(&path, parts.first().copied().unwrap_or_default());
        sink.put_parts(&path, parts)?;
        Ok(Written { path, sitemap })
    };
    let render_one = |j: Job| -> Result<Written, Box<Diagnostic>> {
        if let Some(e) = j.error {
            return Err(e);
        }
        let mut ctx = site_ctx.clone();
        ctx.insert("page_title", &j.title);
        ctx.insert("path", &j.path);
        ctx.extend(j.context);
        let html = theme.render_bytes(j.template, &ctx)?;
        let path = format!("{}index.html", j.path);
        let Some((key, parts)) = j.spliced else {
            return put(path, html);
        };
        let mut marks = memchr::memmem::find_iter(&html, SPLICE_MARK.as_bytes());
        match (marks.next(), marks.next()) {
            (Some(at), None) => {
                let mut bytes: Vec<&[u8]> = Vec::with_capacity(parts.len() + 2);
                bytes.push(&html[..at]);
                bytes.extend(parts.iter().map(|p| p.as_str().as_bytes()));
                bytes.push(&html[at + SPLICE_MARK.len()..]);
                put_parts(path, &bytes)
            }
            // A theme that shows the rows twice, or not at all (or a record
            // holding the mark): render the ordinary way.
            _ => {
                ctx.insert(key, &RowsPart::join(&parts));
                put(path, theme.render_bytes(j.template, &ctx)?)
            }
        }
    };
    crate::timings::mark("page jobs");
    let mut results: Vec<Result<Written, Box<Diagnostic>>> = lazy
        .into_par_iter()
        .filter(|(path, _)| wanted(&format!("{path}index.html")))
        .map(|(_, f)| render_one(f()))
        .collect();
    crate::timings::mark("list pages");
    // The search index is made beside the release pages, once the open data
    // is written: its memory then adds to theirs (a page and its file at a
    // time) instead of to the list pages' shared rows and summaries, which go
    // first, or to the open data's every award.
    let made = memo
        .is_some()
        .then(|| (award_rows_cache.made(), country_rows_cache.made()));
    drop(award_rows_cache);
    drop(country_rows_cache);
    if let (Some(memo), Some((awards, countries))) = (memo, made) {
        for (i, row) in awards {
            let a = &index.awards[i];
            memo.keep_award(&index.releases[a.release].slug, a.award, row);
        }
        for (ri, halves) in countries {
            memo.countries
                .insert(index.releases[ri].slug.clone(), halves);
        }
    }
    drop(summaries_cache);
    let go = search.go.clone();
    let want_data = wanted(data::CSV_PATH) || wanted(data::JSON_PATH) || wanted(data::SCHEMA_PATH);
    let release_pages = || {
        release_jobs
            .into_par_iter()
            .flat_map_iter(|ri| {
                let dir = views::release_path(&index.releases[ri].slug);
                let mut out = Vec::new();
                if wanted(&format!("{dir}index.html")) {
                    let view = views.release(ri);
                    out.push(render_one(
                        job(view.url.clone(), "release.html", view.title.clone())
                            .with("release", &view)
                            .with("share", &share::release(index, ri, base_url)),
                    ));
                }
                if wanted(&format!("{dir}{}", data::RELEASE_JSON)) {
                    out.push(
                        data::release_file(index, base_url, ri, &release_awards[ri])
                            .and_then(|f| put(f.path, f.bytes)),
                    );
                }
                out
            })
            .collect::<Vec<_>>()
    };
    // Feeds and the open data are long serial tasks: beside the release
    // pages, not after them, where they left a core idle. Each file is
    // written as it is made.
    let emit = |f: OutFile| wanted(&f.path).then(|| put(f.path, f.bytes));
    let (release_results, (feed_results, data_results)) = rayon::join(release_pages, || {
        rayon::join(
            || feeds::files(index, base_url, wanted, emit),
            || {
                let written = want_data.then(|| data::files(index, base_url, emit));
                crate::timings::mark("open data written");
                let _ = go.send(());
                written
            },
        )
    });
    results.extend(release_results);
    // Nothing after this shows an award: the views go before the search
    // index ends, where its memory peaks.
    drop(views);
    drop(release_awards);
    results.extend(feed_results.into_iter().flatten());
    match data_results {
        Some(Ok(written)) => results.extend(written.into_iter().flatten()),
        Some(Err(d)) => results.push(Err(d)),
        None => {}
    }
    crate::timings::mark("release pages, feeds, open data");
    // The 404 page is a file at the root, not a folder.
    let mut ctx404 = site_ctx.clone();
    ctx404.insert("page_title", "Page not found");
    ctx404.insert("path", "404.html");
    if wanted("404.html") {
        results.push(
            theme
                .render("404.html", &ctx404)
                .and_then(|html| put("404.html".into(), html.into_bytes())),
        );
    }
    let put_all = |files: Vec<OutFile>| -> Vec<Result<Written, Box<Diagnostic>>> {
        files
            .into_par_iter()
            .filter(|f| wanted(&f.path))
            .map(|f| put(f.path, f.bytes))
            .collect()
    };
    results.extend(put_all(theme.static_files()));
    crate::timings::mark("theme files written");
    // The search page lists the filter values, which come with the records.
    let facets = search.facets.recv();
    if wanted("search/index.html") {
        results.push(match facets {
            Ok(f) => render_one(job("search/".into(), "search.html", "Search").with("facets", &f)),
            Err(_) => Err(Box::new(Diagnostic::error(
                "search-index",
                "the search indexer stopped unexpectedly",
            ))),
        });
    }
    match search.handle.join() {
        Ok(Ok(files)) => results.extend(put_all(files)),
        Ok(Err(d)) => results.push(Err(d)),
        Err(_) => results.push(Err(Box::new(Diagnostic::error(
            "search-index",
            "the search indexer stopped unexpectedly",
        )))),
    }

    let mut paths = Vec::with_capacity(results.len() + 2);
    let mut pages = Vec::new();
    let mut errors = BTreeMap::new();
    for r in results {
        match r {
            Ok(w) => {
                paths.push(w.path);
                pages.extend(w.sitemap);
            }
            // One broken template fails many pages the same way: report it once.
            Err(d) => {
                errors.entry(d.message.clone()).or_insert(*d);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors.into_values().collect());
    }
    if only.is_some() {
        paths.sort_unstable();
        return Ok(paths);
    }
    // Last, so the sitemap lists every page rendered above.
    pages.sort_unstable();
    pages.dedup();
    let mut sitemaps = sitemap::sitemaps(base_url, &pages, sitemap::MAX_URLS);
    sitemaps.push(sitemap::robots(base_url));
    for f in sitemaps {
        paths.push(put(f.path, f.bytes).map_err(|d| vec![*d])?.path);
    }
    paths.sort_unstable();
    Ok(paths)
}

#[derive(Serialize)]
struct LabelView<'a> {
    name: &'a str,
    country: &'a str,
    country_name: &'a str,
    website: Option<&'a str>,
    aliases: Vec<&'a str>,
    parent: Option<Link>,
    imprints: Vec<Link>,
    own_awards: usize,
}

#[derive(Serialize)]
struct ArtistView<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct CountryView<'a> {
    code: &'a str,
    name: &'a str,
    units: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths() {
        assert_eq!(base_path("https://example.org/"), "/");
        assert_eq!(base_path("https://example.org"), "/");
        assert_eq!(base_path("https://example.org/awards/"), "/awards/");
        assert_eq!(base_path("https://example.org/a/b"), "/a/b/");
    }
}
