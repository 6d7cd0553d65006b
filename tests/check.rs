//! `impala-awards check` on the fixture site: the valid tree checks clean, and
//! each rule of docs/records.md fails on a tree broken in one place, with its
//! message, file and position.

mod common;

use common::{Site, pos, pos_nth};

/// Where the tests put a new release.
const NEW: &str = "content/releases/test-artist/test-artist-test-release.toml";

/// A valid release head (5 lines, blank line) followed by `awards`.
fn release(awards: &str) -> String {
    format!(
        "title = \"Test Release\"\n\
         artists = [\"Test Artist\"]\n\
         label = \"polar-sound\"\n\
         format = \"album\"\n\
         released = 2019-01-01\n\
         \n\
         {awards}"
    )
}

/// The fixture plus one release at [`NEW`] holding `text`.
fn with_release(text: &str) -> common::Checked {
    Site::valid().write(NEW, text).check()
}

// ---------------------------------------------------------------- the valid tree

#[test]
fn valid_fixture_checks_clean() {
    let out = Site::valid().check();
    out.assert_clean();
    assert_eq!(
        out.summary,
        "checked 7 releases, 10 awards, 4 labels: 0 errors, 0 warnings"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[test]
fn valid_fixture_checks_clean_in_place() {
    // The fixture itself, not a copy: the site build tests read it from here.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_impala-awards"))
        .args([
            "check",
            "--message-format",
            "json",
            "--deny-warnings",
            "--root",
        ])
        .arg(common::valid_fixture())
        .env("SOURCE_DATE_EPOCH", common::SOURCE_DATE_EPOCH)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "checked 7 releases, 10 awards, 4 labels: 0 errors, 0 warnings\n"
    );
    assert!(out.status.success());
}

#[test]
fn exit_code_and_summary_count_errors_and_warnings() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 41_000\n\n\
         [[awards]]\ntier = \"gold\"\ndate = 2020-06-01\nunits = 70_000\n",
    );
    let out = with_release(&text);
    assert_eq!(out.codes(), ["higher-tier", "below-threshold"], "{out:?}");
    assert_eq!(out.status, 1);
    assert_eq!(
        out.summary,
        "checked 8 releases, 12 awards, 4 labels: 1 error, 1 warning"
    );
}

// ---------------------------------------------------------------- syntax and structure

#[test]
fn toml_syntax_error() {
    let text = "title = \"Test Release\"\nartists = [\"Test Artist\"]\nlabel = polar-sound\n";
    let out = with_release(text);
    let d = out.only("toml-syntax");
    assert_eq!(d.severity, "error");
    assert!(d.message.starts_with("invalid TOML: "), "{out:?}");
    assert!(
        d.message.contains("string values must be quoted"),
        "{out:?}"
    );
    assert_eq!(d.file.as_deref(), Some(NEW));
    assert_eq!(d.pos(), pos(text, "polar-sound"));
    assert_eq!(d.pos(), (3, 9));
    assert!(d.help[0].contains("https://toml.io"), "{out:?}");
    // A file that does not parse is not counted.
    assert_eq!(
        out.summary,
        "checked 7 releases, 10 awards, 4 labels: 1 error, 0 warnings"
    );
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let text =
        release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nshipment = { DE = 25_000 }\n");
    let out = with_release(&text);
    // The misspelt key leaves the award without figures: both are reported.
    assert_eq!(out.codes(), ["no-evidence", "unknown-key"], "{out:?}");
    let d = &out.diags[1];
    assert_eq!(d.message, "unknown key `shipment` in award");
    assert_eq!(d.file.as_deref(), Some(NEW));
    assert_eq!(d.pos(), pos(&text, "shipment"));
    assert_eq!(d.pos(), (10, 1));
    assert_eq!(d.end_column, Some(9));
    assert_eq!(d.label.as_deref(), Some("not a known key"));
    assert_eq!(d.help, ["did you mean `shipments`?"]);
    assert_eq!(
        d.notes,
        ["an award may have: tier, date, units, shipments, source, scale, note"]
    );
}

#[test]
fn unknown_key_at_the_top_of_a_release() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\n")
        .replace("released = ", "relased = ");
    let out = with_release(&text);
    let d = out.only("unknown-key");
    assert_eq!(d.message, "unknown key `relased` in release");
    assert_eq!(d.pos(), (5, 1));
    assert_eq!(d.help, ["did you mean `released`?"]);
}

#[test]
fn wrong_type_string_units_shows_the_number_without_quotes() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = \"23,500\"\n");
    let out = with_release(&text);
    let d = out.only("wrong-type");
    assert_eq!(d.message, "`units` must be an integer, found a string");
    assert_eq!(d.file.as_deref(), Some(NEW));
    assert_eq!(d.pos(), pos(&text, "\"23,500\""));
    assert_eq!(d.pos(), (10, 9));
    assert_eq!(d.label.as_deref(), Some("expected an integer"));
    assert_eq!(d.help.len(), 1);
    assert!(
        d.help[0].starts_with("write the number without quotes, e.g. `23500`"),
        "{out:?}"
    );
}

#[test]
fn wrong_type_elsewhere() {
    // A number where a string belongs, and a non-string artist after a name
    // with a diacritic: columns count characters, not bytes.
    let text = "title = 1984\nartists = [\"Zoë\", 3]\nlabel = \"polar-sound\"\n\
                format = \"album\"\n\n[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\n\
                units = 25_000\nsource = 42\n";
    let out = with_release(text);
    assert_eq!(out.codes(), ["wrong-type"; 3], "{out:?}");
    let title = &out.diags[0];
    assert_eq!(title.message, "`title` must be a string, found an integer");
    assert_eq!(title.pos(), (1, 9));
    assert_eq!(title.help, ["put the value in double quotes"]);
    let artist = &out.diags[1];
    assert_eq!(
        artist.message,
        "`artists[]` must be a string, found an integer"
    );
    assert_eq!(artist.pos(), pos(text, "3]"));
    assert_eq!(artist.pos(), (2, 19));
    let source = &out.diags[2];
    assert_eq!(
        source.message,
        "`source` must be a string, found an integer"
    );
    assert_eq!(source.pos(), (10, 10));
}

