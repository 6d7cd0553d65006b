//! JSON Schemas of `site.toml`, label and release files, for editors.
//!
//! The loader reads records field by field (see [`crate::records::reader`]) and
//! has no serde types, so the types below exist only to describe the format:
//! they mirror `docs/records.md` key for key. Editors using taplo (Even Better
//! TOML) get completion, hover docs and checks while typing from the schemas
//! written into `schemas/` (`impala-awards schema --write`), mapped to the files
//! by `.taplo.toml`. The generator's own checks stay the authority: a schema
//! cannot know the site's labels or its thresholds.
//!
//! TOML dates have no JSON form: taplo (and the tests) turn them into their
//! text, `2021-06-02`, so dates are described as strings with a pattern.

// The fields are never read: they only carry the names, types and docs.
#![allow(dead_code)]

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

use crate::config::{Config, fmt_units};
use crate::iso;
use crate::records::Format;
use crate::tiers::{Tier, default_tiers};

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (months 01-12, days 01-31).
const PARTIAL_DATE: &str = r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$";
/// `YYYY-MM-DD`.
const FULL_DATE: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// An absolute http(s) URL with a host and no white space.
const HTTP_URL: &str = r"^https?://[^\s/?#]+[^\s]*$";
/// Lowercase a-z, 0-9 and single inner hyphens.
const SLUG: &str = r"^[a-z0-9]+(-[a-z0-9]+)*$";
/// Two upper-case letters.
const COUNTRY: &str = "^[A-Z]{2}$";

/// Implements [`JsonSchema`] for a marker type from a function building its schema.
macro_rules! leaf {
    ($ty:ident, $name:literal, $build:expr) => {
        impl JsonSchema for $ty {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $build
            }
        }
    };
}

/// An ISO 3166-1 alpha-2 country code.
struct CountryCode;
leaf!(CountryCode, "CountryCode", {
    let codes: Vec<&str> = iso::COUNTRIES.iter().map(|(c, _)| *c).collect();
    let names: Vec<&str> = iso::COUNTRIES.iter().map(|(_, n)| *n).collect();
    json_schema!({
        "type": "string",
        "pattern": COUNTRY,
        "enum": codes,
        "x-taplo": { "docs": { "enumValues": names } }
    })
});

/// An absolute `http://` or `https://` address.
struct HttpUrl;
leaf!(
    HttpUrl,
    "HttpUrl",
    json_schema!({
        "type": "string",
        "format": "uri",
        "pattern": HTTP_URL
    })
);

/// A date as precise as known: a TOML date, or `"YYYY"` / `"YYYY-MM"`.
struct PartialDate;
leaf!(
    PartialDate,
    "PartialDate",
    json_schema!({
        "type": "string",
        "pattern": PARTIAL_DATE
    })
);

/// A full TOML date.
struct FullDate;
leaf!(
    FullDate,
    "FullDate",
    json_schema!({
        "type": "string",
        "pattern": FULL_DATE
    })
);

/// A slug: lowercase letters, digits and hyphens.
struct Slug;
leaf!(
    Slug,
    "Slug",
    json_schema!({
        "type": "string",
        "pattern": SLUG
    })
);

/// A count of units: a whole number above zero.
struct Units;
leaf!(
    Units,
    "Units",
    json_schema!({
        "type": "integer",
        "minimum": 1
    })
);

/// Text that must not be empty.
struct Text;
leaf!(
    Text,
    "Text",
    json_schema!({
        "type": "string",
        "minLength": 1,
        "pattern": r"\S"
    })
);

/// A release format: one of [`Format::ALL`].
struct FormatId;
leaf!(FormatId, "Format", {
    let ids: Vec<&str> = Format::ALL.iter().map(|f| f.id()).collect();
    let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
    json_schema!({
        "type": "string",
        "enum": ids,
        "x-taplo": { "docs": { "enumValues": names } }
    })
});

/// A tier id; the enum is filled in from the site's tiers by [`generate`].
struct TierId;
leaf!(TierId, "TierId", json_schema!({ "type": "string" }));

/// A scale id; the enum is filled in from the site's scales by [`generate`].
struct ScaleId;
leaf!(ScaleId, "ScaleId", json_schema!({ "type": "string" }));

