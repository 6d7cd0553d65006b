//! Arbitrary bytes as a release file (and, after a NUL byte, a label file),
//! through the parsers, every check, the diagnostics' renderers and, when the
//! records check clean, the index and the views the pages are made from.
//! Nothing may panic, whatever the input.

#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use chrono::NaiveDate;
use impala_awards::config::{self, Config};
use impala_awards::diagnostics::{self, MessageFormat, Sources};
use impala_awards::index::Index;
use impala_awards::records::load::Loaded;
use impala_awards::records::{Label, parse_label, parse_release};
use impala_awards::render::views::Views;
use impala_awards::{check, records};
use libfuzzer_sys::fuzz_target;

const SITE: &str = include_str!("../../tests/fixtures/valid/site.toml");
const LABELS: &[(&str, &str)] = &[
    (
        "aurora-music-group",
        include_str!("../../tests/fixtures/valid/content/labels/aurora-music-group.toml"),
    ),
    (
        "polar-sound",
        include_str!("../../tests/fixtures/valid/content/labels/polar-sound.toml"),
    ),
    (
        "disques-eclat",
        include_str!("../../tests/fixtures/valid/content/labels/disques-eclat.toml"),
    ),
];
/// A valid release beside the fuzzed one, so cross-record checks have company.
const RELEASE: &str = include_str!(
    "../../tests/fixtures/valid/content/releases/nordlys-kollektiv/nordlys-kollektiv-morketid.toml"
);

const RELEASE_FILE: &str = "content/releases/fuzz/fuzz-release.toml";
const LABEL_FILE: &str = "content/labels/fuzz-label.toml";

/// The fixture's configuration and labels, parsed once.
static BASE: LazyLock<(Config, Vec<Label>)> = LazyLock::new(|| {
    let mut diags = Vec::new();
    let config = config::parse(SITE, Path::new("site.toml"), &mut diags)
        .expect("the fixture's site.toml parses");
    let labels = LABELS
        .iter()
        .map(|(slug, text)| {
            let file = format!("content/labels/{slug}.toml");
            parse_label(slug, text, Path::new(&file), &mut diags).expect("fixture label parses")
        })
        .collect();
    assert!(diags.is_empty(), "{diags:?}");
    (config, labels)
});

fuzz_target!(|data: &[u8]| {
    // The loader reads UTF-8 only (other bytes are a diagnostic before parsing).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (release_text, label_text) = match text.split_once('\0') {
        Some((r, l)) => (r, Some(l)),
        None => (text, None),
    };
    let (config, labels) = &*BASE;
    let today = NaiveDate::from_ymd_opt(2026, 9, 21).expect("a date");
    let mut diags = Vec::new();
    let mut sources = Sources::default();
    let mut loaded = Loaded {
        config: Some(config.clone()),
        labels: labels.clone(),
        ..Loaded::default()
    };
    if let Some(lt) = label_text {
        sources.insert(LABEL_FILE.into(), lt.into());
        match parse_label("fuzz-label", lt, Path::new(LABEL_FILE), &mut diags) {
            Some(l) => loaded.labels.push(l),
            None => {
                loaded.broken_labels.insert("fuzz-label".into());
            }
        }
    }
    sources.insert(RELEASE_FILE.into(), release_text.into());
    match parse_release(
        "fuzz-release",
        release_text,
        Path::new(RELEASE_FILE),
        &mut diags,
    ) {
        Some(r) => loaded.releases.push(r),
        None => {
            loaded.broken_releases.insert("fuzz-release".into());
        }
    }
    let other = Path::new("content/releases/nordlys-kollektiv/nordlys-kollektiv-morketid.toml");
    if let Some(r) = parse_release("nordlys-kollektiv-morketid", RELEASE, other, &mut diags) {
        loaded.releases.push(r);
    }
    diags.extend(check::check(&loaded, config, today));

    // Every span a diagnostic carries must render in every format.
    for d in &diags {
        for format in [
            MessageFormat::Human,
            MessageFormat::Short,
            MessageFormat::Json,
            MessageFormat::Github,
        ] {
            let _ = diagnostics::render(d, &sources, format, false);
        }
    }

    if diags.iter().any(|d| d.is_error()) {
        return;
    }
    // Clean records go on to the index and the views every page is built from.
    let pages: Vec<records::Page> = Vec::new();
    let index = Index::build(config, &loaded.labels, &loaded.releases, &pages);
    let views = Views::new(&index);
    for ri in 0..index.releases.len() {
        let _ = views.release(ri);
        let _ = views.release_summary(ri);
    }
    let _ = views.tier_summaries();
    let _ = views.label_summaries();
    let _ = views.artist_summaries();
    let _ = views.country_summaries();
    let _ = views.year_summaries();
});
