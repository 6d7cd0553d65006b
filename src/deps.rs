//! Which output files an edit of release records touches, so that `serve`
//! and `build` (see `incremental`) re-render only those.
//!
//! A [`Summary`] of each good build is kept: a hash of every source file and,
//! per release, what its data shows up on (its label and the labels above it,
//! its artists, the tiers, years and countries of its awards) with hashes of
//! what each kind of list shows of it. After an edit,
//! [`plan`] compares the summaries of the last good build and of the new tree.
//! Only when nothing but release records changed, and nothing shown on every
//! page (the footer's counts) nor the set of pages changed, does it answer
//! with a [`Scope`]: the changed releases' own pages, the list pages they
//! appear on, before and after the edit, and the pages computed from every
//! record. Anything else is a full render: a wrong guess here would serve a
//! stale page, a needless full render only costs time.
//!
//! What each page shows comes from `render/mod.rs`, `render/views.rs` and the
//! theme's templates; this module must follow them when they change (the
//! tests compare a partial re-render with a full one for every kind of edit).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::records::Release;
use crate::render::data;
use crate::render::feeds::FEED_FILE;
use crate::render::search::BUNDLE_DIR;
use crate::render::views::{
    artist_path, country_path, label_path, release_path, tier_path, year_path,
};
use crate::site::Checked;
use crate::slug::slugify;

/// Folders of the pages computed from every record, whatever changed: the
/// home page's latest awards, the lists and counts of every kind, statistics,
/// the search page's filters.
const SITE_WIDE: [&str; 10] = [
    "",
    "awards/",
    "tiers/",
    "years/",
    "labels/",
    "artists/",
    "countries/",
    "stats/",
    SEARCH_PAGE,
    // Shows only the footer's counts today; cheap, and safe if it ever shows more.
    "404.html",
];

/// The search page: its filters list what is searched.
const SEARCH_PAGE: &str = "search/";

/// What one release's data appears on, as output folders, and hashes of
/// what each kind of list shows of it: a list page need not be rendered
/// again when what it shows of the release is the same before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ReleaseDeps {
    slug: String,
    /// Former slugs: redirect pages that show the title.
    aliases: Vec<String>,
    /// Its label, then each label above it: a label page lists the awards of
    /// its imprints too, however deep.
    labels: Vec<String>,
    /// Artist slugs.
    artists: Vec<String>,
    /// What each award row shows of the release itself: slug, title,
    /// credit, artists as spelt, label, format.
    shown: Digest,
    /// In record order: a row's id counts the awards from 1.
    awards: Vec<AwardDeps>,
    /// Everything a country page shows of the release: the release summary
    /// (`shown`, highest tier, number of awards, latest award's date) and
    /// its latest units per country, which also order the page.
    in_countries: Digest,
    /// Country codes of every shipment of every award.
    countries: Vec<String>,
    /// Everything the search records (of the release, its labels and its
    /// artists) read from it: names, catalogue number, label, format, and
    /// each award's tier, date and countries. Units are not searched.
    searched: Digest,
}

/// Where one award is listed, and what its row shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct AwardDeps {
    /// The tier's configured id (its page's name).
    tier: String,
    year: i32,
    /// Every value of the award; equal keys mean an equal row at the same place.
    key: Digest,
}

/// A blake3 hash, kept in the record `build` leaves as its 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Digest(blake3::Hash);

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.as_bytes().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <[u8; 32]>::deserialize(d).map(|b| Digest(blake3::Hash::from_bytes(b)))
    }
}

/// Adds `text` to `h`, length first, so that no two lists of fields hash alike.
fn field(h: &mut blake3::Hasher, text: &str) {
    h.update(&(text.len() as u64).to_le_bytes());
    h.update(text.as_bytes());
}

