//! The archive indexed by tier, label, year, artist and country.
//!
//! Built once from checked records; renderers read it and never the files.

use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};

use crate::config::Config;
use crate::records::date::PartialDate;
use crate::records::{Label, Page, Release};
use crate::slug::slugify;
use crate::tiers::Scale;

/// One award located in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AwardRef {
    /// Index into [`Index::releases`].
    pub release: usize,
    /// Index into that release's awards.
    pub award: usize,
    /// Rank of its tier (index into the tier list).
    pub tier: usize,
}

/// An artist: every spelling that folds to one slug is one artist.
#[derive(Debug, Clone)]
pub struct Artist {
    pub slug: String,
    /// The spelling used most often (ties: the first in sort order).
    pub name: String,
    /// Releases crediting the artist, by release index, sorted by title.
    pub releases: Vec<usize>,
    /// Awards of those releases, newest first.
    pub awards: Vec<AwardRef>,
}

/// A label with what hangs off it.
#[derive(Debug, Clone)]
pub struct LabelEntry {
    /// Index into [`Index::labels`].
    pub label: usize,
    /// Its releases, by index, newest award first.
    pub releases: Vec<usize>,
    /// Slug of each imprint (labels whose `parent` is this one), sorted by name.
    pub imprints: Vec<usize>,
    /// Awards of its own releases, newest first.
    pub awards: Vec<AwardRef>,
    /// Awards of its own releases and those of its imprints (recursively), newest first.
    pub awards_with_imprints: Vec<AwardRef>,
}

/// A country's shipments.
#[derive(Debug, Clone, Default)]
pub struct CountryEntry {
    /// (release index, units there at the release's latest award that counted them), by units desc.
    pub releases: Vec<(usize, u64)>,
    /// Sum of the above.
    pub units: u64,
}

/// The whole archive, indexed.
#[derive(Debug)]
pub struct Index<'a> {
    pub config: &'a Config,
    /// Sorted by slug.
    pub releases: Vec<&'a Release>,
    /// Sorted by slug.
    pub labels: Vec<&'a Label>,
    /// Sorted by weight, then title.
    pub pages: Vec<&'a Page>,
    /// Every award, newest first.
    pub awards: Vec<AwardRef>,
    /// Per tier rank: awards newest first.
    pub by_tier: Vec<Vec<AwardRef>>,
    /// Label slug -> entry.
    pub by_label: BTreeMap<String, LabelEntry>,
    /// Year -> awards newest first.
    pub by_year: BTreeMap<i32, Vec<AwardRef>>,
    /// Artist slug -> artist.
    pub by_artist: BTreeMap<String, Artist>,
    /// Country code -> shipments.
    pub by_country: BTreeMap<String, CountryEntry>,
    /// Per release: artist slugs in credit order.
    pub release_artists: Vec<Vec<String>>,
    /// Release slug -> index.
    pub release_by_slug: HashMap<&'a str, usize>,
}

impl<'a> Index<'a> {
    /// Indexes checked records. Records must have passed every check.
    pub fn build(
        config: &'a Config,
        labels: &'a [Label],
        releases: &'a [Release],
        pages: &'a [Page],
    ) -> Index<'a> {
        let mut releases: Vec<&Release> = releases.iter().collect();
        releases.sort_by(|a, b| a.slug.cmp(&b.slug));
        let mut labels: Vec<&Label> = labels.iter().collect();
        labels.sort_by(|a, b| a.slug.cmp(&b.slug));
        let mut pages: Vec<&Page> = pages.iter().collect();
        pages.sort_by(|a, b| a.weight.cmp(&b.weight).then(a.title.cmp(&b.title)));

        let tier_rank = |id: &str| config.tiers.tier(id).map_or(0, |(r, _)| r);
        let mut awards = Vec::new();
        for (ri, r) in releases.iter().enumerate() {
            for (ai, a) in r.awards.iter().enumerate() {
                awards.push(AwardRef {
                    release: ri,
                    award: ai,
                    tier: tier_rank(&a.tier.value),
                });
            }
        }
        let date_of = |x: &AwardRef| releases[x.release].awards[x.award].date.value;
        // Newest first; ties: higher tier first, then slug, then the award's
        // place in its release, so order is total.
        // Keys computed once per award (a date's sort key builds a NaiveDate),
        // sorted on every core.
        awards.par_sort_by_cached_key(|x| {
            (
                std::cmp::Reverse(date_of(x).sort_key()),
                std::cmp::Reverse(x.tier),
                // Releases are in slug order.
                x.release,
                x.award,
            )
        });