#[test]
fn missing_required_fields() {
    // No title, no label; an award without tier and date.
    let text = "artists = [\"Test Artist\"]\nformat = \"album\"\n\n\
                [[awards]]\nunits = 25_000\n";
    let out = with_release(text);
    assert_eq!(out.codes(), ["missing-field"; 4], "{out:?}");
    let msgs: Vec<&str> = out.diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "release is missing the required field `label`",
            "release is missing the required field `title`",
            "award is missing the required field `date`",
            "award is missing the required field `tier`",
        ]
    );
    // The release's fields are reported at the top of the file, the award's
    // at its `[[awards]]` header.
    assert_eq!(out.diags[0].pos(), (1, 1));
    assert_eq!(out.diags[1].pos(), (1, 1));
    assert_eq!(out.diags[2].pos(), (4, 1));
    assert_eq!(out.diags[3].pos(), (4, 1));
    assert!(out.diags.iter().all(|d| d.file.as_deref() == Some(NEW)));
    assert_eq!(
        out.diags[1].label.as_deref(),
        Some("this release has no `title`")
    );
    assert_eq!(
        out.diags[3].help,
        ["add a line such as `tier = \"silver\"`"]
    );
}

#[test]
fn missing_required_fields_of_labels_and_pages() {
    let site = Site::valid();
    site.write(
        "content/labels/bare.toml",
        "website = \"https://bare.example/\"\n",
    )
    .write("content/pages/press.md", "+++\nweight = 3\n+++\n\nBody.\n");
    let out = site.check();
    let msgs: Vec<(&str, &str)> = out
        .diags
        .iter()
        .map(|d| (d.file.as_deref().unwrap(), d.message.as_str()))
        .collect();
    assert_eq!(
        msgs,
        [
            (
                "content/labels/bare.toml",
                "label is missing the required field `country`"
            ),
            (
                "content/labels/bare.toml",
                "label is missing the required field `name`"
            ),
            (
                "content/pages/press.md",
                "page is missing the required field `title`"
            ),
        ],
        "{out:?}"
    );
    assert!(out.diags.iter().all(|d| d.code == "missing-field"));
}

#[test]
fn release_without_awards() {
    let text = "title = \"Test Release\"\nartists = [\"Test Artist\"]\n\
                label = \"polar-sound\"\nformat = \"album\"\n";
    let out = with_release(text);
    let d = out.only("missing-field");
    assert_eq!(d.message, "release is missing the required field `awards`");
    assert_eq!(d.pos(), (1, 1));
}

#[test]
fn empty_artists() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\n")
        .replace("[\"Test Artist\"]", "[]");
    let out = with_release(&text);
    let d = out.only("empty-artists");
    assert_eq!(d.message, "`artists` is empty");
    assert_eq!(d.file.as_deref(), Some(NEW));
    assert_eq!(d.pos(), (2, 11));
    assert_eq!(d.label.as_deref(), Some("no artist"));
}

#[test]
fn empty_file_is_missing_every_required_field() {
    let out = with_release("");
    assert_eq!(out.codes(), ["missing-field"; 5], "{out:?}");
    let mut fields: Vec<&str> = out
        .diags
        .iter()
        .map(|d| {
            d.message
                .strip_prefix("release is missing the required field ")
                .unwrap()
        })
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["`artists`", "`awards`", "`format`", "`label`", "`title`"]
    );
    for d in &out.diags {
        assert_eq!(d.file.as_deref(), Some(NEW));
        assert_eq!(d.pos(), (1, 1));
    }
}

#[test]
fn unknown_format_suggests() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\n")
        .replace("\"album\"", "\"albun\"");
    let out = with_release(&text);
    let d = out.only("unknown-format");
    assert_eq!(d.message, "unknown format `albun`");
    assert_eq!(d.pos(), (4, 10));
    assert_eq!(d.help, ["did you mean `album`?"]);
}

#[test]
fn bad_date() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = \"2019-13\"\nunits = 25_000\n");
    let out = with_release(&text);
    let d = out.only("bad-date");
    assert_eq!(d.message, "`date` is not a valid date: \"2019-13\"");
    assert_eq!(d.pos(), (9, 8));
}

// ---------------------------------------------------------------- figures

#[test]
fn below_threshold_shows_the_arithmetic() {
    let text = release(
        "[[awards]]\ntier = \"gold\"\ndate = 2019-06-01\nshipments = { FR = 34_500, DE = 40_000 }\n",
    );
    let out = with_release(&text);
    let d = out.only("below-threshold");
    assert_eq!(d.severity, "error");
    assert_eq!(
        d.message,
        "Impala Gold needs 75,000 units; the shipments add up to 74,500"
    );
    assert_eq!(d.file.as_deref(), Some(NEW));
    assert_eq!(d.pos(), pos(&text, "{ FR"));
    assert_eq!(d.pos(), (10, 13));
    assert_eq!(d.label.as_deref(), Some("500 short"));
    assert_eq!(
        d.help,
        [
            "DE 40,000 + FR 34,500 = 74,500",
            "74,500 units qualify for Impala Triple Silver (`tier = \"triple-silver\"`)",
        ]
    );
    assert_eq!(
        d.notes,
        ["scale `current` (in force from 2013-01-01): Impala Gold needs 1 x 75,000 gold = 75,000"]
    );
}

