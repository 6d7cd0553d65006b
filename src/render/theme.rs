//! The default theme (built into the binary) and a site's own overrides.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tera::{Context, ErrorKind, Tera};

use super::OutFile;
use crate::diagnostics::{Diagnostic, Sources};

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
        "award_rows.html",
        include_str!("../../themes/default/templates/award_rows.html"),
    ),
    (
        "country_rows.html",
        include_str!("../../themes/default/templates/country_rows.html"),
    ),
    (
        "awards_rows.html",
        include_str!("../../themes/default/templates/awards_rows.html"),
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
        "redirect.html",
        include_str!("../../themes/default/templates/redirect.html"),
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
    names: Names,
    /// Template names without their prefix: looked up on every render (a
    /// build renders 150,000 templates at 10k releases).
    available: std::collections::HashSet<String>,
}

/// Where each template comes from, so errors name a file an editor can open.
#[derive(Default)]
struct Names {
    /// The site's theme folder, relative to the root.
    theme_dir: Option<PathBuf>,
    /// Text of every template by tera name ("site/x.html", "default/x.html").
    texts: HashMap<String, Arc<str>>,
}

impl Names {
    /// The file of a template, relative to the site root: the site's theme
    /// folder for its overrides, `themes/default/templates` for the built-in ones.
    fn path(&self, name: &str) -> PathBuf {
        if let (Some(rest), Some(dir)) = (name.strip_prefix(SITE_PREFIX), &self.theme_dir) {
            return dir.join("templates").join(rest);
        }
        let rest = name
            .strip_prefix(DEFAULT_PREFIX)
            .or_else(|| name.strip_prefix(SITE_PREFIX))
            .unwrap_or(name);
        Path::new("themes/default/templates").join(rest)
    }

    /// Byte offset of 1-based `line`, 0-based character `col` in template `name`.
    fn offset(&self, name: &str, line: usize, col: usize) -> usize {
        let Some(text) = self.texts.get(name) else {
            return 0;
        };
        let start = text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum::<usize>();
        let in_line = text[start..]
            .char_indices()
            .nth(col)
            .map_or(text.len() - start, |(i, _)| i);
        start + in_line
    }

    /// Turns a tera error into diagnostics naming the template file, line and
    /// column, and the page being rendered when there is one.
    fn diagnostics(&self, e: &tera::Error, page: Option<&str>) -> Vec<Diagnostic> {
        let with_page = |d: Diagnostic| match page {
            Some(p) => d.note(format!("while rendering the page `{p}`")),
            None => d,
        };
        match e.kind() {
            ErrorKind::SyntaxError(r) | ErrorKind::RenderingError(r) => {
                let sp = r.span();
                vec![with_page(self.located(
                    r.filename(),
                    sp.start_line,
                    sp.start_col,
                    sp.range.clone(),
                    r.message(),
                ))]
            }
            ErrorKind::MissingParent { current, parent } => vec![with_page(
                Diagnostic::error(
                    "template-missing",
                    format!(
                        "template `{parent}` is missing: `{}` extends it",
                        self.path(current).display()
                    ),
                )
                .in_file(&self.path(current))
                .note(needed_by(current))
                .help(self.add_help(parent)),
            )],
            ErrorKind::TemplateNotFound(name) => vec![with_page(
                Diagnostic::error(
                    "template-missing",
                    format!("template `{name}` is missing from the theme"),
                )
                .note(needed_by(name))
                .help(self.add_help(name)),
            )],
            // Reference checks come as pre-rendered reports: "error: <message>\n --> <name>:<line>:<col>".
            ErrorKind::Msg(text) => {
                let ds = self.parse_reports(text);
                if ds.is_empty() {
                    vec![
                        with_page(Diagnostic::error(
                            "template",
                            format!("theme: {}", text.lines().next().unwrap_or("template error")),
                        ))
                        .note(text.clone()),
                    ]
                } else {
                    ds.into_iter().map(with_page).collect()
                }
            }
            other => vec![with_page(Diagnostic::error(
                "template",
                format!("theme: {other}"),
            ))],
        }
    }

    /// A diagnostic at `line`:`col` of template `name`.
    fn located(
        &self,
        name: &str,
        line: usize,
        col: usize,
        range: std::ops::Range<usize>,
        message: &str,
    ) -> Diagnostic {
        let file = self.path(name);
        let message = message.trim().trim_start_matches("error: ");
        if let Some(missing) = message
            .strip_prefix("Unknown template `")
            .and_then(|m| m.strip_suffix('`'))
        {
            return Diagnostic::error(
                "template-missing",
                format!(
                    "template `{missing}` is missing: `{}` line {line} includes it",
                    file.display()
                ),
            )
            .at(&file, range)
            .label("included here")
            .note(needed_by(name))
            .help(self.add_help(missing));
        }
        // Tera lists the fields a value has; that list is a hint, not the problem.
        let (problem, hint) = match message.split_once(" Available fields: ") {
            Some((p, h)) => (p, Some(h)),
            None => (message, None),
        };
        let d = Diagnostic::error(
            "template",
            format!(
                "template `{}` line {line}, column {}: {problem}",
                file.display(),
                col + 1
            ),
        )
        .at(&file, range)
        .label(problem.to_string());
        match hint {
            Some(h) => d.help(format!("available fields: {h}")),
            None => d,
        }
    }