        let mut by_tier = vec![Vec::new(); config.tiers.tiers().len()];
        let mut by_year: BTreeMap<i32, Vec<AwardRef>> = BTreeMap::new();
        for a in &awards {
            if let Some(list) = by_tier.get_mut(a.tier) {
                list.push(*a);
            }
            by_year.entry(date_of(a).year()).or_default().push(*a);
        }

        // Labels, artists and countries are independent of one another: they
        // are indexed on every core (at 100,000 releases the index took 1.6 s
        // on one, the other idle).
        let by_label = || {
            // Labels: own awards, then imprints' awards folded in.
            let label_idx: HashMap<&str, usize> = labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.slug.as_str(), i))
                .collect();
            // Filled by label position (labels are sorted by their unique slugs,
            // so positions follow the map's order): no string lookup per award.
            let mut entries: Vec<LabelEntry> = (0..labels.len())
                .map(|i| LabelEntry {
                    label: i,
                    releases: Vec::new(),
                    imprints: Vec::new(),
                    awards: Vec::new(),
                    awards_with_imprints: Vec::new(),
                })
                .collect();
            let release_label: Vec<Option<usize>> = releases
                .iter()
                .map(|r| label_idx.get(r.label.value.as_str()).copied())
                .collect();
            // A release belongs to one label: listed there once, at its newest award.
            let mut listed = vec![false; releases.len()];
            for a in &awards {
                if let Some(li) = release_label[a.release] {
                    let e = &mut entries[li];
                    e.awards.push(*a);
                    if !listed[a.release] {
                        listed[a.release] = true;
                        e.releases.push(a.release);
                    }
                }
            }
            for (ri, li) in release_label.iter().enumerate() {
                // Releases with no awards yet still belong to their label.
                if let Some(li) = li
                    && !listed[ri]
                {
                    listed[ri] = true;
                    entries[*li].releases.push(ri);
                }
            }
            for (i, l) in labels.iter().enumerate() {
                if let Some(p) = &l.parent
                    && let Some(&pi) = label_idx.get(p.value.as_str())
                {
                    entries[pi].imprints.push(i);
                }
            }
            let mut by_label: BTreeMap<String, LabelEntry> =
                labels.iter().map(|l| l.slug.clone()).zip(entries).collect();
            for e in by_label.values_mut() {
                e.imprints
                    .sort_by_key(|&i| (slugify(&labels[i].name.value), labels[i].slug.clone()));
            }
            // Every ancestor (parent chains are loop-free after checks) gets the awards.
            // Each list, and how many labels' awards it holds.
            let mut with_imprints: BTreeMap<String, (Vec<AwardRef>, usize)> = BTreeMap::new();
            for (slug, e) in &by_label {
                let mut cur = Some(slug.as_str());
                let mut depth = 0;
                while let Some(s) = cur {
                    let (list, sources) = with_imprints.entry(s.to_string()).or_default();
                    list.extend(e.awards.iter().copied());
                    *sources += 1;
                    cur = label_idx
                        .get(s)
                        .and_then(|&i| labels[i].parent.as_ref())
                        .map(|p| p.value.as_str());
                    depth += 1;
                    if depth > labels.len() {
                        break;
                    }
                }
            }
            // Each award's place in `awards`, by its release's first award's
            // slot plus its own position in the release.
            let first: Vec<usize> = releases
                .iter()
                .scan(0, |next, r| {
                    let at = *next;
                    *next += r.awards.len();
                    Some(at)
                })
                .collect();
            let mut pos = vec![usize::MAX; awards.len()];
            for (i, a) in awards.iter().enumerate() {
                pos[first[a.release] + a.award] = i;
            }
            for (slug, (mut list, sources)) in with_imprints {
                // A label's own awards are in `awards`' order already.
                if sources > 1 {
                    list.sort_by_key(|a| pos[first[a.release] + a.award]);
                }
                if let Some(e) = by_label.get_mut(&slug) {
                    e.awards_with_imprints = list;
                }
            }

            by_label
        };
        let by_artist = || {
            // Artists.
            let mut spellings: HashMap<String, BTreeMap<&str, usize>> = HashMap::new();
            // Hash maps while counting (a lookup per credit and per award); the
            // sorted map is built once at the end.
            let mut artist_releases: HashMap<String, Vec<usize>> = HashMap::new();
            let mut release_artists = Vec::with_capacity(releases.len());
            for (ri, r) in releases.iter().enumerate() {
                let mut slugs = Vec::new();
                for a in &r.artists.value {
                    let s = slugify(&a.value);
                    *spellings
                        .entry(s.clone())
                        .or_default()
                        .entry(a.value.as_str())
                        .or_default() += 1;
                    let list = artist_releases.entry(s.clone()).or_default();
                    if !list.contains(&ri) {
                        list.push(ri);
                    }
                    if !slugs.contains(&s) {
                        slugs.push(s);
                    }
                }
                release_artists.push(slugs);
            }
            // One pass over the sorted awards keeps each artist's list newest first.
            let mut artist_awards: HashMap<&str, Vec<AwardRef>> = HashMap::new();
            for a in &awards {
                for s in &release_artists[a.release] {
                    artist_awards.entry(s.as_str()).or_default().push(*a);
                }
            }
            let mut by_artist: BTreeMap<String, Artist> = BTreeMap::new();
            for (slug, mut rels) in artist_releases {
                let name = spellings
                    .get(&slug)
                    .and_then(|m| m.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))))
                    .map(|(n, _)| (*n).to_string())
                    .unwrap_or_default();
                rels.sort_by_cached_key(|&i| {
                    (slugify(&releases[i].title.value), releases[i].slug.as_str())
                });
                by_artist.insert(
                    slug.clone(),
                    Artist {
                        awards: artist_awards.remove(slug.as_str()).unwrap_or_default(),
                        slug,
                        name,
                        releases: rels,
                    },
                );
            }

            (by_artist, release_artists)
        };
        let by_country = || {
            let mut by_country: BTreeMap<String, CountryEntry> = BTreeMap::new();
            for (ri, r) in releases.iter().enumerate() {
                for (c, u) in latest_shipments(r) {
                    // A key is allocated only for a country's first release.
                    if !by_country.contains_key(c) {
                        by_country.insert(c.to_string(), CountryEntry::default());
                    }
                    let Some(e) = by_country.get_mut(c) else {
                        continue;
                    };
                    e.releases.push((ri, u));
                    e.units = e.units.saturating_add(u);
                }
            }
            let mut entries: Vec<&mut CountryEntry> = by_country.values_mut().collect();
            entries.par_iter_mut().for_each(|e| {
                // Releases are in slug order: a tie goes by position.
                e.releases.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            });

            by_country
        };
        let (by_label, ((by_artist, release_artists), by_country)) =
            rayon::join(by_label, || rayon::join(by_artist, by_country));
        let release_by_slug = releases
            .iter()
            .enumerate()
            .map(|(i, r)| (r.slug.as_str(), i))
            .collect();
        Index {
            config,
            releases,
            labels,
            pages,
            awards,
            by_tier,
            by_label,
            by_year,
            by_artist,
            by_country,
            release_artists,
            release_by_slug,
        }
    }

    /// The date of an award.
    pub fn date(&self, a: &AwardRef) -> PartialDate {
        self.releases[a.release].awards[a.award].date.value
    }

    /// The scale an award was judged under: named, or in force at its date.
    pub fn scale_of(&self, a: &AwardRef) -> Option<&'a Scale> {
        let award = &self.releases[a.release].awards[a.award];
        match &award.scale {
            Some(s) => self.config.tiers.scale(&s.value),
            None => self.config.tiers.scale_at(award.date.value.first_day()),
        }
    }

    /// Units per country of release `ri`, from its latest figures per country.
    pub fn latest_shipments(&self, ri: usize) -> BTreeMap<&'a str, u64> {
        latest_shipments(self.releases[ri])
    }

    /// The label record named `slug`.
    pub fn label(&self, slug: &str) -> Option<&'a Label> {
        self.by_label.get(slug).map(|e| self.labels[e.label])
    }
}

/// A release's units in each country: those of its latest award that gave
/// shipments there (figures are cumulative at each award).
fn latest_shipments(r: &Release) -> BTreeMap<&str, u64> {
    let mut latest = BTreeMap::new();
    for a in &r.awards {
        if let Some(ships) = &a.shipments {
            for (c, u) in &ships.value {
                latest.insert(c.value.as_str(), u.value);
            }
        }
    }
    latest
}