#[test]
fn below_threshold_with_units_under_the_launch_scale() {
    // 2010: the launch scale, Silver needs 30,000.
    let text = release("[[awards]]\ntier = \"silver\"\ndate = \"2010\"\nunits = 29_999\n")
        .replace("2019-01-01", "\"2008\"");
    let out = with_release(&text);
    let d = out.only("below-threshold");
    assert_eq!(
        d.message,
        "Impala Silver needs 30,000 units; `units` is 29,999"
    );
    assert_eq!(d.pos(), (10, 9));
    assert_eq!(d.label.as_deref(), Some("1 short"));
    assert!(d.help.is_empty(), "{out:?}");
    assert_eq!(
        d.notes,
        [
            "scale `launch` (in force from 2007-01-01): Impala Silver needs 1 x 30,000 silver = 30,000"
        ]
    );
}

#[test]
fn named_scale_sets_the_threshold() {
    // Dated 2012 (launch) but naming the current scale: 76,000 is Gold.
    // Naming the launch scale in 2019 makes the same figure fall short.
    let text = release(
        "[[awards]]\ntier = \"gold\"\ndate = 2019-06-01\nunits = 76_000\nscale = \"launch\"\n",
    );
    let out = with_release(&text);
    let d = out.only("below-threshold");
    assert_eq!(
        d.message,
        "Impala Gold needs 100,000 units; `units` is 76,000"
    );
    assert_eq!(
        d.notes,
        [
            "scale `launch` (in force from 2007-01-01, named by the award): Impala Gold needs 1 x 100,000 gold = 100,000"
        ]
    );
}

#[test]
fn higher_tier_is_a_warning_and_deny_warnings_fails() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nshipments = { DE = 30_000, AT = 11_200 }\n",
    );
    let site = Site::valid();
    site.write(NEW, &text);

    let out = site.check();
    let d = out.only("higher-tier");
    assert_eq!(d.severity, "warning");
    assert_eq!(
        d.message,
        "41,200 units already qualify for Impala Double Silver (40,000 needed), above the Impala Silver claimed"
    );
    assert_eq!(d.file.as_deref(), Some(NEW));
    assert_eq!(d.pos(), pos(&text, "\"silver\""));
    assert_eq!(d.pos(), (8, 8));
    assert_eq!(
        d.help,
        ["if the release was awarded Impala Double Silver, write `tier = \"double-silver\"`"]
    );
    assert_eq!(out.status, 0, "a warning alone does not fail: {out:?}");
    assert!(out.summary.ends_with(": 0 errors, 1 warning"), "{out:?}");

    let denied = site.check_with(&["--deny-warnings"]);
    let d = denied.only("higher-tier");
    assert_eq!(d.severity, "error");
    assert_eq!(denied.status, 1, "{denied:?}");
    assert!(
        denied.summary.ends_with(": 1 error, 0 warnings"),
        "{denied:?}"
    );
}

#[test]
fn units_must_equal_the_sum_of_shipments() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 23_000\n\
         shipments = { NO = 9_000, SE = 6_500, DK = 4_000, DE = 4_000 }\n",
    );
    let out = with_release(&text);
    let d = out.only("units-mismatch");
    assert_eq!(
        d.message,
        "`units` is 23,000 but the shipments add up to 23,500"
    );
    assert_eq!(d.pos(), pos(&text, "23_000"));
    assert_eq!(d.pos(), (10, 9));
    assert_eq!(d.label.as_deref(), Some("differs by 500"));
    assert_eq!(
        d.help,
        [
            "DE 4,000 + DK 4,000 + NO 9,000 + SE 6,500 = 23,500",
            "correct one of them, or leave `units` out and let the shipments give the total",
        ]
    );
}

#[test]
fn negative_units() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = -25_000\n\n\
         [[awards]]\ntier = \"gold\"\ndate = 2020-06-01\nshipments = { DE = 80_000, FR = -1 }\n",
    );
    let out = with_release(&text);
    assert_eq!(out.codes(), ["units-not-positive"; 2], "{out:?}");
    let units = &out.diags[0];
    assert_eq!(units.message, "`units` must be positive");
    assert_eq!(units.pos(), (10, 9));
    assert_eq!(units.label.as_deref(), Some("negative units"));
    let ship = &out.diags[1];
    assert_eq!(ship.message, "`shipments.FR` must be positive");
    assert_eq!(ship.pos(), pos(&text, "-1 }"));
    assert_eq!(ship.pos(), (15, 33));
}

#[test]
fn zero_units() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 0\n");
    let out = with_release(&text);
    let d = out.only("units-not-positive");
    assert_eq!(d.message, "`units` must be positive");
    assert_eq!(d.pos(), (10, 9));
    assert_eq!(d.label.as_deref(), Some("zero units"));
    assert_eq!(
        d.help,
        ["leave the figure out if it was not published, and cite a `source`"]
    );
}

#[test]
fn units_past_u64() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 18_446_744_073_709_551_616\n",
    );
    let out = with_release(&text);
    let d = out.only("number-too-large");
    assert_eq!(d.message, "`units` is too large");
    assert_eq!(d.pos(), (10, 9));
    assert_eq!(d.label.as_deref(), Some("larger than 18446744073709551615"));
    assert_eq!(d.help, ["check for extra digits"]);
}

#[test]
fn shipments_that_overflow_are_an_error() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\n\
         shipments = { DE = 18_000_000_000_000_000_000, FR = 18_000_000_000_000_000_000 }\n",
    );
    let out = with_release(&text);
    let d = out.only("units-overflow");
    assert_eq!(
        d.message,
        "the shipments add up to more than can be counted"
    );
    assert_eq!(d.pos(), (10, 13));
    assert_eq!(d.help, ["check the figures for extra digits"]);
}

