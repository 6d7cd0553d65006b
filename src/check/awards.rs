//! Rules on one release's awards: tiers, scales, figures, dates, order.

use chrono::NaiveDate;

use super::url_check;
use crate::config::{Config, fmt_units, unknown_country};
use crate::diagnostics::{Diagnostic, suggest};
use crate::iso;
use crate::records::{Award, Release};
use crate::slug::slugify;
use crate::tiers::{Scale, Tier};

/// Checks every award of `r`.
pub fn check_awards(r: &Release, config: &Config, today: NaiveDate, diags: &mut Vec<Diagnostic>) {
    let mut prev: Option<(&Award, Option<usize>)> = None;
    for a in &r.awards {
        let tier = resolve_tier(a, r, config, diags);
        let scale = resolve_scale(a, r, config, diags);
        let total = check_figures(a, r, config, diags);
        if let (Some((_, tier)), Some(scale), Some(total)) = (tier, scale, total) {
            check_threshold(a, r, config, tier, scale, total, diags);
        }
        if let Some(s) = &a.source {
            url_check("source", s, &r.file, diags);
        }
        check_dates(a, r, today, diags);
        if let Some((p, prev_rank)) = prev {
            if a.date.value.certainly_before(&p.date.value) {
                diags.push(
                    Diagnostic::error(
                        "award-order",
                        format!(
                            "this award is dated {} but the award before it is dated {}",
                            a.date.value, p.date.value
                        ),
                    )
                    .at(&r.file, a.date.span.clone())
                    .label("earlier than the previous award")
                    .context(p.date.span.clone(), "previous award")
                    .help("list `[[awards]]` in the order they were given, oldest first"),
                );
            }
            if let (Some(pr), Some((rank, t))) = (prev_rank, tier)
                && rank <= pr
            {
                let prev_name = config.tiers.tiers().get(pr).map_or("", |t| t.name.as_str());
                diags.push(
                    Diagnostic::error(
                        "award-order",
                        format!(
                            "an upgrade must reach a higher tier: {} follows {}",
                            t.name, prev_name
                        ),
                    )
                    .at(&r.file, a.tier.span.clone())
                    .label("not higher than the previous award")
                    .context(p.tier.span.clone(), "previous award")
                    .help("each award of a release is an upgrade; list them lowest tier first, and record each tier once"),
                );
            }
        }
        prev = Some((a, tier.map(|t| t.0)));
    }
}

fn resolve_tier<'c>(
    a: &Award,
    r: &Release,
    config: &'c Config,
    diags: &mut Vec<Diagnostic>,
) -> Option<(usize, &'c Tier)> {
    if let Some(found) = config.tiers.tier(&a.tier.value) {
        return Some(found);
    }
    let tiers = config.tiers.tiers();
    // "Impala Gold" or "Double Silver" written instead of the id.
    let folded = slugify(
        a.tier
            .value
            .trim_start_matches("Impala ")
            .trim_start_matches("impala "),
    );
    let by_name = tiers
        .iter()
        .find(|t| t.id == folded || slugify(&t.name) == slugify(&a.tier.value))
        .map(|t| t.id.as_str());
    let hint = by_name.or_else(|| suggest(&a.tier.value, tiers.iter().map(|t| t.id.as_str())));
    let ids: Vec<&str> = tiers.iter().map(|t| t.id.as_str()).collect();
    diags.push(
        Diagnostic::error("unknown-tier", format!("unknown tier `{}`", a.tier.value))
            .at(&r.file, a.tier.span.clone())
            .label("not a tier")
            .help_opt(hint.map(|h| format!("did you mean `{h}`?")))
            .note(format!("the tiers are: {}", ids.join(", "))),
    );
    None
}

