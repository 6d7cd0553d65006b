//! Reads typed fields out of a spanned TOML table, collecting every problem.
//!
//! serde stops at the first error; editors want all of them, each pointing at
//! its key or value, so records are read field by field here instead.

use std::ops::Range;
use std::path::Path;

use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::date::PartialDate;
use crate::diagnostics::{Diagnostic, suggest};

/// A value with the byte range it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> Sp<T> {
    /// Wraps `value` with its span.
    pub fn new(value: T, span: Range<usize>) -> Self {
        Sp { value, span }
    }
}

impl<T: Serialize> Serialize for Sp<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

/// Parses `text` as TOML, reporting every syntax error found.
pub fn parse_document<'i>(
    text: &'i str,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Spanned<DeTable<'i>>> {
    let (table, errors) = DeTable::parse_recoverable(text);
    if errors.is_empty() {
        return Some(table);
    }
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        let msg = e.message().trim().to_string();
        let (message, label) = match msg.split_once('\n') {
            Some((first, rest)) => (first.to_string(), Some(rest.trim().to_string())),
            None => (msg, None),
        };
        let mut d = Diagnostic::error("toml-syntax", format!("invalid TOML: {message}"))
            .at(file, span)
            .help("see https://toml.io for the syntax; strings need double quotes");
        if let Some(l) = label.filter(|l| !l.is_empty()) {
            d = d.label(l);
        }
        diags.push(d);
    }
    None
}

/// Human name of a TOML value's type, for "expected X, found Y".
pub fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Reads the fields of one table; reports unknown keys on [`Fields::finish`].
pub struct Fields<'t, 'd, 'i> {
    table: &'t DeTable<'i>,
    /// Span of the whole table (or its header), for "missing field" errors.
    pub span: Range<usize>,
    /// What the table is, for messages: "release", "award", "label".
    what: &'static str,
    known: &'static [&'static str],
    file: &'t Path,
    /// Problems found so far.
    pub diags: &'d mut Vec<Diagnostic>,
    /// Set when any field was missing or of the wrong type.
    pub failed: bool,
}

