//! Properties that must hold for every input, checked with proptest: slugs,
//! tier thresholds and partial dates.

use std::path::Path;

use chrono::NaiveDate;
use impala_awards::config;
use impala_awards::records::date::PartialDate;
use impala_awards::slug::{is_slug, slugify};
use impala_awards::tiers::{Tiers, default_tiers};
use proptest::prelude::*;

/// Text as editors write names: Latin letters with and without diacritics,
/// other scripts, digits, punctuation, spaces, dots and slashes, and any char.
fn name() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        4 => prop::char::range('a', 'z'),
        2 => prop::char::range('A', 'Z'),
        2 => prop::sample::select(vec![
            'é', 'É', 'ø', 'Ø', 'å', 'ä', 'ö', 'ü', 'ß', 'þ', 'Þ', 'ð', 'æ', 'Œ', 'ł', 'ñ', 'ç',
            'ı', 'İ', 'ș', 'ț', 'Ω', 'Ж', 'я', '日', '本', 'ا', '\u{301}', '\u{308}', '\u{200b}',
            '\u{feff}', '\u{0}', '\u{1F3B5}',
        ]),
        2 => prop::sample::select(vec![
            ' ', '-', '_', '.', '/', '\\', '\'', '"', '&', '%', '?', '#', ':', '<', '>', '\t',
            '\n', '–', '—', '·', '!',
        ]),
        1 => prop::char::range('0', '9'),
        1 => any::<char>(),
    ];
    prop::collection::vec(ch, 0..40).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn slugify_is_url_safe_and_never_empty(s in name()) {
        let slug = slugify(&s);
        prop_assert!(!slug.is_empty());
        prop_assert!(
            slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{slug:?} from {s:?}"
        );
        prop_assert!(!slug.contains(".."));
        prop_assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"));
        prop_assert!(is_slug(&slug), "{slug:?} from {s:?}");
    }

    #[test]
    fn slugify_is_idempotent(s in name()) {
        let once = slugify(&s);
        prop_assert_eq!(slugify(&once), once.clone());
    }

    #[test]
    fn slugify_of_any_string_is_a_slug(s in any::<String>()) {
        let slug = slugify(&s);
        prop_assert!(is_slug(&slug), "{slug:?} from {s:?}");
        prop_assert_eq!(slugify(&slug), slug);
    }

    #[test]
    fn slugs_are_fixed_points(s in "[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,4}") {
        prop_assert!(is_slug(&s));
        prop_assert_eq!(slugify(&s), s);
    }

    #[test]
    fn slugify_folds_case_and_spacing(s in "[A-Za-z0-9 ]{0,30}") {
        // Two spellings of one name are one artist.
        prop_assert_eq!(slugify(&s), slugify(&s.to_uppercase()));
        prop_assert_eq!(slugify(&s), slugify(&format!("  {}  ", s.replace(' ', " - "))));
    }

    #[test]
    fn slugify_folds_combining_diacritics(s in "[a-z]{1,20}") {
        // "é" written as "e" + a combining acute is still "e".
        let marked: String = s.chars().flat_map(|c| [c, '\u{301}']).collect();
        prop_assert_eq!(slugify(&marked), slugify(&s));
    }
}

/// The tiers and scales of the fixture's site.toml (launch and current), read once.
fn fixture_tiers() -> &'static Tiers {
    static TIERS: std::sync::LazyLock<Tiers> = std::sync::LazyLock::new(read_fixture_tiers);
    &TIERS
}

fn read_fixture_tiers() -> Tiers {
    let file = Path::new("tests/fixtures/valid/site.toml");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .expect("read the fixture's site.toml");
    let mut diags = Vec::new();
    let cfg = config::parse(&text, file, &mut diags).expect("the fixture's site.toml parses");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(cfg.tiers.tiers(), default_tiers().as_slice());
    let ids: Vec<&str> = cfg.tiers.scales().iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["launch", "current"]);
    cfg.tiers
}

