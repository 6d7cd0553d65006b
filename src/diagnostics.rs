//! One diagnostic type for every problem a build can meet, and its renderers.
//!
//! Checks return [`Diagnostic`]s and never print; the CLI renders them with
//! [`render`] in one of the [`MessageFormat`]s.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The build refuses to publish.
    Error,
    /// Published, but probably a mistake (an error under `--deny-warnings`).
    Warning,
}

/// A problem found in the site's sources, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable short name of the rule, e.g. `below-threshold`.
    pub code: &'static str,
    pub message: String,
    /// Path relative to the site root, when the problem is in a file.
    pub file: Option<PathBuf>,
    /// Byte range in that file.
    pub span: Option<Range<usize>>,
    /// Text under the underline.
    pub label: Option<String>,
    /// Secondary spans in the same file, with their labels.
    pub context: Vec<(Range<usize>, String)>,
    /// Suggestions ("help: ...").
    pub help: Vec<String>,
    /// Extra facts ("note: ...").
    pub notes: Vec<String>,
}

impl Diagnostic {
    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            file: None,
            span: None,
            label: None,
            context: Vec::new(),
            help: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// An error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    /// A warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    /// Points the diagnostic at `span` in `file`.
    pub fn at(mut self, file: &Path, span: Range<usize>) -> Self {
        self.file = Some(file.to_path_buf());
        self.span = Some(span);
        self
    }

    /// Names a file without a position (e.g. an unreadable file).
    pub fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    /// The text shown under the primary span.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a secondary span with a label.
    pub fn context(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        self.context.push((span, label.into()));
        self
    }

    /// Adds a "help:" line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// Adds a "help:" line only when there is one.
    pub fn help_opt(self, help: Option<String>) -> Self {
        match help {
            Some(h) => self.help(h),
            None => self,
        }
    }

    /// Adds a "note:" line.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Whether this stops a build.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The texts of the files diagnostics point into, so renderers can show lines.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: HashMap<PathBuf, Arc<str>>,
}

impl Sources {
    /// Remembers the text of `path`.
    pub fn insert(&mut self, path: PathBuf, text: Arc<str>) {
        self.files.insert(path, text);
    }

    /// Merges another set of sources into this one.
    pub fn extend(&mut self, other: Sources) {
        self.files.extend(other.files);
    }

    /// Every file path held.
    pub fn paths(&self) -> Vec<&Path> {
        self.files.keys().map(PathBuf::as_path).collect()
    }

    /// The text of `path`, if known.
    pub fn get(&self, path: &Path) -> Option<&str> {
        self.files.get(path).map(|s| &**s)
    }

    /// 1-based line and column (in characters) of byte `offset` in `path`.
    pub fn line_col(&self, path: &Path, offset: usize) -> Option<(usize, usize)> {
        self.get(path).map(|text| line_col(text, offset))
    }
}

/// 1-based line and character column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    (line, col)
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MessageFormat {
    /// rustc-style: the source line with the span underlined, and help lines.
    #[default]
    Human,
    /// One line per problem: `path:line:col: severity[code]: message`.
    Short,
    /// One JSON object per line, for tools.
    Json,
    /// GitHub Actions workflow commands, so a pull request shows each problem on its line.
    Github,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    label: Option<&'a str>,
    help: &'a [String],
    notes: &'a [String],
}

