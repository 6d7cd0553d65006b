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
        match self {
            PartialDate::Year(y) => y.to_string(),
            PartialDate::Month(y, m) => format!("{} {y}", month_name(*m)),
            PartialDate::Day(d) => format!("{} {} {}", d.day(), month_name(d.month()), d.year()),
        }
    }
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
        match self {
            PartialDate::Year(y) => write!(f, "{y:04}"),
            PartialDate::Month(y, m) => write!(f, "{y:04}-{m:02}"),
            PartialDate::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
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
}