#[test]
fn default_thresholds_rise_with_rank_under_both_scales() {
    let t = fixture_tiers();
    for scale in t.scales() {
        let needs: Vec<u64> = t
            .tiers()
            .iter()
            .map(|tier| t.threshold(tier, scale).expect("every level is defined"))
            .collect();
        assert!(
            needs.windows(2).all(|w| w[0] < w[1]),
            "{}: {needs:?}",
            scale.id
        );
    }
    // Diamond sits below Platinum.
    let (d, _) = t.tier("diamond").unwrap();
    let (p, _) = t.tier("platinum").unwrap();
    assert!(d < p);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn threshold_is_monotone_in_rank(i in 0usize..8, j in 0usize..8, current in any::<bool>()) {
        let t = fixture_tiers();
        let scale = &t.scales()[usize::from(current)];
        let (lo, hi) = (i.min(j), i.max(j));
        let tiers = t.tiers();
        prop_assert!(t.threshold(&tiers[lo], scale) <= t.threshold(&tiers[hi], scale));
    }

    #[test]
    fn the_highest_tier_for_some_units_is_the_last_threshold_they_meet(
        units in prop_oneof![0u64..2_000_000, any::<u64>()],
        more in 0u64..1_000_000,
        current in any::<bool>(),
    ) {
        let t = fixture_tiers();
        let scale = &t.scales()[usize::from(current)];
        let tiers = t.tiers();
        let rank = |u: u64| t.highest_for(u, scale).map(|tier| t.tier(&tier.id).unwrap().0);
        match rank(units) {
            Some(r) => {
                prop_assert!(t.threshold(&tiers[r], scale).unwrap() <= units);
                if let Some(next) = tiers.get(r + 1) {
                    prop_assert!(units < t.threshold(next, scale).unwrap());
                }
            }
            None => prop_assert!(units < t.threshold(&tiers[0], scale).unwrap()),
        }
        // More units never mean a lower tier.
        prop_assert!(rank(units) <= rank(units.saturating_add(more)));
    }

    #[test]
    fn the_scale_in_force_is_the_latest_started(days in 0i64..20_000) {
        let t = fixture_tiers();
        let date = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(days as u64);
        match t.scale_at(date) {
            Some(s) => {
                prop_assert!(s.from <= date);
                prop_assert!(t.scales().iter().all(|o| o.from <= s.from || o.from > date));
            }
            None => prop_assert!(t.scales().iter().all(|o| o.from > date)),
        }
    }
}

/// Any date a record can hold: a year, a month or a day of years 0000 to 9999.
fn partial_date() -> impl Strategy<Value = PartialDate> {
    prop_oneof![
        (0i32..=9999).prop_map(PartialDate::Year),
        (0i32..=9999, 1u32..=12).prop_map(|(y, m)| PartialDate::Month(y, m)),
        (0i32..=9999, 1u32..=366).prop_filter_map("a real day", |(y, d)| {
            NaiveDate::from_yo_opt(y, d).map(PartialDate::Day)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn partial_dates_round_trip_through_display(d in partial_date()) {
        let s = d.to_string();
        prop_assert_eq!(PartialDate::parse(&s), Some(d), "{}", s);
    }

    #[test]
    fn parse_accepts_only_the_canonical_form(
        s in prop_oneof![
            "[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?",
            "[0-9-]{0,12}",
            any::<String>(),
        ]
    ) {
        if let Some(d) = PartialDate::parse(&s) {
            prop_assert_eq!(d.to_string(), s);
        }
    }

    #[test]
    fn a_date_covers_at_least_one_day(d in partial_date()) {
        prop_assert!(d.first_day() <= d.last_day());
        prop_assert_eq!(d.year(), chrono::Datelike::year(&d.first_day()));
    }

    #[test]
    fn certainly_before_is_irreflexive(d in partial_date()) {
        prop_assert!(!d.certainly_before(&d));
    }

    #[test]
    fn certainly_before_is_a_strict_order(
        a in partial_date(),
        b in partial_date(),
        c in partial_date(),
    ) {
        if a.certainly_before(&b) {
            prop_assert!(!b.certainly_before(&a), "asymmetric");
            prop_assert!(a.sort_key() < b.sort_key(), "agrees with the sort order");
            if b.certainly_before(&c) {
                prop_assert!(a.certainly_before(&c), "transitive");
            }
        }
        // A date and one inside it are never certainly ordered.
        if let PartialDate::Day(day) = b
            && a.first_day() <= day
            && day <= a.last_day()
        {
            prop_assert!(!a.certainly_before(&b) && !b.certainly_before(&a));
        }
    }
}
