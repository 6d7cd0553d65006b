//! Charts drawn at build time as inline SVG: no script, no external file.
//!
//! Every chart comes with a `<title>` and `<desc>` (the SVG is `role="img"`) and
//! with a table of the same numbers, which templates show next to it. Tiers are
//! coloured by rank through the theme's `.tier-N` classes (`--t0`…`--t7`), and
//! each tier also gets its own fill pattern, named in a legend, so colour is never
//! the only cue; single-series charts label every bar directly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::escape;
use super::views;
use crate::config::fmt_units;
use crate::index::{AwardRef, Index};
use crate::iso;
use crate::slug::slugify;

/// Fallback fills, used only where the page's stylesheet is absent (the theme's
/// `--t0`…`--t7` and `--accent` override them through classes).
const TIER_FILL: [&str; 8] = [
    "#8a9099", "#6f7782", "#565e69", "#b8860b", "#946c00", "#2b7a9e", "#5a6b7d", "#3a4756",
];
const ACCENT_FILL: &str = "#0b3d6b";
/// The theme colours tiers 0–7; higher ranks reuse them (their patterns still differ).
const TIER_CLASSES: usize = TIER_FILL.len();

/// How many labels the "top labels" chart shows.
pub const TOP_LABELS: usize = 10;

const WIDTH: f64 = 640.0;
const FONT: f64 = 13.0;

/// A chart: its SVG, and the same numbers as a table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Chart {
    /// Unique within a page; the SVG's ids derive from it.
    pub id: String,
    pub title: String,
    pub desc: String,
    /// Complete `<svg>` element, every text escaped.
    pub svg: String,
    pub table: ChartTable,
}

/// The numbers of a chart.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChartTable {
    pub caption: String,
    /// Column headings; the first heads the row-header column.
    pub head: Vec<String>,
    pub rows: Vec<ChartRow>,
    /// A totals row, when sums make sense.
    pub foot: Option<ChartRow>,
}

/// One table row: a heading (linked when it has a page) and numeric cells.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChartRow {
    pub name: String,
    /// Site-relative URL of the row's page.
    pub url: Option<String>,
    pub cells: Vec<String>,
}

/// A fixed-precision number for SVG coordinates (deterministic, short),
/// written where it is shown: a `String` per coordinate was 2% of a build.
#[derive(Clone, Copy)]
struct Num(f64);

fn n(x: f64) -> Num {
    Num(x)
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        with_digits(self.0, |d| f.write_str(d))
    }
}

/// Gives `f` the digits of `x` as [`Num`] shows them.
fn with_digits<R>(x: f64, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 24];
    match digits(x, &mut buf) {
        Some(d) => f(d),
        None => f(&slow_digits(x)),
    }
}

/// `x` with one decimal and no ".0", written back to front into `buf`;
/// `None` near a rounding tie or out of range, where [`slow_digits`] decides.
/// Float formatting was 3% of a build's CPU (every chart coordinate).
fn digits(x: f64, buf: &mut [u8; 24]) -> Option<&str> {
    let t = x * 10.0;
    // Away from a tie, rounding x·10 to an integer gives the digits `{:.1}` would.
    if !(t.is_finite() && t.abs() < 1e12 && ((t - t.trunc()).abs() - 0.5).abs() > 1e-6) {
        return None;
    }
    let r = t.round().abs() as u64;
    let mut at = buf.len();
    let mut put = |b: u8| {
        at -= 1;
        buf[at] = b;
    };
    if !r.is_multiple_of(10) {
        put(b'0' + (r % 10) as u8);
        put(b'.');
    }
    let mut whole = r / 10;
    loop {
        put(b'0' + (whole % 10) as u8);
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    if x.is_sign_negative() {
        put(b'-');
    }
    std::str::from_utf8(&buf[at..]).ok()
}

fn slow_digits(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Appends SVG markup piece by piece: `write!` with a dozen arguments per bar
/// was most of a chart's cost (its argument machinery, not the bytes).
trait Put {
    /// Markup or already escaped text, as is.
    fn s(&mut self, s: &str) -> &mut Self;
    /// A coordinate, as [`Num`] shows it.
    fn n(&mut self, x: f64) -> &mut Self;
    /// A whole number, plain digits.
    fn u(&mut self, v: impl itoa::Integer) -> &mut Self;
}

impl Put for String {
    fn s(&mut self, s: &str) -> &mut Self {
        self.push_str(s);
        self
    }
    fn n(&mut self, x: f64) -> &mut Self {
        with_digits(x, |d| self.push_str(d));
        self
    }
    fn u(&mut self, v: impl itoa::Integer) -> &mut Self {
        self.push_str(itoa::Buffer::new().format(v));
        self
    }
}

/// Rough text width at `FONT` size; charts only use it to reserve room.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.58
}

/// Shortens `s` to `max` characters with an ellipsis (the table keeps it whole).
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A round axis maximum ≥ `max` and its tick step (1, 2 or 5 times a power of ten).
fn nice_axis(max: u64) -> (u64, u64) {
    if max == 0 {
        return (1, 1);
    }
    let mut step = 1u64;
    loop {
        for m in [1u64, 2, 5] {
            let s = step.saturating_mul(m);
            if max.div_ceil(s) <= 5 {
                return (max.div_ceil(s).saturating_mul(s), s);
            }
        }
        if step > u64::MAX / 10 {
            return (max, max);
        }
        step *= 10;
    }
}

/// Start of an `<svg>` with its accessible name and description.
fn svg_open(id: &str, title: &str, desc: &str, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"{id}-title\" \
         aria-describedby=\"{id}-desc\" font-size=\"{FONT}\">\
         <title id=\"{id}-title\">{t}</title><desc id=\"{id}-desc\">{d}</desc>",
        w = n(WIDTH),
        h = n(height),
        t = escape::html(title),
        d = escape::html(desc),
    )
}

