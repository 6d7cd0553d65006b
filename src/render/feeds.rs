//! Atom 1.0 feeds (RFC 4287): the latest awards of the site, of each label and
//! of each tier.
//!
//! Everything in a feed comes from the records, so two builds of the same
//! records give the same bytes: entry times are award dates (a partial date
//! stands for its first day), and a feed's `updated` is its newest entry's.

use rayon::prelude::*;
use std::fmt::Write as _;

use serde::Serialize;

use super::OutFile;
use super::escape;
use super::views::{label_path, release_path, tier_path};
use crate::index::{AwardRef, Index};
use crate::records::join_names;

/// Entries per feed: the newest awards.
pub const FEED_LIMIT: usize = 50;
/// Name of a feed file inside its page's folder.
pub const FEED_FILE: &str = "feed.xml";

/// A feed for autodiscovery links: its title and site-relative path.
#[derive(Debug, Clone, Serialize)]
pub struct FeedLink {
    pub title: String,
    pub url: String,
}

/// Path of the site-wide feed.
pub fn site_feed_path() -> String {
    FEED_FILE.to_string()
}

/// Path of a label's feed.
pub fn label_feed_path(slug: &str) -> String {
    format!("{}{FEED_FILE}", label_path(slug))
}

/// Path of a tier's feed.
pub fn tier_feed_path(id: &str) -> String {
    format!("{}{FEED_FILE}", tier_path(id))
}

/// The autodiscovery link of a label's feed.
pub fn label_feed(index: &Index<'_>, slug: &str) -> FeedLink {
    let name = index.label(slug).map_or(slug, |l| l.name.value.as_str());
    FeedLink {
        title: format!("{name}: latest awards"),
        url: label_feed_path(slug),
    }
}

/// The autodiscovery link of a tier's feed.
pub fn tier_feed(name: &str, id: &str) -> FeedLink {
    FeedLink {
        title: format!("{name}: latest awards"),
        url: tier_feed_path(id),
    }
}

/// RFC 3339 time of an award: its first possible day at midnight UTC.
fn award_time(index: &Index<'_>, a: &AwardRef) -> String {
    format!("{}T00:00:00Z", index.date(a).first_day().format("%Y-%m-%d"))
}

/// What a feed is about.
struct Spec<'s> {
    path: String,
    title: String,
    subtitle: String,
    /// Site-relative path of the HTML page the feed mirrors.
    page: String,
    awards: &'s [AwardRef],
}

/// The entry id of an award: its release page's absolute URL with the award's
/// anchor. Ids never change while the slug and the award's place do not.
pub fn entry_id(base_url: &str, release_slug: &str, n: usize) -> String {
    format!("{base_url}{}#award-{n}", release_path(release_slug))
}

fn render(index: &Index<'_>, base_url: &str, spec: &Spec<'_>, fallback_updated: &str) -> String {
    let config = index.config;
    let entries = &spec.awards[..spec.awards.len().min(FEED_LIMIT)];
    // Lists are newest first, so the first entry is the newest; an empty feed
    // takes the site's newest award time so it stays deterministic.
    let updated = entries
        .first()
        .map_or_else(|| fallback_updated.to_string(), |a| award_time(index, a));
    let e = escape::xml;
    let mut x = String::with_capacity(1024 + entries.len() * 900);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = writeln!(
        x,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">",
        e(&config.language)
    );
    let _ = writeln!(x, "  <id>{}</id>", e(&format!("{base_url}{}", spec.path)));
    let _ = writeln!(x, "  <title>{}</title>", e(&spec.title));
    let _ = writeln!(x, "  <subtitle>{}</subtitle>", e(&spec.subtitle));
    let _ = writeln!(
        x,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        e(&format!("{base_url}{}", spec.path))
    );
    let _ = writeln!(
        x,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        e(&format!("{base_url}{}", spec.page))
    );
    let _ = writeln!(x, "  <updated>{updated}</updated>");
    let _ = writeln!(
        x,
        "  <author><name>{}</name><uri>{}</uri></author>",
        e(&config.title),
        e(base_url)
    );
    if let Some(l) = &config.data_licence {
        let _ = writeln!(x, "  <rights>Data licence: {}</rights>", e(l));
    }
    x.push_str("  <generator>impala-awards</generator>\n");
    for a in entries {
        entry(&mut x, index, base_url, a);
    }
    x.push_str("</feed>\n");
    x
}