/// [`ReleaseDeps`] of `r`; `parent` maps a label's slug to its parent's.
fn release_deps(
    r: &Release,
    config: &Config,
    parent: &HashMap<&str, &str>,
    labels: usize,
) -> ReleaseDeps {
    let mut chain = vec![r.label.value.clone()];
    // Parent chains are checked to be loop-free; bound the walk all the same.
    let mut cur = r.label.value.as_str();
    while let Some(&p) = parent.get(cur) {
        if chain.len() > labels || chain.iter().any(|l| l == p) {
            break;
        }
        chain.push(p.to_string());
        cur = p;
    }
    let mut h = blake3::Hasher::new();
    for f in [
        r.slug.as_str(),
        &r.title.value,
        &r.display_credit(),
        &r.label.value,
        r.format.value.id(),
    ] {
        field(&mut h, f);
    }
    for a in &r.artists.value {
        field(&mut h, &a.value);
    }
    let shown = Digest(h.finalize());
    let awards: Vec<AwardDeps> = r
        .awards
        .iter()
        .map(|a| {
            let tier = config
                .tiers
                .tier(&a.tier.value)
                .map_or_else(|| a.tier.value.clone(), |(_, t)| t.id.clone());
            let mut h = blake3::Hasher::new();
            field(&mut h, &tier);
            field(&mut h, &a.date.value.to_string());
            field(&mut h, &format!("{:?}", a.total_units()));
            for (c, u) in a.shipments.iter().flat_map(|s| &s.value) {
                field(&mut h, &format!("{}={}", c.value, u.value));
            }
            for v in [&a.source, &a.scale, &a.note] {
                match v {
                    Some(v) => {
                        h.update(&[1]);
                        field(&mut h, &v.value);
                    }
                    None => {
                        h.update(&[0]);
                    }
                }
            }
            AwardDeps {
                tier,
                year: a.date.value.year(),
                key: Digest(h.finalize()),
            }
        })
        .collect();
    let mut h = blake3::Hasher::new();
    h.update(shown.0.as_bytes());
    let top = r
        .awards
        .iter()
        .filter_map(|a| config.tiers.tier(&a.tier.value).map(|(rank, _)| rank))
        .max();
    field(&mut h, &format!("{top:?} {}", r.awards.len()));
    field(
        &mut h,
        &r.awards
            .last()
            .map(|a| a.date.value.to_string())
            .unwrap_or_default(),
    );
    // A country's figure is that of the release's latest award that gave one.
    let mut latest: BTreeMap<&str, u64> = BTreeMap::new();
    for (c, u) in r
        .awards
        .iter()
        .filter_map(|a| a.shipments.as_ref())
        .flat_map(|s| &s.value)
    {
        latest.insert(&c.value, u.value);
    }
    for (c, u) in &latest {
        field(&mut h, &format!("{c}={u}"));
    }
    let in_countries = Digest(h.finalize());
    let mut h = blake3::Hasher::new();
    h.update(shown.0.as_bytes());
    field(
        &mut h,
        r.catalogue.as_ref().map_or("", |c| c.value.as_str()),
    );
    for a in &r.awards {
        field(&mut h, &a.tier.value);
        field(&mut h, &a.date.value.to_string());
        for (c, _) in a.shipments.iter().flat_map(|s| &s.value) {
            field(&mut h, &c.value);
        }
        // Ends the award's list of countries.
        h.update(&[0xff]);
    }
    ReleaseDeps {
        slug: r.slug.clone(),
        aliases: r.aliases.iter().map(|a| a.value.clone()).collect(),
        labels: chain,
        artists: r.artists.value.iter().map(|a| slugify(&a.value)).collect(),
        shown,
        awards,
        in_countries,
        countries: latest.keys().map(|c| (*c).to_string()).collect(),
        searched: Digest(h.finalize()),
    }
}

/// The parts of a checked tree that decide what an edit touches. `build`
/// keeps the last one beside the output (see `site::build`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Hash of every source file's text (site.toml and every record), by path.
    sources: HashMap<PathBuf, Digest>,
    /// By record file.
    releases: HashMap<PathBuf, ReleaseDeps>,
    /// Artist, year and country pages: which exist.
    artists: BTreeSet<String>,
    years: BTreeSet<i32>,
    countries: BTreeSet<String>,
    /// Redirect pages.
    aliases: BTreeSet<String>,
    /// Folders site.toml names (static files, theme): read at render time,
    /// not through the records.
    dirs: Vec<PathBuf>,
    /// The first day of the newest award (days from the common era), which
    /// dates every empty feed.
    newest: Option<i32>,
}