    fn parse_reports(&self, text: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut lines = text.lines().peekable();
        while let Some(l) = lines.next() {
            let Some(message) = l.trim().strip_prefix("error: ") else {
                continue;
            };
            let Some(loc) = lines.peek().and_then(|n| n.trim().strip_prefix("--> ")) else {
                continue;
            };
            let mut parts = loc.rsplitn(3, ':');
            let (Some(col), Some(line), Some(name)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (Ok(line), Ok(col)) = (line.parse::<usize>(), col.parse::<usize>()) else {
                continue;
            };
            // The report's column is 1-based.
            let col = col.saturating_sub(1);
            let at = self.offset(name, line, col);
            out.push(self.located(name, line, col, at..at + 1, message));
        }
        out
    }

    fn add_help(&self, missing: &str) -> String {
        match &self.theme_dir {
            Some(dir) => format!(
                "add `{}`, or remove the reference to it",
                dir.join("templates").join(missing).display()
            ),
            None => format!("add `templates/{missing}` to a theme folder, or remove the reference"),
        }
    }
}

/// Which pages a template renders, for messages about a template they need.
fn needed_by(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let pages = match base {
        "index.html" => "the home page",
        "release.html" => "every release page (releases/<slug>/)",
        "tiers.html" => "the tiers page (tiers/)",
        "tier.html" => "every tier page (tiers/<tier>/)",
        "labels.html" => "the labels page (labels/)",
        "label.html" => "every label page (labels/<slug>/)",
        "years.html" => "the years page (years/)",
        "year.html" => "every year page (years/<year>/)",
        "artists.html" => "the artists page (artists/)",
        "artist.html" => "every artist page (artists/<slug>/)",
        "countries.html" => "the countries page (countries/)",
        "country.html" => "every country page (countries/<code>/)",
        "page.html" => "every free page (<page>/)",
        "404.html" => "the not-found page (404.html)",
        "base.html" => "every page",
        _ => return format!("needed by every page whose template uses `{base}`"),
    };
    format!("`{base}` renders {pages}, so the build needs it")
}

/// The theme's template texts, by path relative to the site root, so that
/// template diagnostics can show their lines. Unreadable files are skipped.
pub fn template_sources(root: &Path, theme_dir: Option<&Path>) -> Sources {
    let mut sources = Sources::default();
    for (name, text) in DEFAULT_TEMPLATES {
        sources.insert(
            Path::new("themes/default/templates").join(name),
            Arc::from(*text),
        );
    }
    if let Some(dir) = theme_dir {
        for (p, rel) in list_files(&root.join(dir).join("templates"), root) {
            if let Ok(text) = std::fs::read_to_string(&p) {
                sources.insert(dir.join("templates").join(rel), text.into());
            }
        }
    }
    sources
}

impl Theme {
    /// The default theme, overridden by `<root>/<theme_dir>/templates` and
    /// `<root>/<theme_dir>/static` when a theme folder is given.
    pub fn load(root: &Path, theme_dir: Option<&Path>) -> Result<Theme, Vec<Diagnostic>> {
        let mut tera = Tera::new();
        let mut names = Names {
            theme_dir: theme_dir.map(Path::to_path_buf),
            texts: DEFAULT_TEMPLATES
                .iter()
                .map(|(n, c)| (format!("{DEFAULT_PREFIX}{n}"), Arc::from(*c)))
                .collect(),
        };
        let prefixes = [SITE_PREFIX, DEFAULT_PREFIX];
        tera.set_fallback_prefixes(prefixes)
            .map_err(|e| names.diagnostics(&e, None))?;
        tera.add_raw_templates(
            DEFAULT_TEMPLATES
                .iter()
                .map(|(n, c)| (format!("{DEFAULT_PREFIX}{n}"), *c)),
        )
        .map_err(|e| names.diagnostics(&e, None))?;
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
            let mut unreadable = Vec::new();
            let mut named: Vec<(String, Arc<str>)> = Vec::new();
            for (p, rel) in list_files(&base.join("templates"), root) {
                match std::fs::read_to_string(&p) {
                    Ok(text) => named.push((format!("{SITE_PREFIX}{rel}"), text.into())),
                    Err(e) => unreadable.push(
                        Diagnostic::error("unreadable", format!("cannot read template: {e}"))
                            .in_file(&dir.join("templates").join(&rel))
                            .help("templates are UTF-8 text files"),
                    ),
                }
            }
            if !unreadable.is_empty() {
                return Err(unreadable);
            }
            names.texts.extend(named.iter().cloned());
            if !named.is_empty() {
                tera.add_raw_templates(named.iter().map(|(n, t)| (n.as_str(), &**t)))
                    .map_err(|e| names.diagnostics(&e, None))?;
            }
            for (p, rel) in list_files(&base.join("static"), root) {
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
        let available = tera
            .get_template_names()
            .filter_map(|n| {
                n.strip_prefix(SITE_PREFIX)
                    .or_else(|| n.strip_prefix(DEFAULT_PREFIX))
            })
            .map(str::to_string)
            .collect();
        Ok(Theme {
            tera,
            statics,
            names,
            available,
        })
    }

    /// Whether `template` is the default theme's own (the site has no version
    /// of it): its output is known, which [`crate::render`] relies on to
    /// render a row once for several pages.
    pub fn is_default(&self, template: &str) -> bool {
        !self
            .names
            .texts
            .contains_key(&format!("{SITE_PREFIX}{template}"))
    }

    /// Renders `template` (the site's version if it has one). Errors name the
    /// template's file, line and column, and the page (`path` in `ctx`).
    pub fn render(&self, template: &str, ctx: &Context) -> Result<String, Box<Diagnostic>> {
        self.render_with(template, ctx, |tera| tera.render(template, ctx))
    }

    /// [`Theme::render`] as bytes, for a page going to its file: the UTF-8
    /// check of every page's text (its template values are strings already)
    /// is skipped.
    pub fn render_bytes(&self, template: &str, ctx: &Context) -> Result<Vec<u8>, Box<Diagnostic>> {
        self.render_with(template, ctx, |tera| {
            let mut out = Vec::with_capacity(8 * 1024);
            tera.render_to(template, ctx, &mut out).map(|()| out)
        })
    }

    fn render_with<T>(
        &self,
        template: &str,
        ctx: &Context,
        render: impl FnOnce(&tera::Tera) -> tera::TeraResult<T>,
    ) -> Result<T, Box<Diagnostic>> {
        let page = || {
            ctx.get("path").and_then(|p| p.as_str()).map(|p| match p {
                "" => "/ (the home page)".to_string(),
                p => p.to_string(),
            })
        };
        if !self.available.contains(template) {
            let page = page();
            let d = Diagnostic::error(
                "template-missing",
                match &page {
                    Some(p) => format!(
                        "template `{template}` is missing from the theme; the page `{p}` needs it"
                    ),
                    None => format!("template `{template}` is missing from the theme"),
                },
            )
            .note(needed_by(template))
            .help(self.names.add_help(template));
            return Err(Box::new(d));
        }
        render(&self.tera).map_err(|e| {
            let mut ds = self.names.diagnostics(&e, page().as_deref());
            Box::new(if ds.is_empty() {
                Diagnostic::error("template", format!("rendering `{template}`: {e}"))
            } else {
                ds.swap_remove(0)
            })
        })
    }

    /// The theme's static files.
    pub fn static_files(&self) -> Vec<OutFile> {
        self.statics.clone()
    }
}

/// Files below `dir` as (full path, '/'-separated relative path), sorted; none if absent.
///
/// A symbolic link is listed only when it leads to a file inside the site
/// `root`: a link to `/` is never walked, and one to a file elsewhere on the
/// machine (a key, a password file) never ends up published.
pub fn list_files(dir: &Path, root: &Path) -> Vec<(PathBuf, String)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut out: Vec<(PathBuf, String)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file()
                || (e.path_is_symlink()
                    && std::fs::canonicalize(e.path())
                        .is_ok_and(|t| t.starts_with(&root) && t.is_file()))
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_template_names_the_page_that_needed_it() {
        let theme = match Theme::load(Path::new("."), None) {
            Ok(t) => t,
            Err(d) => panic!("the default theme loads: {d:?}"),
        };
        let mut ctx = Context::new();
        ctx.insert("path", "releases/x/");
        let d = match theme.render("nope.html", &ctx) {
            Ok(_) => panic!("rendered a template that does not exist"),
            Err(d) => d,
        };
        assert_eq!(d.code, "template-missing");
        assert_eq!(
            d.message,
            "template `nope.html` is missing from the theme; the page `releases/x/` needs it"
        );
    }

    #[test]
    fn template_files_are_named_by_their_folder() {
        let names = Names {
            theme_dir: Some(PathBuf::from("mytheme")),
            texts: [("site/a.html".to_string(), Arc::from("one\ntwo ñ x\n"))].into(),
        };
        assert_eq!(
            names.path("site/a.html"),
            Path::new("mytheme/templates/a.html")
        );
        assert_eq!(
            names.path("default/base.html"),
            Path::new("themes/default/templates/base.html")
        );
        // Line 2, character 6 ("x"), after a two-byte "ñ".
        assert_eq!(names.offset("site/a.html", 2, 6), 4 + 7);
    }
}