#[test]
fn shipments_only_to_the_sites_countries() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\n\
         shipments = { DE = 15_000, US = 5_000, UK = 4_000, fr = 1_000 }\n",
    );
    let out = with_release(&text);
    assert_eq!(
        out.codes(),
        ["country-not-europe", "unknown-country", "unknown-country"],
        "{out:?}"
    );
    let us = &out.diags[0];
    assert_eq!(
        us.message,
        "shipments to `US` (United States of America) do not count towards a European award"
    );
    assert_eq!(us.pos(), pos(&text, "US ="));
    assert_eq!(us.pos(), (10, 28));
    assert_eq!(us.label.as_deref(), Some("not in the site's `countries`"));
    let uk = &out.diags[1];
    assert_eq!(uk.message, "`UK` is not an ISO 3166-1 alpha-2 country code");
    assert_eq!(uk.pos(), pos(&text, "UK ="));
    assert_eq!(uk.help, ["did you mean `GB` (United Kingdom)?"]);
    let fr = &out.diags[2];
    assert_eq!(fr.message, "`fr` is not an ISO 3166-1 alpha-2 country code");
    assert_eq!(fr.pos(), pos(&text, "fr ="));
    assert_eq!(fr.help, ["did you mean `FR` (France)?"]);
}

#[test]
fn label_country_must_be_iso() {
    let site = Site::valid();
    site.write(
        "content/labels/kosovo-sound.toml",
        "name = \"Kosovo Sound\"\ncountry = \"XK\"\n",
    )
    .write(
        "content/labels/albion-records.toml",
        "name = \"Albion Records\"\ncountry = \"UK\"\n",
    )
    // Any ISO code is fine for a label, not only the European ones.
    .write(
        "content/labels/maple-static.toml",
        "name = \"Maple Static\"\ncountry = \"CA\"\n",
    );
    let out = site.check();
    assert_eq!(out.codes(), ["unknown-country"; 2], "{out:?}");
    let uk = &out.diags[0];
    assert_eq!(
        uk.file.as_deref(),
        Some("content/labels/albion-records.toml")
    );
    assert_eq!(uk.message, "`UK` is not an ISO 3166-1 alpha-2 country code");
    assert_eq!(uk.pos(), (2, 11));
    assert_eq!(uk.help, ["did you mean `GB` (United Kingdom)?"]);
    let xk = &out.diags[1];
    assert_eq!(xk.file.as_deref(), Some("content/labels/kosovo-sound.toml"));
    assert_eq!(xk.message, "`XK` is not an ISO 3166-1 alpha-2 country code");
    assert_eq!(xk.pos(), (2, 11));
    assert!(xk.help.is_empty(), "{out:?}");
    assert!(out.summary.contains("7 labels"), "{out:?}");
}

#[test]
fn source_required_without_figures() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = \"2019-06\"\nnote = \"Reported in the press.\"\n",
    );
    let out = with_release(&text);
    let d = out.only("no-evidence");
    assert_eq!(d.message, "an award without figures must cite a `source`");
    assert_eq!(d.file.as_deref(), Some(NEW));
    assert_eq!(d.pos(), pos(&text, "[[awards]]"));
    assert_eq!(d.pos(), (7, 1));
    assert_eq!(
        d.label.as_deref(),
        Some("no `units`, `shipments` or `source`")
    );
}

// ---------------------------------------------------------------- references

#[test]
fn unknown_tier_suggests() {
    let text = release(
        "[[awards]]\ntier = \"sliver\"\ndate = 2019-06-01\nunits = 25_000\n\n\
         [[awards]]\ntier = \"Impala Double Silver\"\ndate = 2020-06-01\nunits = 45_000\n\n\
         [[awards]]\ntier = \"bronze\"\ndate = 2021-06-01\nunits = 85_000\n",
    );
    let out = with_release(&text);
    assert_eq!(out.codes(), ["unknown-tier"; 3], "{out:?}");
    let d = &out.diags[0];
    assert_eq!(d.message, "unknown tier `sliver`");
    assert_eq!(d.pos(), (8, 8));
    assert_eq!(d.label.as_deref(), Some("not a tier"));
    assert_eq!(d.help, ["did you mean `silver`?"]);
    assert_eq!(
        d.notes,
        [
            "the tiers are: silver, double-silver, triple-silver, gold, double-gold, diamond, platinum, double-platinum"
        ]
    );
    let by_name = &out.diags[1];
    assert_eq!(by_name.message, "unknown tier `Impala Double Silver`");
    assert_eq!(by_name.pos(), (13, 8));
    assert_eq!(by_name.help, ["did you mean `double-silver`?"]);
    let none = &out.diags[2];
    assert_eq!(none.pos(), (18, 8));
    assert!(none.help.is_empty(), "{out:?}");
}

#[test]
fn unknown_scale_suggests() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\nscale = \"curent\"\n",
    );
    let out = with_release(&text);
    let d = out.only("unknown-scale");
    assert_eq!(d.message, "unknown scale `curent`");
    assert_eq!(d.pos(), (11, 9));
    assert_eq!(d.label.as_deref(), Some("not a scale in site.toml"));
    assert_eq!(d.help, ["did you mean `current`?"]);
    assert_eq!(d.notes, ["the scales are: launch, current"]);
}

