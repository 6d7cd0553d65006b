//! Every rule a tree of records must satisfy. Returns diagnostics; never prints.

mod awards;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::config::{Config, is_http_url, unknown_country};
use crate::diagnostics::{Diagnostic, suggest};
use crate::iso;
use crate::records::load::Loaded;
use crate::records::reader::Sp;
use crate::records::{Label, Release};
use crate::slug::{is_slug, slugify};

/// Top-level URL segments the site uses itself; a page cannot take them.
pub const RESERVED_SLUGS: &[&str] = &[
    "releases",
    "tiers",
    "labels",
    "years",
    "artists",
    "countries",
    "search",
    "awards",
    "data",
    "stats",
    "static",
    "feeds",
    "pagefind",
    "404",
    "feed",
    "sitemap",
    "robots",
];

/// The day checks treat as today: `SOURCE_DATE_EPOCH` when set, so builds are reproducible.
pub fn build_date() -> NaiveDate {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now)
        .date_naive()
}

/// Runs every cross-record rule. `loaded.config` must be present.
pub fn check(loaded: &Loaded, config: &Config, today: NaiveDate) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let label_slugs: BTreeSet<&str> = loaded
        .labels
        .iter()
        .map(|l| l.slug.as_str())
        .chain(loaded.broken_labels.iter().map(String::as_str))
        .collect();
    check_labels(&loaded.labels, &label_slugs, &mut diags);
    check_release_set(loaded, &mut diags);
    // Each release's rules read only shared data: on every core, in file order.
    let per_release: Vec<Vec<Diagnostic>> = loaded
        .releases
        .par_iter()
        .map(|r| {
            let mut d = Vec::new();
            check_release(r, &label_slugs, loaded, &mut d);
            awards::check_awards(r, config, today, &mut d);
            d
        })
        .collect();
    diags.extend(per_release.into_iter().flatten());
    for p in &loaded.pages {
        if RESERVED_SLUGS.contains(&p.slug.as_str()) {
            diags.push(
                Diagnostic::error(
                    "reserved-slug",
                    format!("page slug `{}` is used by the site itself", p.slug),
                )
                .in_file(&p.file)
                .help(format!("rename the file, e.g. to `about-{}.md`", p.slug)),
            );
        }
    }
    diags
}

fn url_check(field: &str, u: &Sp<String>, file: &std::path::Path, diags: &mut Vec<Diagnostic>) {
    if !is_http_url(&u.value) {
        diags.push(
            Diagnostic::error("bad-url", format!("`{field}` must be an http(s) URL"))
                .at(file, u.span.clone())
                .label("not an http(s) URL")
                .help(format!(
                    "write the full address, e.g. `{field} = \"https://example.org/news/123\"`"
                )),
        );
    }
}

fn check_labels(labels: &[Label], slugs: &BTreeSet<&str>, diags: &mut Vec<Diagnostic>) {
    let by_slug: BTreeMap<&str, &Label> = labels.iter().map(|l| (l.slug.as_str(), l)).collect();
    for l in labels {
        if !iso::is_country(&l.country.value) {
            diags.push(unknown_country(
                &l.country.value,
                &l.file,
                l.country.span.clone(),
                None,
            ));
        }
        if let Some(w) = &l.website {
            url_check("website", w, &l.file, diags);
        }
        let Some(parent) = &l.parent else { continue };
        if parent.value == l.slug {
            diags.push(
                Diagnostic::error("parent-loop", "a label cannot be its own parent")
                    .at(&l.file, parent.span.clone())
                    .help("remove `parent`, or name the label this one is an imprint of"),
            );
            continue;
        }
        if !slugs.contains(parent.value.as_str()) {
            diags.push(
                Diagnostic::error(
                    "unknown-label",
                    format!("parent label `{}` does not exist", parent.value),
                )
                .at(&l.file, parent.span.clone())
                .label("no such label")
                .help(label_help(&parent.value, slugs)),
            );
            continue;
        }
        // Follow the chain; a loop comes back to this label.
        let mut seen = vec![l.slug.as_str()];
        let mut cur = by_slug.get(parent.value.as_str()).copied();
        while let Some(c) = cur {
            if c.slug == l.slug {
                diags.push(
                    Diagnostic::error(
                        "parent-loop",
                        format!("label parents loop: {} -> {}", seen.join(" -> "), l.slug),
                    )
                    .at(&l.file, parent.span.clone())
                    .help("a label's parent chain must end at a label without `parent`"),
                );
                break;
            }
            if seen.contains(&c.slug.as_str()) {
                break; // a loop further up, reported at its own labels
            }
            seen.push(&c.slug);
            cur = c
                .parent
                .as_ref()
                .and_then(|p| by_slug.get(p.value.as_str()).copied());
        }
    }
}