/// Units shipped per country: `{ DE = 41_000, AT = 12_500 }`.
struct Shipments;
leaf!(
    Shipments,
    "Shipments",
    json_schema!({
        "type": "object",
        "minProperties": 1,
        "propertyNames": { "pattern": COUNTRY },
        "additionalProperties": { "type": "integer", "minimum": 1 }
    })
);

/// The units each level needs under one scale.
struct Levels;
leaf!(
    Levels,
    "Levels",
    json_schema!({
        "type": "object",
        "minProperties": 1,
        "properties": {
            "silver": { "type": "integer", "minimum": 1, "description": "Units of the silver level." },
            "gold": { "type": "integer", "minimum": 1, "description": "Units of the gold level." },
            "diamond": { "type": "integer", "minimum": 1, "description": "Units of the diamond level." },
            "platinum": { "type": "integer", "minimum": 1, "description": "Units of the platinum level." }
        },
        "additionalProperties": { "type": "integer", "minimum": 1 }
    })
);

/// `site.toml`: the site's settings, the European countries, award scales and tiers.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, title = "site.toml")]
pub struct SiteFile {
    /// Name of the site.
    title: Text,
    /// Address the site is published at, with a trailing slash.
    base_url: HttpUrl,
    /// Language of the site, e.g. `"en"` (the default).
    language: Option<Text>,
    /// One sentence describing the site.
    description: Option<String>,
    /// Folder copied as-is into the output (favicon, images).
    static_dir: Option<Text>,
    /// Folder whose templates override those of `themes/default`.
    theme: Option<Text>,
    /// Licence of the open data, e.g. `"CC BY 4.0"`.
    data_licence: Option<Text>,
    /// ISO 3166-1 alpha-2 codes whose shipments count as Europe.
    countries: Vec<CountryCode>,
    /// The unit levels, by period: a scale is in force from its `from` date until the next one starts.
    #[schemars(length(min = 1))]
    scales: Vec<ScaleDef>,
    /// The award tiers in rank order, lowest first. The default tiers apply when absent.
    #[schemars(length(min = 1))]
    tiers: Option<Vec<TierDef>>,
}

/// One award scale.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ScaleDef {
    /// Identifier of the scale, used by an award's `scale` key.
    id: Text,
    /// First day the scale is in force.
    from: FullDate,
    /// Units needed for each level: `silver`, `gold`, `diamond`, `platinum`.
    levels: Levels,
}

/// One award tier.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct TierDef {
    /// Identifier used by an award's `tier` key, e.g. `"double-silver"`.
    id: Text,
    /// Name shown on the site, e.g. `"Impala Double Silver"`.
    name: Text,
    /// A level of the scales: `silver`, `gold`, `diamond` or `platinum`.
    level: Text,
    /// How many times the level's units the tier needs (default 1).
    multiple: Option<Units>,
}

/// `content/labels/<slug>.toml`: one independent label.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, title = "Label")]
pub struct LabelFile {
    /// Name of the label.
    name: Text,
    /// Country of the label: any ISO 3166-1 alpha-2 code, not only European ones.
    country: CountryCode,
    /// The label's website.
    website: Option<HttpUrl>,
    /// Slug of the label this one is an imprint of.
    parent: Option<Slug>,
    /// Other names the label is known by.
    aliases: Option<Vec<String>>,
}

/// `content/releases/<artist>/<slug>.toml`: one release and its whole award history.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, title = "Release")]
pub struct ReleaseFile {
    /// Title exactly as printed, with its diacritics and punctuation.
    title: Text,
    /// The artists, names exactly as credited.
    #[schemars(length(min = 1))]
    artists: Vec<Text>,
    /// The printed credit, only when it is not simply the artists joined.
    credit: Option<Text>,
    /// Slug of the releasing label, a file in `content/labels/`.
    label: Text,
    /// What was released.
    format: FormatId,
    /// Original release date. Leave out when not known for certain.
    released: Option<PartialDate>,
    /// Catalogue number.
    catalogue: Option<String>,
    /// Short notes shown on the release's page (Markdown).
    notes: Option<String>,
    /// Former slugs of this release; the site redirects them here. Only set when a published file is renamed.
    aliases: Option<Vec<Slug>>,
    /// The awards, lowest and earliest first: the first award, then each upgrade.
    #[schemars(length(min = 1))]
    awards: Vec<AwardDef>,
}