/// The fill pattern of tier `rank`: its colour plus a texture of its own.
fn tier_pattern(id: &str, rank: usize) -> String {
    let class = rank % TIER_CLASSES;
    let fill = TIER_FILL[class];
    // Textures cycle independently of colours so neighbours always differ.
    let texture = match rank % 8 {
        0 => "",
        1 => "<path d=\"M-2 2L2 -2M0 8L8 0M6 10L10 6\"/>",
        2 => "<path d=\"M0 4H8\"/>",
        3 => {
            "<circle cx=\"4\" cy=\"4\" r=\"1.4\" stroke=\"none\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>"
        }
        4 => "<path d=\"M-2 6L2 10M0 0L8 8M6 -2L10 2\"/>",
        5 => "<path d=\"M4 0V8\"/>",
        6 => "<path d=\"M0 4H8M4 0V8\"/>",
        _ => "<path d=\"M0 0L8 8M8 0L0 8\"/>",
    };
    format!(
        "<pattern id=\"{id}-p{rank}\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">\
         <rect width=\"8\" height=\"8\" class=\"chart-fill tier-{class}\" fill=\"{fill}\"/>\
         <g stroke=\"#ffffff\" stroke-opacity=\"0.85\" stroke-width=\"1.5\">{texture}</g></pattern>"
    )
}

fn tier_name(index: &Index<'_>, rank: usize) -> String {
    index
        .config
        .tiers
        .tiers()
        .get(rank)
        .map_or_else(|| format!("Tier {}", rank + 1), |t| t.name.clone())
}

fn plural(k: u64, one: &str, many: &str) -> String {
    format!("{} {}", fmt_units(k), if k == 1 { one } else { many })
}

