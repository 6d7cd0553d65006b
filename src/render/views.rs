//! Plain serialisable view data for templates, built from the index.
//!
//! Lists carry summaries ([`AwardRow`], [`ReleaseSummary`]), never whole
//! records, so a page's cost follows its own rows, not the archive's size.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use super::markdown;
use crate::config::fmt_units;
use crate::index::{AwardRef, Index};
use crate::iso;
use crate::records::Release;
use crate::records::date::PartialDate;
use crate::slug::slugify;
use crate::tiers::Tier;

/// A name and the site-relative URL of its page.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub name: String,
    pub url: String,
}

/// One award in a list: borrowed from the records, with its paths and
/// formatted figures made when it is serialised. There is a row per award
/// (134,000 at 100k releases) and each renders once, so owning its twenty
/// strings cost a quarter of a large build's memory and bought nothing.
#[derive(Debug, Clone, Serialize)]
pub struct AwardRow<'a> {
    /// Stable id: `<release-slug>/<n>` (n counts the release's awards from 1).
    pub id: Shown<RowId<'a>>,
    pub release: RowLink<'a>,
    pub credit: Cow<'a, str>,
    pub artists: Vec<RowLink<'a>>,
    pub label: RowLink<'a>,
    pub format: &'static str,
    pub tier: TierBadge<'a>,
    /// ISO form at the known precision.
    pub date: Shown<PartialDate>,
    pub date_human: Shown<HumanDate>,
    pub year: i32,
    pub units: Option<Shown<Units>>,
    pub units_raw: Option<u64>,
    /// Country codes with shipments, sorted.
    pub countries: Vec<&'a str>,
    pub source: Option<&'a str>,
}

/// A value serialised as the text it displays.
#[derive(Debug, Clone, Copy)]
pub struct Shown<T>(pub T);

impl<T: fmt::Display> Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// An award's id: its release's slug and its position from 1.
#[derive(Debug, Clone, Copy)]
pub struct RowId<'a>(pub &'a str, pub usize);

impl fmt::Display for RowId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)?;
        f.write_str("/")?;
        f.write_str(itoa::Buffer::new().format(self.1))
    }
}

/// A date as a reader says it ("3 March 2021").
#[derive(Debug, Clone, Copy)]
pub struct HumanDate(pub PartialDate);

impl fmt::Display for HumanDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_human(f)
    }
}

/// A number of units with thousands separators.
#[derive(Debug, Clone, Copy)]
pub struct Units(pub u64);

impl fmt::Display for Units {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::config::write_units(f, self.0)
    }
}

/// Folders of the pages of releases, labels, artists and tiers.
const RELEASES: &str = "releases";
const LABELS: &str = "labels";
const ARTISTS: &str = "artists";
const TIERS: &str = "tiers";

/// The site path of a page in `dir` ("releases/x/").
#[derive(Debug, Clone)]
pub struct PathIn<'a> {
    pub dir: &'static str,
    pub slug: Cow<'a, str>,
}

impl fmt::Display for PathIn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Pieces, not `write!`: every row and link of every page writes paths.
        for piece in [self.dir, "/", &self.slug, "/"] {
            f.write_str(piece)?;
        }
        Ok(())
    }
}

/// [`Link`] borrowed: serialises alike.
#[derive(Debug, Clone, Serialize)]
pub struct RowLink<'a> {
    pub name: &'a str,
    pub url: Shown<PathIn<'a>>,
}

/// A tier as shown in a badge, borrowed from the configuration; serialises
/// as `id`, `name`, `rank` (0 = lowest; themes colour badges by rank) and `url`.
#[derive(Debug, Clone, Copy)]
pub struct TierBadge<'a> {
    pub tier: &'a Tier,
    pub rank: usize,
}

impl Serialize for TierBadge<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut b = s.serialize_struct("TierBadge", 4)?;
        b.serialize_field("id", &self.tier.id)?;
        b.serialize_field("name", &self.tier.name)?;
        b.serialize_field("rank", &self.rank)?;
        b.serialize_field(
            "url",
            &Shown(PathIn {
                dir: TIERS,
                slug: Cow::Borrowed(&self.tier.id),
            }),
        )?;
        b.end()
    }
}

/// One release in a list.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseSummary<'a> {
    pub title: String,
    pub url: String,
    pub credit: String,
    pub format: &'static str,
    /// Highest tier reached.
    pub tier: Option<TierBadge<'a>>,
    pub awards: usize,
    pub latest: Option<String>,
}

/// Shipments to one country.
#[derive(Debug, Clone, Serialize)]
pub struct ShipmentRow {
    pub code: String,
    pub name: String,
    pub units: String,
    pub url: String,
}