impl Summary {
    /// The summary of a loaded tree; `None` without a site.toml.
    pub fn of(checked: &Checked) -> Option<Summary> {
        let loaded = &checked.loaded;
        let config = loaded.config.as_ref()?;
        // On every core: `build` makes one per build (0.6 s on one core at
        // 100,000 releases).
        let sources = loaded
            .sources
            .paths()
            .into_par_iter()
            .map(|p| {
                let text = loaded.sources.get(p).unwrap_or("");
                (p.to_path_buf(), Digest(blake3::hash(text.as_bytes())))
            })
            .collect();
        let parent: HashMap<&str, &str> = loaded
            .labels
            .iter()
            .filter_map(|l| Some((l.slug.as_str(), l.parent.as_ref()?.value.as_str())))
            .collect();
        let mut s = Summary {
            sources,
            releases: HashMap::with_capacity(loaded.releases.len()),
            artists: BTreeSet::new(),
            years: BTreeSet::new(),
            countries: BTreeSet::new(),
            aliases: BTreeSet::new(),
            // Without `.` segments: the watcher's paths have none.
            dirs: config
                .static_dir
                .iter()
                .chain(config.theme.iter())
                .map(|d| {
                    d.components()
                        .filter(|c| !matches!(c, Component::CurDir))
                        .collect()
                })
                .collect(),
            newest: loaded
                .releases
                .par_iter()
                .flat_map_iter(|r| &r.awards)
                .map(|a| chrono::Datelike::num_days_from_ce(&a.date.value.first_day()))
                .max(),
        };
        let deps: Vec<ReleaseDeps> = loaded
            .releases
            .par_iter()
            .map(|r| release_deps(r, config, &parent, loaded.labels.len()))
            .collect();
        for (r, d) in loaded.releases.iter().zip(deps) {
            s.artists.extend(d.artists.iter().cloned());
            s.years.extend(d.awards.iter().map(|a| a.year));
            s.countries.extend(d.countries.iter().cloned());
            s.aliases.extend(d.aliases.iter().cloned());
            s.releases.insert(r.file.clone(), d);
        }
        Some(s)
    }
}

/// The output files a partial render makes.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Output paths, e.g. `releases/x/index.html`.
    paths: HashSet<String>,
    /// Whether what is searched changed: the search bundle and the search
    /// page (its filters) are rendered again.
    search: bool,
    /// Whether the newest award's day changed, which dates every empty feed:
    /// then every feed is rendered again.
    all_feeds: bool,
    /// Slugs of the releases whose records changed.
    edited: BTreeSet<String>,
}

/// Whether `path` is a file of the search bundle.
fn in_bundle(path: &str) -> bool {
    path.strip_prefix(BUNDLE_DIR)
        .is_some_and(|p| p.starts_with('/'))
}

impl Scope {
    /// Slugs of the releases whose records changed: everything else is as
    /// the last build showed it.
    pub fn edited(&self) -> impl Iterator<Item = &str> {
        self.edited.iter().map(String::as_str)
    }

    /// Leaves the search bundle and the search page (whose filters come
    /// from the same records) out of the scope, for a caller that makes them
    /// apart ([`Scope::is_search_file`]; `serve`, after the pages); whether
    /// they were in.
    pub fn take_search(&mut self) -> bool {
        let search = std::mem::take(&mut self.search);
        if search {
            self.paths.remove(&format!("{SEARCH_PAGE}index.html"));
        }
        search
    }

    /// Whether `path` is one of the files [`Scope::take_search`] leaves out.
    pub fn is_search_file(path: &str) -> bool {
        in_bundle(path) || path.strip_prefix(SEARCH_PAGE) == Some("index.html")
    }