/// Where a diagnostic starts and ends as (line, col) pairs.
fn position(d: &Diagnostic, sources: &Sources) -> Option<((usize, usize), (usize, usize))> {
    let file = d.file.as_deref()?;
    let span = d.span.as_ref()?;
    let start = sources.line_col(file, span.start)?;
    let end = sources.line_col(file, span.end)?;
    Some((start, end))
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Renders one diagnostic in `format`. `color` only affects `Human`.
pub fn render(d: &Diagnostic, sources: &Sources, format: MessageFormat, color: bool) -> String {
    match format {
        MessageFormat::Human => render_human(d, sources, color),
        MessageFormat::Short => render_short(d, sources),
        MessageFormat::Json => render_json(d, sources),
        MessageFormat::Github => render_github(d, sources),
    }
}

fn location(d: &Diagnostic, sources: &Sources) -> String {
    match (&d.file, position(d, sources)) {
        (Some(f), Some(((l, c), _))) => format!("{}:{l}:{c}", f.display()),
        (Some(f), None) => f.display().to_string(),
        _ => String::new(),
    }
}

fn render_short(d: &Diagnostic, sources: &Sources) -> String {
    let loc = location(d, sources);
    let mut out = String::new();
    if !loc.is_empty() {
        out.push_str(&loc);
        out.push_str(": ");
    }
    let _ = write!(
        out,
        "{}[{}]: {}",
        severity_word(d.severity),
        d.code,
        d.message
    );
    if let Some(h) = d.help.first() {
        let _ = write!(out, " (help: {h})");
    }
    out
}

fn render_json(d: &Diagnostic, sources: &Sources) -> String {
    let pos = position(d, sources);
    let j = JsonDiagnostic {
        severity: d.severity,
        code: d.code,
        message: &d.message,
        file: d.file.as_ref().map(|f| f.display().to_string()),
        line: pos.map(|p| p.0.0),
        column: pos.map(|p| p.0.1),
        end_line: pos.map(|p| p.1.0),
        end_column: pos.map(|p| p.1.1),
        label: d.label.as_deref(),
        help: &d.help,
        notes: &d.notes,
    };
    serde_json::to_string(&j).unwrap_or_default()
}

/// Escapes data for a GitHub workflow command (`%`, CR, LF; and `,` `:` in properties).
fn gh_escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

fn render_github(d: &Diagnostic, sources: &Sources) -> String {
    let mut props = Vec::new();
    if let Some(f) = &d.file {
        props.push(format!(
            "file={}",
            gh_escape(&f.display().to_string(), true)
        ));
    }
    if let Some(((l, c), (el, ec))) = position(d, sources) {
        props.push(format!("line={l},col={c},endLine={el},endColumn={ec}"));
    }
    props.push(format!("title={}", gh_escape(d.code, true)));
    let mut msg = d.message.clone();
    if let Some(label) = &d.label {
        msg.push_str(&format!(": {label}"));
    }
    for h in &d.help {
        msg.push_str(&format!("\nhelp: {h}"));
    }
    // Notes carry the threshold arithmetic: the pull request shows it too.
    for n in &d.notes {
        msg.push_str(&format!("\nnote: {n}"));
    }
    format!(
        "::{} {}::{}",
        severity_word(d.severity),
        props.join(","),
        gh_escape(&msg, false)
    )
}

fn render_human(d: &Diagnostic, sources: &Sources, color: bool) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(d.message.as_str()).id(d.code);
    let path_str = d.file.as_ref().map(|f| f.display().to_string());
    let text = d.file.as_deref().and_then(|f| sources.get(f));
    let mut groups: Vec<Group> = Vec::new();
    let first = match (text, &d.span, &path_str) {
        (Some(text), Some(span), Some(path)) => {
            let span = clamp(text, span.clone());
            let mut primary = AnnotationKind::Primary.span(span);
            if let Some(l) = &d.label {
                primary = primary.label(l.as_str());
            }
            let mut snippet = Snippet::source(text)
                .path(path.as_str())
                .annotation(primary);
            for (span, label) in &d.context {
                snippet = snippet.annotation(
                    AnnotationKind::Context
                        .span(clamp(text, span.clone()))
                        .label(label.as_str()),
                );
            }
            title.element(snippet)
        }
        (_, _, Some(path)) => title.element(annotate_snippets::Origin::path(path.as_str())),
        _ => Group::with_title(title),
    };
    groups.push(first);
    for h in &d.help {
        groups.push(Group::with_title(Level::HELP.secondary_title(h.as_str())));
    }
    for n in &d.notes {
        groups.push(Group::with_title(Level::NOTE.secondary_title(n.as_str())));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&groups)
}

/// Keeps a span inside the text and on char boundaries, so rendering cannot panic.
fn clamp(text: &str, span: Range<usize>) -> Range<usize> {
    let mut start = span.start.min(text.len());
    let mut end = span.end.min(text.len()).max(start);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// Counts of errors and warnings in a set of diagnostics.
pub fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors, diags.len() - errors)
}

/// Sorts diagnostics by file, then position, so output is stable.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.span.as_ref().map(|s| s.start), &a.message).cmp(&(
            &b.file,
            b.span.as_ref().map(|s| s.start),
            &b.message,
        ))
    });
}

/// The nearest candidate to `word` by edit distance, if close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(dist, c)| {
            let limit = (c.chars().count().max(word.chars().count()) / 3).max(1);
            *dist <= limit || c.to_lowercase().starts_with(&lower) && !lower.is_empty()
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let t = "ab\nçd = 1\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 5), (2, 2));
    }

    #[test]
    fn suggest_nearest() {
        assert_eq!(suggest("glod", ["gold", "silver"]), Some("gold"));
        assert_eq!(suggest("xyz", ["gold", "silver"]), None);
    }

    #[test]
    fn github_escapes() {
        let d = Diagnostic::error("x", "a%b\nc");
        let s = render(&d, &Sources::default(), MessageFormat::Github, false);
        assert_eq!(s, "::error title=x::a%25b%0Ac");
    }
}