fn entry(x: &mut String, index: &Index<'_>, base_url: &str, a: &AwardRef) {
    let e = escape::xml;
    let r = index.releases[a.release];
    let award = &r.awards[a.award];
    let tier = index.config.tiers.tier(&award.tier.value).map(|(_, t)| t);
    let tier_name = tier.map_or(award.tier.value.as_str(), |t| t.name.as_str());
    let label = index
        .label(&r.label.value)
        .map_or(r.label.value.as_str(), |l| l.name.value.as_str());
    let id = entry_id(base_url, &r.slug, a.award + 1);
    let time = award_time(index, a);
    let credit = r.display_credit();
    let figures = match award.total_units() {
        Some(u) => {
            let mut s = format!(
                "{} units shipped across Europe",
                crate::config::fmt_units(u)
            );
            if let Some(ships) = &award.shipments {
                let countries = join_names(
                    ships
                        .value
                        .iter()
                        .map(|(c, _)| c.value.as_str())
                        .map(|c| crate::iso::country_name(c).unwrap_or(c)),
                );
                let _ = write!(s, " ({countries})");
            }
            s
        }
        None => "figures not published".to_string(),
    };
    let summary = format!(
        "{tier_name} for \u{201c}{}\u{201d} by {credit} ({label}), {}: {figures}.",
        r.title.value,
        award.date.value.human()
    );
    x.push_str("  <entry>\n");
    let _ = writeln!(x, "    <id>{}</id>", e(&id));
    let _ = writeln!(
        x,
        "    <title>{}: {} by {}</title>",
        e(tier_name),
        e(&r.title.value),
        e(&credit)
    );
    let _ = writeln!(
        x,
        "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        e(&id)
    );
    let _ = writeln!(x, "    <published>{time}</published>");
    let _ = writeln!(x, "    <updated>{time}</updated>");
    let _ = writeln!(
        x,
        "    <category term=\"{}\" label=\"{}\" scheme=\"{}\"/>",
        e(&award.tier.value),
        e(tier_name),
        e(&format!("{base_url}tiers/"))
    );
    let _ = writeln!(x, "    <summary type=\"text\">{}</summary>", e(&summary));
    x.push_str("  </entry>\n");
}

/// Every feed whose path `wanted` accepts: the site's, one per label
/// (imprints included, like its page) and one per tier, each given to `emit`
/// as soon as it is made.
pub fn files<R: Send>(
    index: &Index<'_>,
    base_url: &str,
    wanted: impl Fn(&str) -> bool + Sync,
    emit: impl Fn(OutFile) -> R + Sync,
) -> Vec<R> {
    let config = index.config;
    let fallback = index.awards.first().map_or_else(
        || "1970-01-01T00:00:00Z".to_string(),
        |a| award_time(index, a),
    );
    let mut specs = vec![Spec {
        path: site_feed_path(),
        title: config.title.clone(),
        subtitle: format!("The latest awards of the {}.", config.title),
        page: String::new(),
        awards: &index.awards,
    }];
    for (slug, entry) in &index.by_label {
        let name = &index.labels[entry.label].name.value;
        specs.push(Spec {
            path: label_feed_path(slug),
            title: format!("{name} · {}", config.title),
            subtitle: format!("The latest awards of {name} and its imprints."),
            page: label_path(slug),
            awards: &entry.awards_with_imprints,
        });
    }
    for (rank, t) in config.tiers.tiers().iter().enumerate() {
        specs.push(Spec {
            path: tier_feed_path(&t.id),
            title: format!("{} · {}", t.name, config.title),
            subtitle: format!("The latest {} awards.", t.name),
            page: tier_path(&t.id),
            awards: index.by_tier.get(rank).map_or(&[], Vec::as_slice),
        });
    }
    // An edit's rebuild wants a few of them: the others are not rendered.
    specs.retain(|s| wanted(&s.path));
    specs
        .par_iter()
        .map(|s| {
            emit(OutFile {
                path: s.path.clone(),
                bytes: render(index, base_url, s, &fallback).into_bytes(),
            })
        })
        .collect()
}