/// Awards per year, stacked by tier. `None` when there is no award.
pub fn awards_by_year(
    index: &Index<'_>,
    awards: &[AwardRef],
    id: &str,
    subject: &str,
) -> Option<Chart> {
    let mut per_year: BTreeMap<i32, BTreeMap<usize, u64>> = BTreeMap::new();
    let mut ranks: BTreeSet<usize> = BTreeSet::new();
    for a in awards {
        *per_year
            .entry(index.date(a).year())
            .or_default()
            .entry(a.tier)
            .or_default() += 1;
        ranks.insert(a.tier);
    }
    let (&first, _) = per_year.first_key_value()?;
    let (&last, _) = per_year.last_key_value()?;
    // Every year of the span, so gaps show as gaps.
    let years: Vec<i32> = (first..=last).collect();
    let ranks: Vec<usize> = ranks.into_iter().collect();
    let total_of = |y: i32| -> u64 { per_year.get(&y).map_or(0, |m| m.values().sum()) };
    let total: u64 = years.iter().map(|&y| total_of(y)).sum();
    let (best_year, best) = years
        .iter()
        .map(|&y| (y, total_of(y)))
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .unwrap_or((first, 0));

    let title = format!("Awards per year, by tier: {subject}");
    let span = if first == last {
        format!("in {first}")
    } else {
        format!("from {first} to {last}")
    };
    let desc = format!(
        "Column chart of {} {span}, one column per year, each stacked by tier from the lowest \
         tier at the bottom. The most in one year: {best} in {best_year}. The table that \
         follows gives every figure.",
        plural(total, "award", "awards")
    );

    // Layout: legend on top, then the plot, then year labels.
    let (left, right, bottom) = (44.0, 12.0, 26.0);
    let mut legend = String::new();
    let (mut lx, mut ly) = (left, 18.0);
    for &r in &ranks {
        let name = tier_name(index, r);
        let w = 22.0 + text_width(&name, FONT) + 16.0;
        if lx + w > WIDTH - right && lx > left {
            lx = left;
            ly += 22.0;
        }
        legend
            .s("<rect x=\"")
            .n(lx)
            .s("\" y=\"")
            .n(ly - 12.0)
            .s("\" width=\"16\" height=\"16\" fill=\"url(#")
            .s(id)
            .s("-p")
            .u(r)
            .s(")\" class=\"chart-edge\" stroke=\"#1b1f24\" stroke-width=\"0.5\"/><text x=\"")
            .n(lx + 22.0)
            .s("\" y=\"")
            .n(ly + 1.0)
            .s("\">")
            .s(&escape::html(&name))
            .s("</text>");
        lx += w;
    }
    let top = ly + 26.0;
    let plot_h = 220.0;
    let height = top + plot_h + bottom;
    let plot_w = WIDTH - left - right;
    let (axis_max, step) = nice_axis(best);
    let scale = plot_h / axis_max as f64;
    let base_y = top + plot_h;

    let mut svg = svg_open(id, &title, &desc, height);
    svg.push_str("<defs>");
    for &r in &ranks {
        svg.push_str(&tier_pattern(id, r));
    }
    svg.push_str("</defs>");
    svg.push_str(&legend);
    // Grid and y axis.
    let mut t = 0;
    while t <= axis_max {
        let y = base_y - t as f64 * scale;
        svg.s("<line x1=\"")
            .n(left)
            .s("\" x2=\"")
            .n(WIDTH - right)
            .s("\" y1=\"")
            .n(y)
            .s("\" y2=\"")
            .n(y)
            .s("\" class=\"chart-grid\" stroke=\"#dcd8cf\"/><text x=\"")
            .n(left - 6.0)
            .s("\" y=\"")
            .n(y + 4.0)
            .s("\" text-anchor=\"end\" class=\"chart-muted\">")
            .s(&fmt_units(t))
            .s("</text>");
        t += step;
    }
    let band = plot_w / years.len() as f64;
    let bar_w = (band * 0.7).min(48.0);
    let label_every = years.len().div_ceil(12).max(1);
    for (i, &y) in years.iter().enumerate() {
        let x = left + band * i as f64 + (band - bar_w) / 2.0;
        let mut acc = 0u64;
        if let Some(m) = per_year.get(&y) {
            for &r in &ranks {
                let c = m.get(&r).copied().unwrap_or(0);
                if c == 0 {
                    continue;
                }
                let y0 = base_y - (acc + c) as f64 * scale;
                svg.s("<rect x=\"")
                    .n(x)
                    .s("\" y=\"")
                    .n(y0)
                    .s("\" width=\"")
                    .n(bar_w)
                    .s("\" height=\"")
                    .n(c as f64 * scale)
                    .s("\" fill=\"url(#")
                    .s(id)
                    .s("-p")
                    .u(r)
                    .s(")\" stroke=\"#ffffff\" stroke-width=\"1\"><title>")
                    .u(y)
                    .s(", ")
                    .s(&escape::html(&tier_name(index, r)))
                    .s(": ")
                    .u(c)
                    .s("</title></rect>");
                acc += c;
            }
        }
        if acc > 0 {
            svg.s("<text x=\"")
                .n(x + bar_w / 2.0)
                .s("\" y=\"")
                .n(base_y - acc as f64 * scale - 4.0)
                .s("\" text-anchor=\"middle\">")
                .u(acc)
                .s("</text>");
        }
        if i % label_every == 0 || i + 1 == years.len() {
            svg.s("<text x=\"")
                .n(x + bar_w / 2.0)
                .s("\" y=\"")
                .n(base_y + 18.0)
                .s("\" text-anchor=\"middle\" class=\"chart-muted\">")
                .u(y)
                .s("</text>");
        }
    }
    let _ = write!(
        svg,
        "<line x1=\"{l}\" x2=\"{r}\" y1=\"{b}\" y2=\"{b}\" stroke=\"#1b1f24\"/></svg>",
        l = n(left),
        r = n(WIDTH - right),
        b = n(base_y)
    );

    let mut head = vec!["Year".to_string()];
    head.extend(ranks.iter().map(|&r| tier_name(index, r)));
    head.push("Total".into());
    let rows = years
        .iter()
        .rev()
        .map(|&y| {
            let m = per_year.get(&y);
            let mut cells: Vec<String> = ranks
                .iter()
                .map(|r| m.and_then(|m| m.get(r)).copied().unwrap_or(0).to_string())
                .collect();
            cells.push(total_of(y).to_string());
            ChartRow {
                name: y.to_string(),
                url: index.by_year.contains_key(&y).then(|| views::year_path(y)),
                cells,
            }
        })
        .collect();
    let mut foot: Vec<String> = ranks
        .iter()
        .map(|r| {
            per_year
                .values()
                .map(|m| m.get(r).copied().unwrap_or(0))
                .sum::<u64>()
                .to_string()
        })
        .collect();
    foot.push(total.to_string());
    Some(Chart {
        id: id.to_string(),
        title: title.clone(),
        desc,
        svg,
        table: ChartTable {
            caption: format!("{title} (newest year first)"),
            head,
            rows,
            foot: Some(ChartRow {
                name: "All years".into(),
                url: None,
                cells: foot,
            }),
        },
    })
}