    /// Whether the output file `path` must be rendered again.
    pub fn accepts(&self, path: &str) -> bool {
        // The open data and the search bundle are computed from every record.
        // A label's or tier's feed shows what its page shows (an award's
        // countries too, which change the award's key and so its tier page;
        // a label's page is redone for any edit of its releases), but an
        // empty feed is dated by the site's newest award.
        self.paths.contains(path)
            || path.starts_with("data/")
            || (self.search && in_bundle(path))
            || path == FEED_FILE
            || path.strip_suffix(FEED_FILE).is_some_and(|folder| {
                folder.ends_with('/')
                    && (self.all_feeds || self.paths.contains(&format!("{folder}index.html")))
            })
    }

    fn page(&mut self, folder: String) {
        self.paths.insert(format!("{folder}index.html"));
    }

    /// The pages of release `d` itself, and those that show the release
    /// whatever changed in it: its label's (and the labels above), its
    /// artists' (lists, charts, citations).
    fn release(&mut self, d: &ReleaseDeps) {
        let dir = release_path(&d.slug);
        self.paths.insert(format!("{dir}{}", data::RELEASE_JSON));
        self.page(dir);
        for a in &d.aliases {
            self.page(release_path(a));
        }
        for l in &d.labels {
            self.page(label_path(l));
        }
        for a in &d.artists {
            self.page(artist_path(a));
        }
    }

    /// The tier, year and country pages that show what changed from
    /// `before` to `after`: a list whose rows of the release are the same
    /// (same values, same place) is left as it is.
    fn lists(&mut self, before: &ReleaseDeps, after: &ReleaseDeps) {
        let rows_changed = before.shown != after.shown;
        for i in 0..before.awards.len().max(after.awards.len()) {
            let (b, a) = (before.awards.get(i), after.awards.get(i));
            if rows_changed || b.map(|x| x.key) != a.map(|x| x.key) {
                for x in [b, a].into_iter().flatten() {
                    self.page(tier_path(&x.tier));
                    self.page(year_path(x.year));
                }
            }
        }
        if before.in_countries != after.in_countries {
            for c in before.countries.iter().chain(&after.countries) {
                self.page(country_path(c));
            }
        }
    }
}

/// What to render after an edit.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Every file; the reason, for the log.
    Full(String),
    /// No source file changed: the last build stands as it is.
    Unchanged,
    /// Only the files the scope accepts.
    Partial(Scope),
}