fn resolve_scale<'c>(
    a: &Award,
    r: &Release,
    config: &'c Config,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'c Scale> {
    let scales = config.tiers.scales();
    if let Some(s) = &a.scale {
        let found = config.tiers.scale(&s.value);
        if found.is_none() {
            let ids: Vec<&str> = scales.iter().map(|s| s.id.as_str()).collect();
            diags.push(
                Diagnostic::error("unknown-scale", format!("unknown scale `{}`", s.value))
                    .at(&r.file, s.span.clone())
                    .label("not a scale in site.toml")
                    .help_opt(
                        suggest(&s.value, ids.iter().copied())
                            .map(|h| format!("did you mean `{h}`?")),
                    )
                    .note(format!("the scales are: {}", ids.join(", "))),
            );
        }
        return found;
    }
    let day = a.date.value.first_day();
    let found = config.tiers.scale_at(day);
    if found.is_none() {
        let first = scales
            .first()
            .map(|s| s.from.to_string())
            .unwrap_or_default();
        diags.push(
            Diagnostic::error(
                "no-scale",
                format!("no award scale was in force on {}", a.date.value),
            )
            .at(&r.file, a.date.span.clone())
            .label("before the first scale")
            .help(format!("the first scale starts on {first}: check the date, or name a scale with `scale = \"...\"`")),
        );
    }
    found
}

/// Checks units and shipments; returns the total when figures are published and consistent.
fn check_figures(
    a: &Award,
    r: &Release,
    config: &Config,
    diags: &mut Vec<Diagnostic>,
) -> Option<u64> {
    let file = &r.file;
    let mut sum: Option<u64> = None;
    let mut ok = true;
    if let Some(ships) = &a.shipments {
        if ships.value.is_empty() {
            ok = false;
            diags.push(
                Diagnostic::error("empty-shipments", "`shipments` is empty")
                    .at(file, ships.span.clone())
                    .help("give units per country, e.g. `shipments = { DE = 41_000, AT = 12_500 }`, or remove it"),
            );
        }
        let mut total = Some(0u64);
        for (code, units) in &ships.value {
            if !config.countries.contains(&code.value) {
                ok = false;
                if iso::is_country(&code.value) {
                    let name = iso::country_name(&code.value).unwrap_or("");
                    diags.push(
                        Diagnostic::error(
                            "country-not-europe",
                            format!("shipments to `{}` ({name}) do not count towards a European award", code.value),
                        )
                        .at(file, code.span.clone())
                        .label("not in the site's `countries`")
                        .help("only shipments to the countries listed in site.toml count; remove this entry, or add the code to `countries` if it belongs there"),
                    );
                } else {
                    diags.push(unknown_country(
                        &code.value,
                        file,
                        code.span.clone(),
                        Some(&config.countries),
                    ));
                }
            }
            total = total.and_then(|t| t.checked_add(units.value));
        }
        match total {
            Some(t) => sum = Some(t),
            None => {
                ok = false;
                diags.push(
                    Diagnostic::error(
                        "units-overflow",
                        "the shipments add up to more than can be counted",
                    )
                    .at(file, ships.span.clone())
                    .help("check the figures for extra digits"),
                );
            }
        }
    }
    match (&a.units, sum) {
        (Some(u), Some(s)) if u.value != s => {
            let ships = a.shipments.as_ref().map_or(0..0, |s| s.span.clone());
            diags.push(
                Diagnostic::error(
                    "units-mismatch",
                    format!(
                        "`units` is {} but the shipments add up to {}",
                        fmt_units(u.value),
                        fmt_units(s)
                    ),
                )
                .at(file, u.span.clone())
                .label(format!("differs by {}", fmt_units(u.value.abs_diff(s))))
                .context(ships, format!("these add up to {}", fmt_units(s)))
                .help(format!("{} = {}", arithmetic(a), fmt_units(s)))
                .help("correct one of them, or leave `units` out and let the shipments give the total"),
            );
            None
        }
        (None, None) if a.shipments.is_none() => {
            if a.source.is_none() {
                diags.push(
                    Diagnostic::error(
                        "no-evidence",
                        "an award without figures must cite a `source`",
                    )
                    .at(file, a.span.clone())
                    .label("no `units`, `shipments` or `source`")
                    .help("add `units = ...` or `shipments = { DE = ... }`; or, if the figures were never published, `source = \"https://...\"` (the announcement)"),
                );
            }
            None
        }
        (Some(u), _) if ok => Some(u.value),
        (None, Some(s)) if ok => Some(s),
        _ => None,
    }
}