#[test]
fn unknown_label_suggests() {
    let award = "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\n";
    let typo = release(award).replace("\"polar-sound\"", "\"polar-sond\"");
    let out = with_release(&typo);
    let d = out.only("unknown-label");
    assert_eq!(d.message, "unknown label `polar-sond`");
    assert_eq!(d.file.as_deref(), Some(NEW));
    assert_eq!(d.pos(), (3, 9));
    assert_eq!(d.label.as_deref(), Some("no such label"));
    assert_eq!(d.help, ["did you mean `polar-sound`?"]);

    // The label's name written instead of its slug.
    let name = release(award).replace("\"polar-sound\"", "\"Disques Éclat\"");
    let out = with_release(&name);
    let d = out.only("unknown-label");
    assert_eq!(d.message, "unknown label `Disques Éclat`");
    assert_eq!(
        d.help,
        ["labels are named by their slug: write `disques-eclat`"]
    );
}

#[test]
fn parent_label_must_exist() {
    let site = Site::valid();
    let text = "name = \"Polar Sound\"\ncountry = \"NO\"\nparent = \"aurora-music\"\n";
    site.write("content/labels/polar-sound.toml", text);
    let out = site.check();
    let d = out.only("unknown-label");
    assert_eq!(d.message, "parent label `aurora-music` does not exist");
    assert_eq!(d.file.as_deref(), Some("content/labels/polar-sound.toml"));
    assert_eq!(d.pos(), (3, 10));
    assert_eq!(d.help, ["did you mean `aurora-music-group`?"]);
}

#[test]
fn parent_labels_must_not_loop() {
    let site = Site::valid();
    site.write(
        "content/labels/loop-a.toml",
        "name = \"Loop A\"\ncountry = \"SE\"\nparent = \"loop-b\"\n",
    )
    .write(
        "content/labels/loop-b.toml",
        "name = \"Loop B\"\ncountry = \"SE\"\nparent = \"loop-a\"\n",
    )
    .write(
        "content/labels/self-made.toml",
        "name = \"Self Made\"\ncountry = \"SE\"\nparent = \"self-made\"\n",
    );
    let out = site.check();
    assert_eq!(out.codes(), ["parent-loop"; 3], "{out:?}");
    let a = &out.diags[0];
    assert_eq!(a.file.as_deref(), Some("content/labels/loop-a.toml"));
    assert_eq!(a.message, "label parents loop: loop-a -> loop-b -> loop-a");
    assert_eq!(a.pos(), (3, 10));
    let b = &out.diags[1];
    assert_eq!(b.file.as_deref(), Some("content/labels/loop-b.toml"));
    assert_eq!(b.message, "label parents loop: loop-b -> loop-a -> loop-b");
    let own = &out.diags[2];
    assert_eq!(own.file.as_deref(), Some("content/labels/self-made.toml"));
    assert_eq!(own.message, "a label cannot be its own parent");
    assert_eq!(own.pos(), (3, 10));
}

#[test]
fn duplicate_slug_in_two_subfolders() {
    let site = Site::valid();
    let text = release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\n");
    site.write(
        "content/releases/other/nordlys-kollektiv-morketid.toml",
        &text,
    );
    let out = site.check();
    let d = out.only("duplicate-slug");
    assert_eq!(
        d.message,
        "two release files have the slug `nordlys-kollektiv-morketid`"
    );
    assert_eq!(
        d.file.as_deref(),
        Some("content/releases/other/nordlys-kollektiv-morketid.toml")
    );
    assert_eq!(d.line, None, "the whole file is concerned");
    assert_eq!(
        d.notes,
        ["the other is `content/releases/nordlys-kollektiv/nordlys-kollektiv-morketid.toml`"]
    );
    assert_eq!(
        d.help,
        ["a release's file name is its permanent URL: rename one of them"]
    );
}

#[test]
fn duplicate_release_in_two_files() {
    // Same artists (in another order), title and format as the fixture's Mørketid.
    let text = "title = \"Mørketid\"\nartists = [\"Ada Vik\", \"Nordlys Kollektiv\"]\n\
                label = \"polar-sound\"\nformat = \"album\"\n\n\
                [[awards]]\ntier = \"gold\"\ndate = 2023-01-10\nunits = 80_000\n";
    let file = "content/releases/vik/vik-morketid.toml";
    let out = Site::valid().write(file, text).check();
    let d = out.only("duplicate-release");
    assert_eq!(
        d.message,
        "\"Mørketid\" by Ada Vik & Nordlys Kollektiv (album) is already recorded in \
         `content/releases/nordlys-kollektiv/nordlys-kollektiv-morketid.toml`"
    );
    assert_eq!(d.file.as_deref(), Some(file));
    assert_eq!(d.pos(), (1, 9));
    assert_eq!(
        d.help,
        ["record an upgrade as another `[[awards]]` in the existing file, then delete this one"]
    );

    // Another format is another release.
    let single = text.replace("\"album\"", "\"single\"");
    Site::valid().write(file, single).check().assert_clean();
}

// ---------------------------------------------------------------- dates and order

#[test]
fn awards_in_date_order() {
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2021-06-02\nunits = 25_000\n\n\
         [[awards]]\ntier = \"gold\"\ndate = 2020-01-01\nunits = 80_000\n",
    );
    let out = with_release(&text);
    let d = out.only("award-order");
    assert_eq!(
        d.message,
        "this award is dated 2020-01-01 but the award before it is dated 2021-06-02"
    );
    assert_eq!(d.pos(), pos(&text, "2020-01-01"));
    assert_eq!(d.pos(), (14, 8));
    assert_eq!(d.label.as_deref(), Some("earlier than the previous award"));
}