/// One award: the tier reached, when, and the evidence (`units`, `shipments` or `source`).
#[derive(JsonSchema)]
#[schemars(
    deny_unknown_fields,
    extend("anyOf" = [
        { "required": ["units"] },
        { "required": ["shipments"] },
        { "required": ["source"] }
    ])
)]
struct AwardDef {
    /// The tier awarded.
    tier: TierId,
    /// Date of the award, as precise as known.
    date: PartialDate,
    /// Total units shipped across Europe.
    units: Option<Units>,
    /// Units shipped per country, e.g. `{ DE = 41_000, AT = 12_500 }`.
    shipments: Option<Shipments>,
    /// Address of the announcement of the award. Required when no figures were published.
    source: Option<HttpUrl>,
    /// Scale the award was given under, when it is not the one in force at its date.
    scale: Option<ScaleId>,
    /// A short note on this award (Markdown).
    note: Option<String>,
}

/// File name and pretty-printed JSON text of each schema.
pub type Generated = Vec<(&'static str, String)>;

/// The folder, relative to the site's root, the schemas are written to.
pub const DIR: &str = "schemas";

/// Generates the three schemas. Tier and scale ids come from `config` when it
/// is given (a site may define its own), else the default tiers and no scale list.
pub fn generate(config: Option<&Config>) -> Generated {
    let settings = SchemaSettings::draft07().with(|s| {
        // taplo only follows references into `definitions`; inlining avoids them altogether.
        s.inline_subschemas = true;
    });
    let mut out = Vec::new();
    for (name, schema) in [
        (
            "site.schema.json",
            settings
                .clone()
                .into_generator()
                .into_root_schema_for::<SiteFile>(),
        ),
        (
            "label.schema.json",
            settings
                .clone()
                .into_generator()
                .into_root_schema_for::<LabelFile>(),
        ),
        (
            "release.schema.json",
            settings
                .clone()
                .into_generator()
                .into_root_schema_for::<ReleaseFile>(),
        ),
    ] {
        let mut value = schema.to_value();
        drop_null(&mut value);
        if name == "release.schema.json" {
            fill_ids(&mut value, config);
        }
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        out.push((name, text));
    }
    out
}

/// TOML has no null: `Option<T>` only means "may be left out" (not in `required`).
fn drop_null(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let t = types.remove(0);
                    map.insert("type".into(), t);
                }
            }
            if let Some(Value::Array(any)) = map.get_mut("anyOf") {
                let before = any.len();
                any.retain(|s| s.get("type").is_none_or(|t| t != "null"));
                if any.len() == 1
                    && before == 2
                    && let Some(Value::Object(only)) = any.pop()
                {
                    map.remove("anyOf");
                    for (k, val) in only {
                        map.entry(k).or_insert(val);
                    }
                }
            }
            if let Some(Value::Array(e)) = map.get_mut("enum") {
                e.retain(|x| !x.is_null());
            }
            map.values_mut().for_each(drop_null);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// Puts the site's tier and scale ids into the release schema as enums, with
