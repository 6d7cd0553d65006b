//! The default theme (built into the binary) and a site's own overrides.

use std::path::{Path, PathBuf};

use tera::{Context, Tera};

use super::OutFile;
use crate::diagnostics::Diagnostic;

/// Templates of `themes/default/templates`, compiled in so any site builds.
const DEFAULT_TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../themes/default/templates/base.html"),
    ),
    (
        "badge.html",
        include_str!("../../themes/default/templates/badge.html"),
    ),
    (
        "award_table.html",
        include_str!("../../themes/default/templates/award_table.html"),
    ),
    (
        "release_list.html",
        include_str!("../../themes/default/templates/release_list.html"),
    ),
    (
        "index.html",
        include_str!("../../themes/default/templates/index.html"),
    ),
    (
        "release.html",
        include_str!("../../themes/default/templates/release.html"),
    ),
    (
        "tiers.html",
        include_str!("../../themes/default/templates/tiers.html"),
    ),
    (
        "tier.html",
        include_str!("../../themes/default/templates/tier.html"),
    ),
    (
        "labels.html",
        include_str!("../../themes/default/templates/labels.html"),
    ),
    (
        "label.html",
        include_str!("../../themes/default/templates/label.html"),
    ),
    (
        "years.html",
        include_str!("../../themes/default/templates/years.html"),
    ),
    (
        "year.html",
        include_str!("../../themes/default/templates/year.html"),
    ),
    (
        "artists.html",
        include_str!("../../themes/default/templates/artists.html"),
    ),
    (
        "artist.html",
        include_str!("../../themes/default/templates/artist.html"),
    ),
    (
        "countries.html",
        include_str!("../../themes/default/templates/countries.html"),
    ),
    (
        "country.html",
        include_str!("../../themes/default/templates/country.html"),
    ),
    (
        "page.html",
        include_str!("../../themes/default/templates/page.html"),
    ),
    (
        "404.html",
        include_str!("../../themes/default/templates/404.html"),
    ),
    (
        "awards.html",
        include_str!("../../themes/default/templates/awards.html"),
    ),
    (
        "cite.html",
        include_str!("../../themes/default/templates/cite.html"),
    ),
    (
        "share_meta.html",
        include_str!("../../themes/default/templates/share_meta.html"),
    ),
    (
        "feed_link.html",
        include_str!("../../themes/default/templates/feed_link.html"),
    ),
    (
        "search.html",
        include_str!("../../themes/default/templates/search.html"),
    ),
    (
        "stats.html",
        include_str!("../../themes/default/templates/stats.html"),
    ),
    (
        "chart.html",
        include_str!("../../themes/default/templates/chart.html"),
    ),
    (
        "charts.html",
        include_str!("../../themes/default/templates/charts.html"),
    ),
    (
        "redirect.html",
        include_str!("../../themes/default/templates/redirect.html"),
    ),
];

/// Static files of `themes/default/static`, written under `assets/`.
const DEFAULT_STATIC: &[(&str, &[u8])] = &[
    (
        "style.css",
        include_bytes!("../../themes/default/static/style.css"),
    ),
    (
        "search.js",
        include_bytes!("../../themes/default/static/search.js"),
    ),
    (
        "awards.js",
        include_bytes!("../../themes/default/static/awards.js"),
    ),
];

/// Prefix of the site's own templates; looked up before the defaults.
const SITE_PREFIX: &str = "site/";
const DEFAULT_PREFIX: &str = "default/";

/// Loaded templates and theme assets.
pub struct Theme {
    tera: Tera,
    statics: Vec<OutFile>,
}

fn tera_error(e: &tera::Error, context: &str) -> Diagnostic {
    // Tera's report already shows template, line and the offending span.
    let mut report = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        report.push_str(&format!("\n{s}"));
        src = s.source();
    }
    let first = report
        .lines()
        .next()
        .unwrap_or("template error")
        .to_string();
    Diagnostic::error("template", format!("{context}: {first}")).note(report)
}

impl Theme {
    /// The default theme, overridden by `<root>/<theme_dir>/templates` and
    /// `<root>/<theme_dir>/static` when a theme folder is given.
    pub fn load(root: &Path, theme_dir: Option<&Path>) -> Result<Theme, Vec<Diagnostic>> {
        let mut tera = Tera::new();
        let prefixes = [SITE_PREFIX, DEFAULT_PREFIX];
        tera.set_fallback_prefixes(prefixes)
            .map_err(|e| vec![tera_error(&e, "theme")])?;
        tera.add_raw_templates(
            DEFAULT_TEMPLATES
                .iter()
                .map(|(n, c)| (format!("{DEFAULT_PREFIX}{n}"), *c)),
        )
        .map_err(|e| vec![tera_error(&e, "default theme")])?;
        let mut statics: Vec<OutFile> = DEFAULT_STATIC
            .iter()
            .map(|(n, b)| OutFile {
                path: format!("assets/{n}"),
                bytes: b.to_vec(),
            })
            .collect();
        if let Some(dir) = theme_dir {
            let base = root.join(dir);
            if !base.is_dir() {
                return Err(vec![
                    Diagnostic::error(
                        "theme-missing",
                        format!("theme folder `{}` does not exist", dir.display()),
                    )
                    .in_file(Path::new(crate::config::CONFIG_FILE))
                    .help("create it, or remove `theme` from site.toml to use the default theme"),
                ]);
            }
            let tpl_dir = base.join("templates");
            let files = list_files(&tpl_dir);
            let named: Vec<(PathBuf, String)> = files
                .into_iter()
                .map(|(p, rel)| (p, format!("{SITE_PREFIX}{rel}")))
                .collect();
            if !named.is_empty() {
                tera.add_template_files(named.iter().map(|(p, n)| (p, Some(n.as_str()))))
                    .map_err(|e| vec![tera_error(&e, &format!("theme `{}`", dir.display()))])?;
            }
            for (p, rel) in list_files(&base.join("static")) {
                let bytes = std::fs::read(&p).map_err(|e| {
                    vec![
                        Diagnostic::error("unreadable", format!("cannot read theme file: {e}"))
                            .in_file(&dir.join("static").join(&rel)),
                    ]
                })?;
                let path = format!("assets/{rel}");
                statics.retain(|f| f.path != path);
                statics.push(OutFile { path, bytes });
            }
        }
        Ok(Theme { tera, statics })
    }

    /// Renders `template` (the site's version if it has one).
    pub fn render(&self, template: &str, ctx: &Context) -> Result<String, Box<Diagnostic>> {
        if !self.tera.get_template_names().any(|n| {
            n.strip_prefix(SITE_PREFIX)
                .or_else(|| n.strip_prefix(DEFAULT_PREFIX))
                == Some(template)
        }) {
            return Err(Box::new(
                Diagnostic::error(
                    "template-missing",
                    format!("template `{template}` is missing from the theme"),
                )
                .help(format!("add `templates/{template}` to the theme folder")),
            ));
        }
        self.tera
            .render(template, ctx)
            .map_err(|e| Box::new(tera_error(&e, &format!("rendering `{template}`"))))
    }

    /// The theme's static files.
    pub fn static_files(&self) -> Vec<OutFile> {
        self.statics.clone()
    }
}

/// Files below `dir` as (full path, '/'-separated relative path), sorted; none if absent.
pub fn list_files(dir: &Path) -> Vec<(PathBuf, String)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut out: Vec<(PathBuf, String)> = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(dir).ok()?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.iter().any(|p| p.starts_with('.')) {
                return None;
            }
            Some((e.path().to_path_buf(), parts.join("/")))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}