impl<'t, 'd, 'i> Fields<'t, 'd, 'i> {
    /// Starts reading `table`.
    pub fn new(
        table: &'t DeTable<'i>,
        span: Range<usize>,
        what: &'static str,
        known: &'static [&'static str],
        file: &'t Path,
        diags: &'d mut Vec<Diagnostic>,
    ) -> Self {
        Fields {
            table,
            span,
            what,
            known,
            file,
            diags,
            failed: false,
        }
    }

    /// The file being read.
    pub fn file(&self) -> &'t Path {
        self.file
    }

    /// The raw value of `key`.
    pub fn raw(&self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    fn wrong_type(&mut self, key: &str, expected: &str, v: &Spanned<DeValue<'_>>) {
        self.failed = true;
        let found = type_name(v.get_ref());
        let mut d = Diagnostic::error(
            "wrong-type",
            format!("`{key}` must be {expected}, found {found}"),
        )
        .at(self.file, v.span())
        .label(format!("expected {expected}"));
        if let (DeValue::Integer(_), true) = (v.get_ref(), expected.contains("string")) {
            d = d.help("put the value in double quotes");
        }
        if let (DeValue::String(s), true) = (v.get_ref(), expected.contains("integer")) {
            let digits: String = s
                .chars()
                .filter(|c| !matches!(c, ',' | '.' | ' ' | '_'))
                .collect();
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                d = d.help(format!(
                    "write the number without quotes: `{key} = {digits}`"
                ));
            }
        }
        self.diags.push(d);
    }

    fn missing(&mut self, key: &str, example: &str) {
        self.failed = true;
        let what = self.what;
        self.diags.push(
            Diagnostic::error(
                "missing-field",
                format!("{what} is missing the required field `{key}`"),
            )
            .at(self.file, self.span.clone())
            .label(format!("this {what} has no `{key}`"))
            .help(format!("add a line such as `{key} = {example}`")),
        );
    }

    /// An optional string.
    pub fn opt_str(&mut self, key: &str) -> Option<Sp<String>> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Sp::new(s.to_string(), v.span())),
            _ => {
                self.wrong_type(key, "a string", v);
                None
            }
        }
    }

    /// A required string; empty strings are refused too.
    pub fn req_str(&mut self, key: &str, example: &str) -> Option<Sp<String>> {
        if self.raw(key).is_none() {
            self.missing(key, example);
            return None;
        }
        let s = self.opt_str(key)?;
        if s.value.trim().is_empty() {
            self.failed = true;
            self.diags.push(
                Diagnostic::error("empty-field", format!("`{key}` must not be empty"))
                    .at(self.file, s.span.clone())
                    .label("empty")
                    .help(format!("write it, e.g. `{key} = {example}`")),
            );
            return None;
        }
        Some(s)
    }

    /// An optional list of strings.
    pub fn opt_str_list(&mut self, key: &str) -> Option<Sp<Vec<Sp<String>>>> {
        let v = self.raw(key)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(key, "an array of strings", v);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(Sp::new(s.to_string(), item.span())),
                _ => self.wrong_type(&format!("{key}[]"), "a string", item),
            }
        }
        Some(Sp::new(out, v.span()))
    }

    /// An optional non-negative integer; `key` names it in messages.
    pub fn opt_units(&mut self, key: &str) -> Option<Sp<u64>> {
        let v = self.raw(key)?;
        read_units(key, v, self.file, self.diags).or_else(|| {
            self.failed = true;
            None
        })
    }

    /// An optional integer (may be negative).
    pub fn opt_int(&mut self, key: &str) -> Option<Sp<i64>> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(Sp::new(n, v.span())),
                Err(_) => {
                    self.failed = true;
                    self.diags.push(
                        Diagnostic::error("number-too-large", format!("`{key}` is too large"))
                            .at(self.file, v.span()),
                    );
                    None
                }
            },
            _ => {
                self.wrong_type(key, "an integer", v);
                None
            }
        }
    }

    /// An optional date: a TOML date, or a string "YYYY", "YYYY-MM" or "YYYY-MM-DD".
    pub fn opt_date(&mut self, key: &str) -> Option<Sp<PartialDate>> {
        let v = self.raw(key)?;
        let bad = |this: &mut Self, shown: String| {
            this.failed = true;
            this.diags.push(
                Diagnostic::error("bad-date", format!("`{key}` is not a valid date: {shown}"))
                    .at(this.file, v.span())
                    .label("expected a date")
                    .help(format!(
                        "write a date as `{key} = 2021-06-30`, or `{key} = \"2021-06\"` or `{key} = \"2021\"` when only the month or year is known"
                    )),
            );
            None
        };
        match v.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time) {
                (Some(d), None) => match chrono::NaiveDate::from_ymd_opt(
                    i32::from(d.year),
                    u32::from(d.month),
                    u32::from(d.day),
                ) {
                    Some(nd) => Some(Sp::new(PartialDate::Day(nd), v.span())),
                    None => bad(self, dt.to_string()),
                },
                _ => bad(self, format!("{dt} has a time of day")),
            },
            DeValue::String(s) => match PartialDate::parse(s.trim()) {
                Some(d) => Some(Sp::new(d, v.span())),
                None => bad(self, format!("\"{s}\"")),
            },
            _ => {
                self.wrong_type(key, "a date", v);
                None
            }
        }
    }

    /// A required date.
    pub fn req_date(&mut self, key: &str, example: &str) -> Option<Sp<PartialDate>> {
        if self.raw(key).is_none() {
            self.missing(key, example);
            return None;
        }
        self.opt_date(key)
    }

    /// An optional table, with the span of its value.
    pub fn opt_table(&mut self, key: &str) -> Option<(&'t DeTable<'i>, Range<usize>)> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some((t, v.span())),
            _ => {
                self.wrong_type(key, "a table", v);
                None
            }
        }
    }

    /// An optional array of tables (`[[key]]`), each with its span.
    pub fn opt_tables(&mut self, key: &str) -> Vec<(&'t DeTable<'i>, Range<usize>)> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(key, &format!("an array of tables (`[[{key}]]`)"), v);
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::Table(t) => out.push((t, item.span())),
                _ => self.wrong_type(key, "a table", item),
            }
        }
        out
    }

    /// Reports every key not in the known list, suggesting the nearest known key.
    pub fn finish(self) -> bool {
        for (k, _) in self.table.iter() {
            let key: &str = k.get_ref();
            if self.known.contains(&key) {
                continue;
            }
            let what = self.what;
            let d = Diagnostic::error("unknown-key", format!("unknown key `{key}` in {what}"))
                .at(self.file, k.span())
                .label("not a known key")
                .help_opt(
                    suggest(key, self.known.iter().copied())
                        .map(|s| format!("did you mean `{s}`?")),
                )
                .note(format!(
                    "{} {what} may have: {}",
                    if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    },
                    self.known.join(", ")
                ));
            self.diags.push(d);
        }
        !self.failed
    }
}

/// Reads a units figure: a positive integer that fits in 64 bits.
pub fn read_units(
    key: &str,
    v: &Spanned<DeValue<'_>>,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Sp<u64>> {
    match v.get_ref() {
        DeValue::Integer(i) => {
            let text = i.as_str();
            if text.starts_with('-') {
                diags.push(
                    Diagnostic::error("units-not-positive", format!("`{key}` must be positive"))
                        .at(file, v.span())
                        .label("negative units")
                        .help("units are the count of copies shipped: a whole number above zero"),
                );
                return None;
            }
            match u64::from_str_radix(text.trim_start_matches('+'), i.radix()) {
                Ok(0) => {
                    diags.push(
                        Diagnostic::error(
                            "units-not-positive",
                            format!("`{key}` must be positive"),
                        )
                        .at(file, v.span())
                        .label("zero units")
                        .help("leave the figure out if it was not published, and cite a `source`"),
                    );
                    None
                }
                Ok(n) => Some(Sp::new(n, v.span())),
                Err(_) => {
                    diags.push(
                        Diagnostic::error("number-too-large", format!("`{key}` is too large"))
                            .at(file, v.span())
                            .label(format!("larger than {}", u64::MAX))
                            .help("check for extra digits"),
                    );
                    None
                }
            }
        }
        DeValue::String(s) => {
            let digits: String = s
                .chars()
                .filter(|c| !matches!(c, ',' | '.' | ' ' | '_'))
                .collect();
            let mut d = Diagnostic::error(
                "wrong-type",
                format!("`{key}` must be an integer, found a string"),
            )
            .at(file, v.span())
            .label("expected an integer");
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                d = d.help(format!("write the number without quotes, e.g. `{digits}` (underscores may group digits: 20_000)"));
            }
            diags.push(d);
            None
        }
        other => {
            diags.push(
                Diagnostic::error(
                    "wrong-type",
                    format!("`{key}` must be an integer, found {}", type_name(other)),
                )
                .at(file, v.span())
                .label("expected an integer"),
            );
            None
        }
    }
}