/// One bar of a horizontal bar chart.
struct Bar {
    label: String,
    value: u64,
    /// Shown at the bar's end.
    value_text: String,
    /// Tier rank for a tier-patterned bar; `None` for the accent colour.
    tier: Option<usize>,
}

/// Horizontal bars with the label and the value written beside each bar.
fn hbars(id: &str, title: &str, desc: &str, bars: &[Bar]) -> String {
    let row_h = 26.0;
    let top = 8.0;
    let height = top + row_h * bars.len() as f64 + 8.0;
    let label_w = bars
        .iter()
        .map(|b| text_width(&b.label, FONT))
        .fold(0.0, f64::max)
        .clamp(40.0, WIDTH * 0.4);
    let value_w = bars
        .iter()
        .map(|b| text_width(&b.value_text, FONT))
        .fold(0.0, f64::max)
        + 12.0;
    let left = label_w + 12.0;
    let plot_w = WIDTH - left - value_w - 8.0;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let mut svg = svg_open(id, title, desc, height);
    let ranks: BTreeSet<usize> = bars.iter().filter_map(|b| b.tier).collect();
    if !ranks.is_empty() {
        svg.push_str("<defs>");
        for &r in &ranks {
            svg.push_str(&tier_pattern(id, r));
        }
        svg.push_str("</defs>");
    }
    for (i, b) in bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = (b.value as f64 / max as f64 * plot_w).max(if b.value > 0 { 2.0 } else { 0.0 });
        svg.s("<text x=\"")
            .n(left - 8.0)
            .s("\" y=\"")
            .n(y + row_h / 2.0 + 4.5)
            .s("\" text-anchor=\"end\">")
            .s(&escape::html(&clip(
                &b.label,
                (label_w / (FONT * 0.58)) as usize,
            )))
            .s("</text><rect x=\"")
            .n(left)
            .s("\" y=\"")
            .n(y + 4.0)
            .s("\" width=\"")
            .n(w)
            .s("\" height=\"")
            .n(row_h - 8.0)
            .s("\" ");
        match b.tier {
            Some(r) => svg.s("fill=\"url(#").s(id).s("-p").u(r).s(")\""),
            None => svg
                .s("class=\"chart-accent\" fill=\"")
                .s(ACCENT_FILL)
                .s("\""),
        };
        svg.s("/><text x=\"")
            .n(left + w + 6.0)
            .s("\" y=\"")
            .n(y + row_h / 2.0 + 4.5)
            .s("\">")
            .s(&escape::html(&b.value_text))
            .s("</text>");
    }
    let _ = write!(
        svg,
        "<line x1=\"{l}\" x2=\"{l}\" y1=\"{t}\" y2=\"{b}\" stroke=\"#1b1f24\"/></svg>",
        l = n(left),
        t = n(top),
        b = n(height - 8.0)
    );
    svg
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".into();
    }
    // Integer rounding keeps output identical across platforms.
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// How many awards each tier has, lowest tier first. `None` when there is no award.
pub fn tier_distribution(
    index: &Index<'_>,
    awards: &[AwardRef],
    id: &str,
    subject: &str,
) -> Option<Chart> {
    if awards.is_empty() {
        return None;
    }
    let mut counts: BTreeMap<usize, u64> = BTreeMap::new();
    for a in awards {
        *counts.entry(a.tier).or_default() += 1;
    }
    let total: u64 = counts.values().sum();
    let title = format!("Awards by tier: {subject}");
    let (top_rank, top_count) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(r, c)| (*r, *c))
        .unwrap_or((0, 0));
    let desc = format!(
        "Bar chart of {} across {} {}, lowest tier first, each bar labelled with its tier and \
         count. The most common tier is {} with {top_count}. The table that follows gives every figure.",
        plural(total, "award", "awards"),
        counts.len(),
        if counts.len() == 1 { "tier" } else { "tiers" },
        tier_name(index, top_rank),
    );
    let bars: Vec<Bar> = counts
        .iter()
        .map(|(&r, &c)| Bar {
            label: tier_name(index, r),
            value: c,
            value_text: format!("{c} ({})", percent(c, total)),
            tier: Some(r),
        })
        .collect();
    let svg = hbars(id, &title, &desc, &bars);
    let rows = counts
        .iter()
        .map(|(&r, &c)| ChartRow {
            name: tier_name(index, r),
            url: index
                .config
                .tiers
                .tiers()
                .get(r)
                .map(|t| views::tier_path(&t.id)),
            cells: vec![c.to_string(), percent(c, total)],
        })
        .collect();
    Some(Chart {
        id: id.to_string(),
        title: title.clone(),
        desc,
        svg,
        table: ChartTable {
            caption: format!("{title} (lowest tier first)"),
            head: vec!["Tier".into(), "Awards".into(), "Share".into()],
            rows,
            foot: Some(ChartRow {
                name: "All tiers".into(),
                url: None,
                cells: vec![total.to_string(), "100.0%".into()],
            }),
        },
    })
}