/// "did you mean" for a label slug, also matching a label's name written instead of its slug.
fn label_help(wanted: &str, slugs: &BTreeSet<&str>) -> String {
    let folded = slugify(wanted);
    if folded != wanted && slugs.contains(folded.as_str()) {
        return format!("labels are named by their slug: write `{folded}`");
    }
    match suggest(wanted, slugs.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "add the label as `content/labels/{folded}.toml`, or use the slug of an existing one"
        ),
    }
}

fn check_release(
    r: &Release,
    label_slugs: &BTreeSet<&str>,
    loaded: &Loaded,
    diags: &mut Vec<Diagnostic>,
) {
    if !label_slugs.contains(r.label.value.as_str()) {
        diags.push(
            Diagnostic::error(
                "unknown-label",
                format!("unknown label `{}`", r.label.value),
            )
            .at(&r.file, r.label.span.clone())
            .label("no such label")
            .help(label_help(&r.label.value, label_slugs)),
        );
    }
    for a in &r.aliases {
        if !is_slug(&a.value) {
            diags.push(
                Diagnostic::error(
                    "bad-slug",
                    format!("alias `{}` is not a valid slug", a.value),
                )
                .at(&r.file, a.span.clone())
                .help(format!("write it as `{}`", slugify(&a.value))),
            );
        } else if a.value == r.slug
            || loaded.releases.iter().any(|o| o.slug == a.value)
            || loaded.broken_releases.contains(&a.value)
        {
            diags.push(
                Diagnostic::error(
                    "alias-taken",
                    format!("alias `{}` is the slug of a release", a.value),
                )
                .at(&r.file, a.span.clone())
                .help("an alias is a former slug that no release uses any more"),
            );
        }
    }
}

/// Rules across releases: the same release twice, aliases claimed twice.
fn check_release_set(loaded: &Loaded, diags: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<(Vec<String>, String, &str), &Release> = BTreeMap::new();
    let mut aliases: BTreeMap<&str, &Release> = BTreeMap::new();
    for r in &loaded.releases {
        let mut artists: Vec<String> = r.artists.value.iter().map(|a| slugify(&a.value)).collect();
        artists.sort();
        let key = (artists, slugify(&r.title.value), r.format.value.id());
        if let Some(first) = seen.get(&key) {
            diags.push(
                Diagnostic::error(
                    "duplicate-release",
                    format!(
                        "\"{}\" by {} ({}) is already recorded in `{}`",
                        r.title.value,
                        r.display_credit(),
                        r.format.value.id(),
                        first.file.display()
                    ),
                )
                .at(&r.file, r.title.span.clone())
                .label("same artists, title and format")
                .help("record an upgrade as another `[[awards]]` in the existing file, then delete this one"),
            );
        } else {
            seen.insert(key, r);
        }
        for a in &r.aliases {
            if let Some(other) = aliases.get(a.value.as_str()) {
                diags.push(
                    Diagnostic::error(
                        "alias-taken",
                        format!(
                            "alias `{}` is also claimed by `{}`",
                            a.value,
                            other.file.display()
                        ),
                    )
                    .at(&r.file, a.span.clone()),
                );
            } else {
                aliases.insert(&a.value, r);
            }
        }
    }
}