/// What must be rendered to bring the build summarised by `old` up to the
/// tree summarised by `new` (which checked without errors). `changed` holds
/// every path the watcher reported since that build, relative to the root;
/// they tell about the theme and static files, which no summary covers.
pub fn plan(old: &Summary, new: &Summary, changed: &BTreeSet<PathBuf>) -> Plan {
    let full = Plan::Full;
    let content = Path::new("content");
    if let Some(p) = changed
        .iter()
        .find(|p| !p.starts_with(content) || new.dirs.iter().any(|d| p.starts_with(d)))
    {
        return full(format!("{} changed", p.display()));
    }
    if old.dirs != new.dirs {
        return full("site.toml changed".into());
    }
    if old.sources.len() != new.sources.len()
        || old.sources.keys().any(|p| !new.sources.contains_key(p))
    {
        return full("a record was added or removed".into());
    }
    let mut edited: Vec<&PathBuf> = new
        .sources
        .iter()
        .filter(|(p, h)| old.sources.get(*p) != Some(*h))
        .map(|(p, _)| p)
        .collect();
    edited.sort();
    if edited.is_empty() {
        return Plan::Unchanged;
    }
    let mut scope = Scope {
        all_feeds: old.newest != new.newest,
        ..Scope::default()
    };
    for p in edited {
        let (Some(before), Some(after)) = (old.releases.get(p), new.releases.get(p)) else {
            return full(format!("{} changed", p.display()));
        };
        if before.slug != after.slug {
            return full(format!("{} changed its slug", p.display()));
        }
        scope.edited.insert(after.slug.clone());
        scope.release(before);
        scope.release(after);
        scope.lists(before, after);
        scope.search |= before.searched != after.searched;
    }
    if old.artists != new.artists {
        return full("an artist page appeared or went".into());
    }
    if old.years != new.years || old.countries != new.countries || old.aliases != new.aliases {
        return full("a year, country or redirect page appeared or went".into());
    }
    for f in SITE_WIDE {
        if f == SEARCH_PAGE && !scope.search {
            continue;
        }
        if f.ends_with(".html") {
            scope.paths.insert(f.to_string());
        } else {
            scope.page(f.to_string());
        }
    }
    Plan::Partial(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary of the valid fixture with `static_dir` set to `dir`.
    fn fixture_with_static_dir(dir: &str) -> Summary {
        let tmp = crate::test_support::valid_fixture();
        let config = tmp.path().join("site.toml");
        let text = std::fs::read_to_string(&config).expect("read site.toml");
        let text = text.replace(
            "static_dir = \"static\"",
            &format!("static_dir = \"{dir}\""),
        );
        std::fs::write(&config, text).expect("write site.toml");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 9, 21).unwrap_or_default();
        let checked = crate::site::load_and_check(tmp.path(), today);
        Summary::of(&checked).expect("site.toml loads")
    }

    #[test]
    fn static_files_inside_content_are_not_records() {
        let s = fixture_with_static_dir("./content/static");
        let changed = |p: &str| BTreeSet::from([PathBuf::from(p)]);
        assert!(matches!(
            plan(&s, &s, &changed("content/static/logo.svg")),
            Plan::Full(_)
        ));
        assert!(matches!(
            plan(&s, &s, &changed("content/releases/x.toml")),
            Plan::Unchanged
        ));
        assert!(matches!(
            plan(&s, &s, &changed("themes/a.html")),
            Plan::Full(_)
        ));
    }

    #[test]
    fn scope_accepts_site_wide_files() {
        let mut s = Scope::default();
        s.page("releases/x/".into());
        let bundle = [
            "pagefind/pagefind-entry.json",
            "pagefind/index/en_1.pf_index",
        ];
        // Nothing searched changed: the bundle is carried over.
        for p in bundle {
            assert!(!s.accepts(p), "{p}");
        }
        s.search = true;
        s.page("labels/a/".into());
        for p in [
            "releases/x/index.html",
            "feed.xml",
            "labels/a/feed.xml",
            "data/awards.csv",
        ]
        .into_iter()
        .chain(bundle)
        {
            assert!(s.accepts(p), "{p}");
        }
        for p in [
            "releases/y/index.html",
            "releases/x/data.json",
            "sitemap.xml",
            "assets/style.css",
            "pagefindx/a",
            "myfeed.xml",
            // Feeds of pages not redone, while the newest award stayed.
            "labels/b/feed.xml",
            "tiers/gold/feed.xml",
            "index.html",
        ] {
            assert!(!s.accepts(p), "{p}");
        }
        // A new newest award dates every empty feed anew.
        s.all_feeds = true;
        for p in ["labels/b/feed.xml", "tiers/gold/feed.xml"] {
            assert!(s.accepts(p), "{p}");
        }
        assert!(!s.accepts("myfeed.xml"));

        // Taken out, the search files are left to whoever took them.
        s.page(SEARCH_PAGE.into());
        assert!(s.accepts("search/index.html"));
        assert!(s.take_search());
        for p in bundle.into_iter().chain(["search/index.html"]) {
            assert!(!s.accepts(p), "{p}");
            assert!(Scope::is_search_file(p), "{p}");
        }
        assert!(s.accepts("releases/x/index.html") && s.accepts("data/awards.csv"));
        assert!(!s.take_search(), "once taken, they are out");
        for p in [
            "releases/x/index.html",
            "pagefindx/a",
            "search/x.html",
            "searchindex.html",
        ] {
            assert!(!Scope::is_search_file(p), "{p}");
        }
    }
}