/// One award on a release page.
#[derive(Debug, Clone, Serialize)]
pub struct AwardDetail<'a> {
    pub tier: TierBadge<'a>,
    pub date: String,
    pub date_human: String,
    pub units: Option<String>,
    pub shipments: Vec<ShipmentRow>,
    pub source: Option<String>,
    pub scale: Option<String>,
    /// Units the tier needed under that scale.
    pub threshold: Option<String>,
    pub note_html: Option<String>,
}

/// A release page.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseView<'a> {
    pub slug: String,
    pub url: String,
    pub title: String,
    pub credit: String,
    /// The printed credit, when the record gives one.
    pub credit_printed: Option<String>,
    pub artists: Vec<Link>,
    pub label: Link,
    pub label_country: Option<String>,
    pub format: &'static str,
    pub released: Option<String>,
    pub released_iso: Option<String>,
    pub catalogue: Option<String>,
    pub notes_html: Option<String>,
    pub awards: Vec<AwardDetail<'a>>,
    pub tier: Option<TierBadge<'a>>,
}

/// A tier with its thresholds.
#[derive(Debug, Clone, Serialize)]
pub struct TierSummary<'a> {
    pub badge: TierBadge<'a>,
    pub count: usize,
    pub thresholds: Vec<Threshold>,
}

/// Units a tier needs under one scale.
#[derive(Debug, Clone, Serialize)]
pub struct Threshold {
    pub scale: String,
    pub from: String,
    pub units: String,
}

/// A label in a list.
#[derive(Debug, Clone, Serialize)]
pub struct LabelSummary {
    pub name: String,
    pub url: String,
    pub country: String,
    pub country_name: String,
    pub releases: usize,
    /// Awards including those of its imprints.
    pub awards: usize,
    pub parent: Option<Link>,
}

/// An artist in a list.
#[derive(Debug, Clone, Serialize)]
pub struct ArtistSummary {
    pub name: String,
    pub url: String,
    pub releases: usize,
    pub awards: usize,
}

/// A country in a list.
#[derive(Debug, Clone, Serialize)]
pub struct CountrySummary {
    pub code: String,
    pub name: String,
    pub url: String,
    pub units: String,
    pub releases: usize,
}

/// A year with its counts per tier (aligned with the tier list).
#[derive(Debug, Clone, Serialize)]
pub struct YearSummary {
    pub year: i32,
    pub url: String,
    pub total: usize,
    pub per_tier: Vec<usize>,
}

/// Builds views from an index; URL paths are relative to the site root ("releases/x/").
pub struct Views<'i, 'a> {
    pub index: &'i Index<'a>,
    /// Path the site is served from ("/" or "/awards/"): root-relative links in notes go under it.
    pub base: String,
    /// Prebuilt row per award, in `index.awards` order.
    rows: Vec<AwardRow<'i>>,
    row_of: std::collections::HashMap<AwardRef, usize>,
}

/// Path of a release page.
pub fn release_path(slug: &str) -> String {
    path_in(RELEASES, slug)
}

/// Path of a label page.
pub fn label_path(slug: &str) -> String {
    path_in(LABELS, slug)
}

/// Path of an artist page.
pub fn artist_path(slug: &str) -> String {
    path_in(ARTISTS, slug)
}

/// Path of a tier page.
pub fn tier_path(id: &str) -> String {
    path_in(TIERS, id)
}

/// `dir/slug/` in one allocation.
fn path_in(dir: &str, slug: &str) -> String {
    let mut s = String::with_capacity(dir.len() + slug.len() + 2);
    for piece in [dir, "/", slug, "/"] {
        s.push_str(piece);
    }
    s
}

/// Path of a year page.
pub fn year_path(y: i32) -> String {
    format!("years/{y}/")
}

/// Path of a country page (codes in lowercase).
pub fn country_path(code: &str) -> String {
    format!("countries/{}/", code.to_ascii_lowercase())
}

impl<'i, 'a> Views<'i, 'a> {
    /// Prepares the shared rows.
    pub fn new(index: &'i Index<'a>) -> Self {
        let mut v = Views {
            index,
            base: "/".into(),
            rows: Vec::new(),
            row_of: Default::default(),
        };
        // One row per award: 134,000 at 100k releases, built on every core.
        v.rows = {
            use rayon::prelude::*;
            index.awards.par_iter().map(|a| v.build_row(a)).collect()
        };
        v.row_of = index
            .awards
            .iter()
            .enumerate()
            .map(|(i, a)| (*a, i))
            .collect();
        v
    }

    /// Every award row, newest first.
    pub fn all_rows(&self) -> &[AwardRow<'i>] {
        &self.rows
    }

    /// Position of an award's row in [`Views::all_rows`].
    pub fn row_index(&self, a: &AwardRef) -> Option<usize> {
        self.row_of.get(a).copied()
    }