/// The labels with the most awards of their own (imprints count on their own).
pub fn top_labels(index: &Index<'_>, id: &str) -> Option<Chart> {
    let mut ranked: Vec<(&str, String, u64)> = index
        .by_label
        .iter()
        .filter(|(_, e)| !e.awards.is_empty())
        .map(|(slug, e)| {
            (
                slug.as_str(),
                index.labels[e.label].name.value.clone(),
                e.awards.len() as u64,
            )
        })
        .collect();
    if ranked.is_empty() {
        return None;
    }
    ranked.sort_by_cached_key(|(slug, name, c)| {
        (std::cmp::Reverse(*c), slugify(name), slug.to_string())
    });
    let with_awards = ranked.len();
    ranked.truncate(TOP_LABELS);
    let title = if with_awards > TOP_LABELS {
        format!("Top {TOP_LABELS} labels by awards")
    } else {
        "Labels by awards".to_string()
    };
    let desc = format!(
        "Bar chart of the {} with the most awards to their own releases (an imprint's awards \
         count for the imprint), most first, each bar labelled with the label and its count. \
         First: {} with {}. The table that follows gives every figure.",
        plural(ranked.len() as u64, "label", "labels"),
        ranked[0].1,
        ranked[0].2
    );
    let bars: Vec<Bar> = ranked
        .iter()
        .map(|(_, name, c)| Bar {
            label: name.clone(),
            value: *c,
            value_text: c.to_string(),
            tier: None,
        })
        .collect();
    let svg = hbars(id, &title, &desc, &bars);
    let rows = ranked
        .iter()
        .map(|(slug, name, c)| ChartRow {
            name: name.clone(),
            url: Some(views::label_path(slug)),
            cells: vec![c.to_string()],
        })
        .collect();
    Some(Chart {
        id: id.to_string(),
        title: title.clone(),
        desc,
        svg,
        table: ChartTable {
            caption: format!("{title} (most first)"),
            head: vec!["Label".into(), "Awards".into()],
            rows,
            foot: None,
        },
    })
}