#[test]
fn awards_go_up_in_tier() {
    let text = release(
        "[[awards]]\ntier = \"gold\"\ndate = 2019-06-01\nunits = 80_000\n\n\
         [[awards]]\ntier = \"silver\"\ndate = 2020-06-01\nunits = 85_000\n",
    );
    let out = with_release(&text);
    // 85,000 also qualifies for Gold: the award is both lower and mis-tiered.
    let d = &out.with_code("award-order");
    assert_eq!(d.len(), 1, "{out:?}");
    let d = d[0];
    assert_eq!(
        d.message,
        "an upgrade must reach a higher tier: Impala Silver follows Impala Gold"
    );
    assert_eq!(d.pos(), (13, 8));
    assert_eq!(
        d.label.as_deref(),
        Some("not higher than the previous award")
    );
    assert_eq!(out.codes(), ["higher-tier", "award-order"], "{out:?}");

    let same = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\n\n\
         [[awards]]\ntier = \"silver\"\ndate = 2020-06-01\nunits = 30_000\n",
    );
    let out = with_release(&same);
    let d = out.only("award-order");
    assert_eq!(
        d.message,
        "an upgrade must reach a higher tier: Impala Silver follows Impala Silver"
    );
    assert_eq!(d.pos(), pos_nth(&same, "\"silver\"", 1));
    assert_eq!(d.pos(), (13, 8));
}

#[test]
fn award_before_release() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = \"2020\"\nunits = 25_000\n")
        .replace("2019-01-01", "2021-03-05");
    let out = with_release(&text);
    let d = out.only("award-before-release");
    assert_eq!(
        d.message,
        "the award is dated 2020, before the release came out (2021-03-05)"
    );
    assert_eq!(d.pos(), (9, 8));
    assert_eq!(d.label.as_deref(), Some("before the release date"));
}

#[test]
fn award_after_the_build_date() {
    // SOURCE_DATE_EPOCH is 2026-09-21. "2026-09" may be an earlier day: fine.
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = \"2026-09\"\nunits = 25_000\n\n\
         [[awards]]\ntier = \"gold\"\ndate = 2026-09-22\nunits = 80_000\n",
    );
    let out = with_release(&text);
    let d = out.only("award-in-future");
    assert_eq!(
        d.message,
        "the award is dated 2026-09-22, after today (2026-09-21)"
    );
    assert_eq!(d.pos(), (14, 8));
    assert_eq!(d.label.as_deref(), Some("in the future"));
}

#[test]
fn overlapping_partial_dates_are_accepted() {
    // Released "2021", awards "2021-03" then "2021": each could be right.
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = \"2021-03\"\nunits = 25_000\n\n\
         [[awards]]\ntier = \"double-silver\"\ndate = \"2021\"\nunits = 45_000\n",
    )
    .replace("2019-01-01", "\"2021\"");
    with_release(&text).assert_clean();

    // Released in June 2021, awarded some day of 2021.
    let text = release("[[awards]]\ntier = \"silver\"\ndate = \"2021\"\nunits = 25_000\n")
        .replace("2019-01-01", "\"2021-06\"");
    with_release(&text).assert_clean();

    // But "2020" is certainly before 2021-03-05.
    let text = release("[[awards]]\ntier = \"silver\"\ndate = \"2020\"\nunits = 25_000\n")
        .replace("2019-01-01", "\"2021\"");
    with_release(&text).only("award-before-release");
}

#[test]
fn award_before_the_first_scale() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = \"2006\"\nunits = 35_000\n")
        .replace("2019-01-01", "\"2005\"");
    let out = with_release(&text);
    let d = out.only("no-scale");
    assert_eq!(d.message, "no award scale was in force on 2006");
    assert_eq!(d.pos(), (9, 8));
    assert!(
        d.help[0].starts_with("the first scale starts on 2007-01-01"),
        "{out:?}"
    );
}

#[test]
fn aliases_must_be_free_slugs() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\n")
        .replace(
            "released = 2019-01-01\n",
            "released = 2019-01-01\naliases = [\"jaakide-hamara\", \"Old Name\", \"nordlys-kollektiv-morketid-deluxe\"]\n",
        );
    let out = with_release(&text);
    assert_eq!(
        out.codes(),
        ["alias-taken", "bad-slug", "alias-taken"],
        "{out:?}"
    );
    assert_eq!(
        out.diags[0].message,
        "alias `jaakide-hamara` is the slug of a release"
    );
    assert_eq!(out.diags[0].pos(), (6, 12));
    assert_eq!(out.diags[1].message, "alias `Old Name` is not a valid slug");
    assert_eq!(out.diags[1].help, ["write it as `old-name`"]);
    assert_eq!(
        out.diags[2].message,
        "alias `nordlys-kollektiv-morketid-deluxe` is also claimed by \
         `content/releases/nordlys-kollektiv/nordlys-kollektiv-morketid.toml`"
    );
    assert_eq!(out.diags[2].file.as_deref(), Some(NEW));
}

// ---------------------------------------------------------------- URLs

#[test]
fn urls_must_be_http() {
    let site = Site::valid();
    let text = release(
        "[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\nsource = \"javascript:alert(1)\"\n",
    );
    site.write(NEW, &text).write(
        "content/labels/disques-eclat.toml",
        "name = \"Disques Éclat\"\ncountry = \"FR\"\nwebsite = \"www.disques-eclat.example\"\n",
    );
    let out = site.check();
    assert_eq!(out.codes(), ["bad-url"; 2], "{out:?}");
    let website = &out.diags[0];
    assert_eq!(website.message, "`website` must be an http(s) URL");
    assert_eq!(
        website.file.as_deref(),
        Some("content/labels/disques-eclat.toml")
    );
    assert_eq!(website.pos(), (3, 11));
    let source = &out.diags[1];
    assert_eq!(source.message, "`source` must be an http(s) URL");
    assert_eq!(source.file.as_deref(), Some(NEW));
    assert_eq!(source.pos(), (11, 10));
    assert_eq!(source.label.as_deref(), Some("not an http(s) URL"));
    assert_eq!(
        source.help,
        ["write the full address, e.g. `source = \"https://example.org/news/123\"`"]
    );
}