    /// Rows for a list of awards.
    pub fn rows(&self, awards: &[AwardRef]) -> Vec<&AwardRow<'i>> {
        awards
            .iter()
            .filter_map(|a| self.row_of.get(a).map(|&i| &self.rows[i]))
            .collect()
    }

    /// The badge of the tier at `rank`.
    pub fn badge(&self, rank: usize) -> TierBadge<'i> {
        let tiers: &'i [Tier] = self.index.config.tiers.tiers();
        TierBadge {
            tier: &tiers[rank.min(tiers.len().saturating_sub(1))],
            rank,
        }
    }

    fn artist_links(&self, ri: usize) -> Vec<Link> {
        let r = self.index.releases[ri];
        r.artists
            .value
            .iter()
            .map(|a| Link {
                name: a.value.clone(),
                url: artist_path(&slugify(&a.value)),
            })
            .collect()
    }

    fn label_link(&self, slug: &str) -> Link {
        Link {
            name: self
                .index
                .label(slug)
                .map_or_else(|| slug.to_string(), |l| l.name.value.clone()),
            url: label_path(slug),
        }
    }

    fn build_row(&self, a: &AwardRef) -> AwardRow<'i> {
        let index: &'i Index<'a> = self.index;
        let r: &'i Release = index.releases[a.release];
        let award = &r.awards[a.award];
        let units = award.total_units();
        let credit = match (&r.credit, r.artists.value.as_slice()) {
            (Some(c), _) => Cow::Borrowed(c.value.as_str()),
            (None, [one]) => Cow::Borrowed(one.value.as_str()),
            (None, _) => Cow::Owned(r.display_credit()),
        };
        AwardRow {
            id: Shown(RowId(&r.slug, a.award + 1)),
            release: RowLink {
                name: &r.title.value,
                url: Shown(PathIn {
                    dir: RELEASES,
                    slug: Cow::Borrowed(&r.slug),
                }),
            },
            credit,
            artists: r
                .artists
                .value
                .iter()
                .map(|n| {
                    let slug = slugify(&n.value);
                    RowLink {
                        name: &n.value,
                        url: Shown(PathIn {
                            dir: ARTISTS,
                            slug: index
                                .by_artist
                                .get_key_value(&slug)
                                .map_or(Cow::Owned(slug), |(k, _)| Cow::Borrowed(k.as_str())),
                        }),
                    }
                })
                .collect(),
            label: RowLink {
                name: index
                    .label(&r.label.value)
                    .map_or(r.label.value.as_str(), |l| l.name.value.as_str()),
                url: Shown(PathIn {
                    dir: LABELS,
                    slug: Cow::Borrowed(&r.label.value),
                }),
            },
            format: r.format.value.name(),
            tier: self.badge(a.tier),
            date: Shown(award.date.value),
            date_human: Shown(HumanDate(award.date.value)),
            year: award.date.value.year(),
            units: units.map(|u| Shown(Units(u))),
            units_raw: units,
            countries: award
                .shipments
                .as_ref()
                .map(|s| s.value.iter().map(|(c, _)| c.value.as_str()).collect())
                .unwrap_or_default(),
            source: award.source.as_ref().map(|s| s.value.as_str()),
        }
    }

    /// Summary of release `ri`.
    pub fn release_summary(&self, ri: usize) -> ReleaseSummary<'i> {
        let r = self.index.releases[ri];
        let top = self.top_tier(r);
        ReleaseSummary {
            title: r.title.value.clone(),
            url: release_path(&r.slug),
            credit: r.display_credit(),
            format: r.format.value.name(),
            tier: top.map(|t| self.badge(t)),
            awards: r.awards.len(),
            latest: r.awards.last().map(|a| a.date.value.human()),
        }
    }

    fn top_tier(&self, r: &Release) -> Option<usize> {
        r.awards
            .iter()
            .filter_map(|a| {
                self.index
                    .config
                    .tiers
                    .tier(&a.tier.value)
                    .map(|(rank, _)| rank)
            })
            .max()
    }

    /// The full view of release `ri`.
    pub fn release(&self, ri: usize) -> ReleaseView<'i> {
        let r = self.index.releases[ri];
        let tiers = &self.index.config.tiers;
        let awards = r
            .awards
            .iter()
            .enumerate()
            .map(|(ai, award)| {
                let aref = AwardRef {
                    release: ri,
                    award: ai,
                    tier: tiers.tier(&award.tier.value).map_or(0, |(rank, _)| rank),
                };
                let scale = self.index.scale_of(&aref);
                let threshold = match (scale, tiers.tier(&award.tier.value)) {
                    (Some(s), Some((_, t))) => tiers.threshold(t, s).map(fmt_units),
                    _ => None,
                };
                AwardDetail {
                    tier: self.badge(aref.tier),
                    date: award.date.value.to_string(),
                    date_human: award.date.value.human(),
                    units: award.total_units().map(fmt_units),
                    shipments: award
                        .shipments
                        .as_ref()
                        .map(|s| {
                            s.value
                                .iter()
                                .map(|(c, u)| ShipmentRow {
                                    code: c.value.clone(),
                                    name: iso::country_name(&c.value).unwrap_or("").to_string(),
                                    units: fmt_units(u.value),
                                    url: country_path(&c.value),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    source: award.source.as_ref().map(|s| s.value.clone()),
                    scale: scale.map(|s| s.id.clone()),
                    threshold,
                    note_html: award
                        .note
                        .as_ref()
                        .map(|n| markdown::to_html_under(&n.value, &self.base)),
                }
            })
            .collect();
        ReleaseView {
            slug: r.slug.clone(),
            url: release_path(&r.slug),
            title: r.title.value.clone(),
            credit: r.display_credit(),
            credit_printed: r.credit.as_ref().map(|c| c.value.clone()),
            artists: self.artist_links(ri),
            label: self.label_link(&r.label.value),
            label_country: self
                .index
                .label(&r.label.value)
                .map(|l| l.country.value.clone()),
            format: r.format.value.name(),
            released: r.released.as_ref().map(|d| d.value.human()),
            released_iso: r.released.as_ref().map(|d| d.value.to_string()),
            catalogue: r.catalogue.as_ref().map(|c| c.value.clone()),
            notes_html: r
                .notes
                .as_ref()
                .map(|n| markdown::to_html_under(&n.value, &self.base)),
            awards,
            tier: self.top_tier(r).map(|t| self.badge(t)),
        }
    }

    /// Every tier, lowest first, with its thresholds per scale.
    pub fn tier_summaries(&self) -> Vec<TierSummary<'i>> {
        let tiers = &self.index.config.tiers;
        tiers
            .tiers()
            .iter()
            .enumerate()
            .map(|(rank, t)| TierSummary {
                badge: self.badge(rank),
                count: self.index.by_tier.get(rank).map_or(0, Vec::len),
                thresholds: tiers
                    .scales()
                    .iter()
                    .map(|s| Threshold {
                        scale: s.id.clone(),
                        from: s.from.to_string(),
                        units: tiers.threshold(t, s).map(fmt_units).unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Labels A-Z.
    pub fn label_summaries(&self) -> Vec<LabelSummary> {
        let mut out: Vec<LabelSummary> = self
            .index
            .by_label
            .iter()
            .map(|(slug, e)| {
                let l = self.index.labels[e.label];
                LabelSummary {
                    name: l.name.value.clone(),
                    url: label_path(slug),
                    country: l.country.value.clone(),
                    country_name: iso::country_name(&l.country.value)
                        .unwrap_or("")
                        .to_string(),
                    releases: e.releases.len(),
                    awards: e.awards_with_imprints.len(),
                    parent: l.parent.as_ref().map(|p| self.label_link(&p.value)),
                }
            })
            .collect();
        out.sort_by_cached_key(|l| (slugify(&l.name), l.url.clone()));
        out
    }

    /// Link to label by index in `index.labels`.
    pub fn label_link_at(&self, i: usize) -> Link {
        self.label_link(&self.index.labels[i].slug)
    }

    /// Artists A-Z.
    pub fn artist_summaries(&self) -> Vec<ArtistSummary> {
        let mut out: Vec<ArtistSummary> = self
            .index
            .by_artist
            .values()
            .map(|a| ArtistSummary {
                name: a.name.clone(),
                url: artist_path(&a.slug),
                releases: a.releases.len(),
                awards: a.awards.len(),
            })
            .collect();
        out.sort_by_cached_key(|a| (slugify(&a.name), a.url.clone()));
        out
    }

    /// Countries with shipments, A-Z by name.
    pub fn country_summaries(&self) -> Vec<CountrySummary> {
        let mut out: Vec<CountrySummary> = self
            .index
            .by_country
            .iter()
            .map(|(code, e)| CountrySummary {
                code: code.clone(),
                name: iso::country_name(code).unwrap_or(code).to_string(),
                url: country_path(code),
                units: fmt_units(e.units),
                releases: e.releases.len(),
            })
            .collect();
        out.sort_by_cached_key(|c| slugify(&c.name));
        out
    }

    /// Years, newest first, with counts per tier.
    pub fn year_summaries(&self) -> Vec<YearSummary> {
        let n = self.index.config.tiers.tiers().len();
        self.index
            .by_year
            .iter()
            .rev()
            .map(|(y, awards)| {
                let mut per_tier = vec![0; n];
                for a in awards {
                    if let Some(c) = per_tier.get_mut(a.tier) {
                        *c += 1;
                    }
                }
                YearSummary {
                    year: *y,
                    url: year_path(*y),
                    total: awards.len(),
                    per_tier,
                }
            })
            .collect()
    }
}