/// Units shipped per country by the releases of `awards` (all releases when `None`),
/// counting each release's latest figures per country. `None` when no figure exists.
pub fn units_by_country(
    index: &Index<'_>,
    awards: Option<&[AwardRef]>,
    id: &str,
    subject: &str,
) -> Option<Chart> {
    let mut rows: Vec<(&str, String, u64, usize)> = match awards {
        None => index
            .by_country
            .iter()
            .map(|(code, e)| {
                let units = e
                    .releases
                    .iter()
                    .fold(0u64, |u, (_, x)| u.saturating_add(*x));
                (
                    code.as_str(),
                    iso::country_name(code).unwrap_or(code).to_string(),
                    units,
                    e.releases.len(),
                )
            })
            .collect(),
        // A subject's chart reads only its own releases, so label and artist
        // pages cost what they list, not the size of the archive.
        Some(awards) => {
            let releases: BTreeSet<usize> = awards.iter().map(|x| x.release).collect();
            let mut per: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
            for ri in releases {
                for (code, units) in index.latest_shipments(ri) {
                    let e = per.entry(code).or_default();
                    e.0 = e.0.saturating_add(units);
                    e.1 += 1;
                }
            }
            per.into_iter()
                .map(|(code, (units, k))| {
                    (
                        code,
                        iso::country_name(code).unwrap_or(code).to_string(),
                        units,
                        k,
                    )
                })
                .collect()
        }
    };
    if rows.is_empty() {
        return None;
    }
    rows.sort_by_cached_key(|(code, name, u, _)| {
        (std::cmp::Reverse(*u), slugify(name), code.to_string())
    });
    let total: u64 = rows.iter().map(|r| r.2).fold(0, u64::saturating_add);
    let title = format!("Units by country: {subject}");
    let desc = format!(
        "Bar chart of units shipped to {} where figures were published, most first, each bar \
         labelled with the country and its units; {} in all, the most to {} ({}). Releases \
         whose figures were not published are not counted. The table that follows gives every figure.",
        plural(rows.len() as u64, "country", "countries"),
        fmt_units(total),
        rows[0].1,
        fmt_units(rows[0].2),
    );
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(_, name, u, _)| Bar {
            label: name.clone(),
            value: *u,
            value_text: fmt_units(*u),
            tier: None,
        })
        .collect();
    let svg = hbars(id, &title, &desc, &bars);
    let table_rows = rows
        .iter()
        .map(|(code, name, u, k)| ChartRow {
            name: name.clone(),
            url: Some(views::country_path(code)),
            cells: vec![fmt_units(*u), k.to_string()],
        })
        .collect();
    Some(Chart {
        id: id.to_string(),
        title: title.clone(),
        desc,
        svg,
        table: ChartTable {
            caption: format!("{title} (most first)"),
            head: vec![
                "Country".into(),
                "Units".into(),
                "Releases with figures".into(),
            ],
            rows: table_rows,
            foot: Some(ChartRow {
                name: "All countries".into(),
                url: None,
                cells: vec![fmt_units(total), String::new()],
            }),
        },
    })
}

/// The charts of the /stats/ page.
pub fn site_charts(index: &Index<'_>) -> Vec<Chart> {
    let subject = "all awards";
    [
        awards_by_year(index, &index.awards, "chart-years", subject),
        tier_distribution(index, &index.awards, "chart-tiers", subject),
        top_labels(index, "chart-labels"),
        units_by_country(index, None, "chart-countries", "all releases with figures"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The charts of a label's or an artist's page, over `awards`.
pub fn subject_charts(index: &Index<'_>, awards: &[AwardRef], subject: &str) -> Vec<Chart> {
    [
        awards_by_year(index, awards, "chart-years", subject),
        tier_distribution(index, awards, "chart-tiers", subject),
        units_by_country(index, Some(awards), "chart-countries", subject),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_is_round() {
        assert_eq!(nice_axis(0), (1, 1));
        assert_eq!(nice_axis(1), (1, 1));
        assert_eq!(nice_axis(3), (3, 1));
        assert_eq!(nice_axis(7), (8, 2));
        assert_eq!(nice_axis(23), (25, 5));
        assert_eq!(nice_axis(120), (150, 50));
    }

    #[test]
    fn escapes_and_formats() {
        assert_eq!(n(3.0).to_string(), "3");
        assert_eq!(n(2.26).to_string(), "2.3");
        // The same digits as formatting with one decimal, ties and signs included.
        for i in -20_000..20_000 {
            for x in [
                f64::from(i) / 1000.0,
                f64::from(i) / 7.0,
                f64::from(i) * 0.05,
            ] {
                let s = format!("{x:.1}");
                assert_eq!(n(x).to_string(), s.strip_suffix(".0").unwrap_or(&s), "{x}");
            }
        }
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