// ---------------------------------------------------------------- pages and files

#[test]
fn page_without_front_matter() {
    let out = Site::valid()
        .write("content/pages/press.md", "# Press\n\nQuote us.\n")
        .check();
    let d = out.only("front-matter");
    assert_eq!(d.message, "a page must start with `+++` front matter");
    assert_eq!(d.file.as_deref(), Some("content/pages/press.md"));
    assert_eq!(d.pos(), (1, 1));

    let out = Site::valid()
        .write(
            "content/pages/press.md",
            "+++\ntitle = \"Press\"\n\n# Press\n",
        )
        .check();
    let d = out.only("front-matter");
    assert_eq!(d.message, "the front matter is not closed");
    assert_eq!(d.pos(), (1, 1));
}

#[test]
fn page_front_matter_errors_point_into_the_file() {
    let text = "+++\ntitle = \"Press\"\nwieght = 3\n+++\n\nBody.\n";
    let out = Site::valid().write("content/pages/press.md", text).check();
    let d = out.only("unknown-key");
    assert_eq!(d.message, "unknown key `wieght` in page");
    assert_eq!(d.pos(), (3, 1));
    assert_eq!(d.help, ["did you mean `weight`?"]);
}

#[test]
fn page_slug_reserved() {
    let out = Site::valid()
        .write(
            "content/pages/releases.md",
            "+++\ntitle = \"Releases\"\n+++\n\nAll releases.\n",
        )
        .check();
    let d = out.only("reserved-slug");
    assert_eq!(d.message, "page slug `releases` is used by the site itself");
    assert_eq!(d.file.as_deref(), Some("content/pages/releases.md"));
    assert_eq!(d.line, None);
    assert_eq!(d.help, ["rename the file, e.g. to `about-releases.md`"]);
}

#[test]
fn file_name_must_be_a_slug() {
    let text = release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\n");
    let file = "content/releases/test-artist/My Release.toml";
    let out = Site::valid().write(file, text).check();
    let d = out.only("bad-slug");
    assert_eq!(d.message, "file name `My Release` is not a valid slug");
    assert_eq!(d.file.as_deref(), Some(file));
    assert_eq!(d.line, None);
    assert_eq!(
        d.help,
        ["rename the file to `my-release.toml`: slugs use lowercase a-z, 0-9 and hyphens"]
    );
}

#[test]
fn file_not_utf8() {
    // "Zoë" in Latin-1 on line 2.
    let mut bytes = b"title = \"Test Release\"\nartists = [\"Zo".to_vec();
    bytes.push(0xEB);
    bytes.extend_from_slice(b" Brandt\"]\nlabel = \"polar-sound\"\nformat = \"album\"\n");
    let out = Site::valid().write(NEW, bytes).check();
    let d = out.only("not-utf8");
    assert_eq!(d.message, "file is not valid UTF-8");
    assert_eq!(d.file.as_deref(), Some(NEW));
    assert_eq!(d.pos(), (2, 15));
    assert_eq!(d.label.as_deref(), Some("invalid byte"));
}

#[test]
fn bom_and_crlf_files_work() {
    let site = Site::valid();
    let text = release("[[awards]]\ntier = \"silver\"\ndate = 2019-06-01\nunits = 25_000\n");
    site.write(NEW, format!("\u{feff}{}", text.replace('\n', "\r\n")))
        .write(
            "content/labels/crlf-records.toml",
            "\u{feff}name = \"CRLF Records\"\r\ncountry = \"IE\"\r\n",
        )
        .write(
            "content/pages/press.md",
            "\u{feff}+++\r\ntitle = \"Press\"\r\nweight = 3\r\n+++\r\n\r\nQuote us.\r\n",
        );
    let out = site.check();
    out.assert_clean();
    assert_eq!(
        out.summary,
        "checked 8 releases, 11 awards, 5 labels: 0 errors, 0 warnings"
    );

    // Positions ignore the BOM and count CRLF as one line end.
    let broken = format!(
        "\u{feff}{}",
        text.replace("title", "titel").replace('\n', "\r\n")
    );
    let out = site.write(NEW, broken).check();
    let codes = out.codes();
    assert_eq!(codes, ["missing-field", "unknown-key"], "{out:?}");
    let d = &out.diags[1];
    assert_eq!(d.message, "unknown key `titel` in release");
    assert_eq!(d.pos(), (1, 1));
    let out = site
        .write(
            NEW,
            format!(
                "\u{feff}{}",
                text.replace("25_000", "2_000").replace('\n', "\r\n")
            ),
        )
        .check();
    assert_eq!(out.only("below-threshold").pos(), (10, 9));
}

#[test]
fn ignored_file_is_a_warning() {
    let out = Site::valid()
        .write("content/releases/test-artist/notes.txt", "to do\n")
        .check();
    let d = out.only("ignored-file");
    assert_eq!(d.severity, "warning");
    assert_eq!(d.message, "ignored: not a `.toml` file");
    assert_eq!(
        d.file.as_deref(),
        Some("content/releases/test-artist/notes.txt")
    );
    assert_eq!(out.status, 0);
}