/// each tier's name and units as its completion docs.
fn fill_ids(release: &mut Value, config: Option<&Config>) {
    let tiers: Vec<Tier> = config.map_or_else(default_tiers, |c| c.tiers.tiers().to_vec());
    let ids: Vec<&str> = tiers.iter().map(|t| t.id.as_str()).collect();
    let docs: Vec<String> = tiers
        .iter()
        .map(|t| {
            let units: Vec<String> = config
                .map(|c| {
                    c.tiers
                        .scales()
                        .iter()
                        .filter_map(|s| {
                            c.tiers
                                .threshold(t, s)
                                .map(|n| format!("{} units under `{}`", fmt_units(n), s.id))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if units.is_empty() {
                t.name.clone()
            } else {
                format!("{}: {}", t.name, units.join(", "))
            }
        })
        .collect();
    let award = "/properties/awards/items/properties";
    if let Some(Value::Object(tier)) = release.pointer_mut(&format!("{award}/tier")) {
        tier.insert("enum".into(), json!(ids));
        tier.insert("x-taplo".into(), json!({ "docs": { "enumValues": docs } }));
    }
    if let Some(c) = config {
        let scales: Vec<&str> = c.tiers.scales().iter().map(|s| s.id.as_str()).collect();
        let docs: Vec<String> = c
            .tiers
            .scales()
            .iter()
            .map(|s| {
                // Lowest level first, as the tiers rank.
                let mut levels: Vec<(&String, &u64)> = s.levels.iter().collect();
                levels.sort_by_key(|(k, v)| (**v, k.as_str()));
                let levels: Vec<String> = levels
                    .iter()
                    .map(|(k, v)| format!("{k} {}", fmt_units(**v)))
                    .collect();
                format!("in force from {}: {}", s.from, levels.join(", "))
            })
            .collect();
        if let Some(Value::Object(scale)) = release.pointer_mut(&format!("{award}/scale")) {
            scale.insert("enum".into(), json!(scales));
            scale.insert("x-taplo".into(), json!({ "docs": { "enumValues": docs } }));
        }
    }
}

/// A schema file that differs from what the code generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// Path relative to the root, e.g. `schemas/release.schema.json`.
    pub path: String,
    /// Whether the file is missing (rather than different).
    pub missing: bool,
}

/// Compares the schemas in `<root>/schemas` with `generated`.
pub fn stale(root: &std::path::Path, generated: &Generated) -> Vec<Stale> {
    generated
        .iter()
        .filter_map(|(name, text)| {
            let path = format!("{DIR}/{name}");
            match std::fs::read_to_string(root.join(&path)) {
                Ok(t) if t == *text => None,
                Ok(_) => Some(Stale {
                    path,
                    missing: false,
                }),
                Err(_) => Some(Stale {
                    path,
                    missing: true,
                }),
            }
        })
        .collect()
}

/// Writes the schemas into `<root>/schemas`, only the files that changed.
/// Returns the paths written.
pub fn write(root: &std::path::Path, generated: &Generated) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(root.join(DIR))?;
    let mut written = Vec::new();
    for s in stale(root, generated) {
        if let Some((_, text)) = generated
            .iter()
            .find(|(n, _)| s.path.ends_with(&format!("/{n}")))
        {
            std::fs::write(root.join(&s.path), text)?;
            written.push(s.path);
        }
    }
    Ok(written)
}

/// `impala-awards schema [--write]`: reports (or rewrites) stale schema files.
/// `Err` when files are stale and `write` is off, or when writing failed.
pub fn command(root: &std::path::Path, write: bool) -> Result<String, String> {
    let mut diags = Vec::new();
    let config = std::fs::read_to_string(root.join(crate::config::CONFIG_FILE))
        .ok()
        .and_then(|t| {
            crate::config::parse(
                &t,
                std::path::Path::new(crate::config::CONFIG_FILE),
                &mut diags,
            )
        });
    let fallback = if config.is_none() {
        "note: site.toml is missing or invalid: the default tiers are used\n"
    } else {
        ""
    };
    let generated = generate(config.as_ref());
    if write {
        return match self::write(root, &generated) {
            Ok(w) if w.is_empty() => Ok(format!("{fallback}the schemas in {DIR}/ are up to date")),
            Ok(w) => Ok(format!("{fallback}wrote {}", w.join(", "))),
            Err(e) => Err(format!("error: cannot write {DIR}/: {e}")),
        };
    }
    let stale = stale(root, &generated);
    if stale.is_empty() {
        Ok(format!("{fallback}the schemas in {DIR}/ are up to date"))
    } else {
        let list: Vec<String> = stale
            .iter()
            .map(|s| {
                format!(
                    "{} ({})",
                    s.path,
                    if s.missing { "missing" } else { "stale" }
                )
            })
            .collect();
        Err(format!(
            "{fallback}error: {}\nhelp: run `impala-awards schema --write` and commit the result",
            list.join(", ")
        ))
    }
}