/// "DE 41,000 + AT 12,500": how the shipments add up.
fn arithmetic(a: &Award) -> String {
    a.shipments.as_ref().map_or_else(String::new, |s| {
        s.value
            .iter()
            .map(|(c, u)| format!("{} {}", c.value, fmt_units(u.value)))
            .collect::<Vec<_>>()
            .join(" + ")
    })
}

fn check_threshold(
    a: &Award,
    r: &Release,
    config: &Config,
    tier: &Tier,
    scale: &Scale,
    total: u64,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(need) = config.tiers.threshold(tier, scale) else {
        return;
    };
    let from_what = if a.units.is_some() {
        "`units` is"
    } else {
        "the shipments add up to"
    };
    // "scale `current` (in force from 2013-01-01): Impala Gold needs 1 x 75,000 gold = 75,000"
    let scale_note = |t: &Tier| {
        format!(
            "scale `{}` (in force from {}{}): {} needs {} x {} {} = {}",
            scale.id,
            scale.from,
            if a.scale.is_some() {
                ", named by the award"
            } else {
                ""
            },
            t.name,
            t.multiple,
            fmt_units(scale.levels.get(&t.level).copied().unwrap_or(0)),
            t.level,
            fmt_units(config.tiers.threshold(t, scale).unwrap_or(0))
        )
    };
    let span = a.units.as_ref().map_or_else(
        || {
            a.shipments
                .as_ref()
                .map_or(a.span.clone(), |s| s.span.clone())
        },
        |u| u.span.clone(),
    );
    if total < need {
        let mut d = Diagnostic::error(
            "below-threshold",
            format!(
                "{} needs {} units; {from_what} {}",
                tier.name,
                fmt_units(need),
                fmt_units(total)
            ),
        )
        .at(&r.file, span)
        .label(format!("{} short", fmt_units(need - total)))
        .context(a.tier.span.clone(), "tier claimed here");
        if a.units.is_none() {
            d = d.help(format!("{} = {}", arithmetic(a), fmt_units(total)));
        }
        if let Some(fits) = config.tiers.highest_for(total, scale) {
            d = d.help(format!(
                "{} units qualify for {} (`tier = \"{}\"`)",
                fmt_units(total),
                fits.name,
                fits.id
            ));
        }
        diags.push(d.note(scale_note(tier)));
        return;
    }
    if let (Some(best), Some((rank, _))) = (
        config.tiers.highest_for(total, scale),
        config.tiers.tier(&tier.id),
    ) && config.tiers.tier(&best.id).is_some_and(|(b, _)| b > rank)
    {
        let best_need = config.tiers.threshold(best, scale).unwrap_or(0);
        let mut d = Diagnostic::warning(
            "higher-tier",
            format!(
                "{} units already qualify for {} ({} needed), above the {} claimed",
                fmt_units(total),
                best.name,
                fmt_units(best_need),
                tier.name
            ),
        )
        .at(&r.file, a.tier.span.clone())
        .label("a higher tier is reached")
        .help(format!(
            "if the release was awarded {}, write `tier = \"{}\"`",
            best.name, best.id
        ));
        if a.units.is_none() {
            d = d.note(format!("{} = {}", arithmetic(a), fmt_units(total)));
        }
        diags.push(d.note(scale_note(best)));
    }
}

fn check_dates(a: &Award, r: &Release, today: NaiveDate, diags: &mut Vec<Diagnostic>) {
    if let Some(rel) = &r.released
        && a.date.value.certainly_before(&rel.value)
    {
        diags.push(
            Diagnostic::error(
                "award-before-release",
                format!(
                    "the award is dated {}, before the release came out ({})",
                    a.date.value, rel.value
                ),
            )
            .at(&r.file, a.date.span.clone())
            .label("before the release date")
            .context(rel.span.clone(), "released here")
            .help("check both dates: an award follows the release's shipments"),
        );
    }
    if a.date.value.first_day() > today {
        diags.push(
            Diagnostic::error(
                "award-in-future",
                format!("the award is dated {}, after today ({today})", a.date.value),
            )
            .at(&r.file, a.date.span.clone())
            .label("in the future")
            .help("record an award once it has been given; check the year"),
        );
    }
}