#[test]
fn site_toml_problems() {
    let site = Site::valid();
    let config = std::fs::read_to_string(site.root().join("site.toml"))
        .unwrap()
        .replace("\"GB\"", "\"UK\"")
        .replace("base_url", "base_uri");
    site.write("site.toml", &config);
    let out = site.check();
    assert_eq!(
        out.codes(),
        ["missing-field", "unknown-key", "unknown-country"],
        "{out:?}"
    );
    assert!(
        out.diags
            .iter()
            .all(|d| d.file.as_deref() == Some("site.toml"))
    );
    assert_eq!(
        out.diags[0].message,
        "site.toml is missing the required field `base_url`"
    );
    assert_eq!(out.diags[1].pos(), pos(&config, "base_uri"));
    assert_eq!(out.diags[1].help, ["did you mean `base_url`?"]);
    assert_eq!(out.diags[2].pos(), pos(&config, "\"UK\""));
    assert_eq!(out.status, 1);

    site.remove("site.toml");
    let out = site.check();
    let d = out.only("unreadable");
    assert_eq!(d.file.as_deref(), Some("site.toml"));
    assert!(d.help[0].contains("pass `--root DIR`"), "{out:?}");
}

// ---------------------------------------------------------------- one run, every problem

#[test]
fn every_problem_of_a_tree_in_one_run() {
    let site = Site::valid();
    let below = release(
        "[[awards]]\ntier = \"gold\"\ndate = 2019-06-01\nshipments = { FR = 34_500, DE = 40_000 }\n",
    );
    site.write(NEW, &below)
        .write(
            "content/labels/albion-records.toml",
            "name = \"Albion Records\"\ncountry = \"UK\"\nwebsite = \"ftp://albion.example/\"\n",
        )
        .write("content/pages/press.md", "# Press\n")
        .write(
            "content/releases/ecume-noire/ecume-noire-les-heures-pales.toml",
            "title = \"Les Heures Pâles\"\nartists = [\"Écume Noire\"]\nlabel = \"disques-eclat\"\n\
             format = \"album\"\n\n[[awards]]\ntier = \"glod\"\ndate = \"2010\"\nunits = -1\n",
        );
    let out = site.check();
    let found: Vec<(&str, &str, Option<usize>)> = out
        .diags
        .iter()
        .map(|d| (d.file.as_deref().unwrap(), d.code.as_str(), d.line))
        .collect();
    assert_eq!(
        found,
        [
            (
                "content/labels/albion-records.toml",
                "unknown-country",
                Some(2)
            ),
            ("content/labels/albion-records.toml", "bad-url", Some(3)),
            ("content/pages/press.md", "front-matter", Some(1)),
            (
                "content/releases/ecume-noire/ecume-noire-les-heures-pales.toml",
                "units-not-positive",
                Some(9)
            ),
            (NEW, "below-threshold", Some(10)),
        ],
        "{out:?}"
    );
    assert_eq!(out.status, 1);
    assert_eq!(
        out.summary,
        "checked 8 releases, 9 awards, 5 labels: 5 errors, 0 warnings"
    );
}

// ---------------------------------------------------------------- message formats

/// A tree with one below-threshold error in [`NEW`], line 10.
fn one_error() -> (Site, String) {
    let text = release(
        "[[awards]]\ntier = \"gold\"\ndate = 2019-06-01\nshipments = { FR = 34_500, DE = 40_000 }\n",
    );
    let site = Site::valid();
    site.write(NEW, &text);
    (site, text)
}

#[test]
fn message_format_short() {
    let (site, _) = one_error();
    let out = site.run(&["check", "--message-format", "short"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "{NEW}:10:13: error[below-threshold]: Impala Gold needs 75,000 units; \
             the shipments add up to 74,500 (help: DE 40,000 + FR 34,500 = 74,500)\n\
             checked 8 releases, 11 awards, 4 labels: 1 error, 0 warnings\n"
        )
    );
}

#[test]
fn message_format_github() {
    let (site, _) = one_error();
    let out = site.run(&["check", "--message-format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let mut lines = stderr.lines();
    let first = lines.next().unwrap();
    assert!(
        first.starts_with(&format!(
            "::error file={NEW},line=10,col=13,endLine=10,endColumn=41,title=below-threshold::"
        )),
        "{stderr}"
    );
    assert!(
        first.ends_with(
            "::Impala Gold needs 75,000 units; the shipments add up to 74,500: 500 short\
             %0Ahelp: DE 40,000 + FR 34,500 = 74,500\
             %0Ahelp: 74,500 units qualify for Impala Triple Silver (`tier = \"triple-silver\"`)\
             %0Anote: scale `current` (in force from 2013-01-01): Impala Gold needs 1 x 75,000 gold = 75,000"
        ),
        "{stderr}"
    );
    assert_eq!(
        lines.next(),
        Some("checked 8 releases, 11 awards, 4 labels: 1 error, 0 warnings")
    );
    assert_eq!(lines.next(), None);
}

#[test]
fn message_format_human() {
    let (site, _) = one_error();
    let out = site.run(&["check", "--message-format", "human"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains('\u{1b}'),
        "no colours when piped: {stderr}"
    );
    assert!(
        stderr.contains(
            "error[below-threshold]: Impala Gold needs 75,000 units; the shipments add up to 74,500"
        ),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--> {NEW}:10:13")), "{stderr}");
    assert!(
        stderr.contains("shipments = { FR = 34_500, DE = 40_000 }"),
        "the source line is shown: {stderr}"
    );
    assert!(stderr.contains("^^^"), "the span is underlined: {stderr}");
    assert!(stderr.contains("500 short"), "{stderr}");
    assert!(stderr.contains("tier claimed here"), "{stderr}");
    assert!(
        stderr.contains("help: DE 40,000 + FR 34,500 = 74,500"),
        "{stderr}"
    );
    assert!(stderr.contains("note: scale `current`"), "{stderr}");
    assert!(
        stderr.ends_with("checked 8 releases, 11 awards, 4 labels: 1 error, 0 warnings\n"),
        "{stderr}"
    );
    // Human is the default.
    let default = site.run(&["check"]);
    assert_eq!(String::from_utf8(default.stderr).unwrap(), stderr);
}
