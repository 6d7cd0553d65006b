//! Dates as precise as the press report: a year, a month or a day.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// A calendar date known to a year, a month or a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartialDate {
    /// Only the year is known ("2021").
    Year(i32),
    /// Year and month ("2021-06").
    Month(i32, u32),
    /// A full date.
    Day(NaiveDate),
}

impl PartialDate {
    /// Parses "YYYY", "YYYY-MM" or "YYYY-MM-DD".
    pub fn parse(s: &str) -> Option<PartialDate> {
        let parts: Vec<&str> = s.split('-').collect();
        let year = |p: &str| -> Option<i32> {
            (p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let two = |p: &str| -> Option<u32> {
            (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        match parts.as_slice() {
            [y] => Some(PartialDate::Year(year(y)?)),
            [y, m] => {
                let (y, m) = (year(y)?, two(m)?);
                NaiveDate::from_ymd_opt(y, m, 1)?;
                Some(PartialDate::Month(y, m))
            }
            [y, m, d] => Some(PartialDate::Day(NaiveDate::from_ymd_opt(
                year(y)?,
                two(m)?,
                two(d)?,
            )?)),
            _ => None,
        }
    }

    /// The first day the date may mean.
    pub fn first_day(&self) -> NaiveDate {
        match *self {
            PartialDate::Year(y) => NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(NaiveDate::MIN),
            PartialDate::Month(y, m) => NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MIN),
            PartialDate::Day(d) => d,
        }
    }

    /// The last day the date may mean.
    pub fn last_day(&self) -> NaiveDate {
        match *self {
            PartialDate::Year(y) => NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(NaiveDate::MAX),
            PartialDate::Month(y, m) => {
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(y + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(y, m + 1, 1)
                };
                next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
            }
            PartialDate::Day(d) => d,
        }
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.first_day().year()
    }

    /// True when `self` is certainly before `other` (every day it may mean is earlier).
    pub fn certainly_before(&self, other: &PartialDate) -> bool {
        self.last_day() < other.first_day()
    }

    /// A key that sorts dates by their first day, more precise dates last on ties.
    pub fn sort_key(&self) -> (NaiveDate, u8) {
        let precision = match self {
            PartialDate::Year(_) => 0,
            PartialDate::Month(..) => 1,
            PartialDate::Day(_) => 2,
        };
        (self.first_day(), precision)
    }

    /// Human form in English: "2021", "June 2021", "3 June 2021".
    pub fn human(&self) -> String {
        let mut s = String::with_capacity(17);
        // Writing into a String cannot fail.
        let _ = self.write_human(&mut s);
        s
    }

    /// Writes [`PartialDate::human`] without making a `String` of it: pages show
    /// an award's date in every list it is in.
    pub fn write_human(&self, w: &mut impl fmt::Write) -> fmt::Result {
        let mut buf = [0u8; 4];
        match *self {
            PartialDate::Year(y) => w.write_str(digits4(&mut buf, y)),
            PartialDate::Month(y, m) => {
                w.write_str(month_name(m))?;
                w.write_str(" ")?;
                w.write_str(digits4(&mut buf, y))
            }
            PartialDate::Day(d) => {
                let day = d.day();
                if day >= 10 {
                    w.write_char(char::from(b'0' + (day / 10) as u8))?;
                }
                w.write_char(char::from(b'0' + (day % 10) as u8))?;
                w.write_str(" ")?;
                w.write_str(month_name(d.month()))?;
                w.write_str(" ")?;
                w.write_str(digits4(&mut buf, d.year()))
            }
        }
    }
}

/// `y` as four digits: [`PartialDate::parse`] takes four-digit years only.
fn digits4(buf: &mut [u8; 4], y: i32) -> &str {
    let mut y = y.clamp(0, 9999) as u32;
    for b in buf.iter_mut().rev() {
        *b = b'0' + (y % 10) as u8;
        y /= 10;
    }
    std::str::from_utf8(buf).unwrap_or("????")
}

fn month_name(m: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES
        .get((m as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("?")
}

impl fmt::Display for PartialDate {
    /// ISO 8601 at the known precision: "2021", "2021-06", "2021-06-03".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // By hand, not `write!` or chrono's `format`: every row, record and
        // data file writes dates, and a format string is parsed on each call.
        let (y, m, d) = match *self {
            PartialDate::Year(y) => (y, 0, 0),
            PartialDate::Month(y, m) => (y, m, 0),
            PartialDate::Day(d) => (d.year(), d.month(), d.day()),
        };
        let mut buf = *b"0000-00-00";
        let mut year = [0u8; 4];
        buf[..4].copy_from_slice(digits4(&mut year, y).as_bytes());
        let mut len = 4;
        for part in [m, d] {
            if part == 0 {
                break;
            }
            buf[len + 1] = b'0' + (part / 10 % 10) as u8;
            buf[len + 2] = b'0' + (part % 10) as u8;
            len += 3;
        }
        f.write_str(std::str::from_utf8(&buf[..len]).unwrap_or("????"))
    }
}

impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_ranges() {
        let m = PartialDate::parse("2024-02").unwrap();
        assert_eq!(m.last_day(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(m.to_string(), "2024-02");
        assert!(PartialDate::parse("2024-13").is_none());
        assert!(PartialDate::parse("24").is_none());
        assert!(PartialDate::parse("2024-02-30").is_none());
        let y = PartialDate::parse("2021").unwrap();
        let d = PartialDate::parse("2021-06-01").unwrap();
        assert!(!y.certainly_before(&d));
        assert!(PartialDate::parse("2020").unwrap().certainly_before(&d));
        assert_eq!(d.human(), "1 June 2021");
    }

    #[test]
    fn writes_iso_and_human_at_each_precision() {
        for (iso, human) in [
            ("2021", "2021"),
            ("0999", "0999"),
            ("2024-02", "February 2024"),
            ("2007-12", "December 2007"),
            ("2021-06-01", "1 June 2021"),
            ("2026-11-30", "30 November 2026"),
            ("0042-10-09", "9 October 0042"),
        ] {
            let d = PartialDate::parse(iso).unwrap();
            assert_eq!(d.to_string(), iso);
            assert_eq!(d.human(), human);
            // serde goes through Display: the JSON data must say the same.
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{iso}\""));
        }
    }
}
