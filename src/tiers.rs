//! Award scales, tiers and their thresholds.
//!
//! A tier is a level times a multiple ("Double Silver" = 2 x silver); a scale
//! gives each level its units from a date on. Tiers rank by units, never by name.

use std::collections::BTreeMap;
use std::ops::Range;

use chrono::NaiveDate;

/// The units of each level, in force from `from` until the next scale starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    pub id: String,
    pub from: NaiveDate,
    pub levels: BTreeMap<String, u64>,
    /// Where it is defined in site.toml.
    pub span: Range<usize>,
}

/// One tier of the closed list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub id: String,
    pub name: String,
    pub level: String,
    pub multiple: u64,
}

/// The tiers used when site.toml has no `[[tiers]]`: (id, name, level, multiple).
pub const DEFAULT_TIERS: &[(&str, &str, &str, u64)] = &[
    ("silver", "Impala Silver", "silver", 1),
    ("double-silver", "Impala Double Silver", "silver", 2),
    ("triple-silver", "Impala Triple Silver", "silver", 3),
    ("gold", "Impala Gold", "gold", 1),
    ("double-gold", "Impala Double Gold", "gold", 2),
    ("diamond", "Impala Diamond", "diamond", 1),
    ("platinum", "Impala Platinum", "platinum", 1),
    ("double-platinum", "Impala Double Platinum", "platinum", 2),
];

/// The default tier list as [`Tier`]s.
pub fn default_tiers() -> Vec<Tier> {
    DEFAULT_TIERS
        .iter()
        .map(|(id, name, level, multiple)| Tier {
            id: (*id).into(),
            name: (*name).into(),
            level: (*level).into(),
            multiple: *multiple,
        })
        .collect()
}

/// Scales and tiers together: answers "what does this tier need at this date".
#[derive(Debug, Clone, Default)]
pub struct Tiers {
    /// Sorted by `from`.
    scales: Vec<Scale>,
    /// In rank order (ascending units).
    tiers: Vec<Tier>,
}

impl Tiers {
    /// Builds the table; `scales` are sorted by start date here.
    pub fn new(mut scales: Vec<Scale>, tiers: Vec<Tier>) -> Self {
        scales.sort_by(|a, b| a.from.cmp(&b.from).then(a.id.cmp(&b.id)));
        Tiers { scales, tiers }
    }

    /// All scales, oldest first.
    pub fn scales(&self) -> &[Scale] {
        &self.scales
    }

    /// All tiers, lowest first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The scale in force on `date`: the latest one that started on or before it.
    pub fn scale_at(&self, date: NaiveDate) -> Option<&Scale> {
        self.scales.iter().rev().find(|s| s.from <= date)
    }

    /// The scale named `id`.
    pub fn scale(&self, id: &str) -> Option<&Scale> {
        self.scales.iter().find(|s| s.id == id)
    }

    /// The tier named `id` and its rank (0 = lowest).
    pub fn tier(&self, id: &str) -> Option<(usize, &Tier)> {
        self.tiers.iter().enumerate().find(|(_, t)| t.id == id)
    }

    /// Units `tier` needs under `scale`; `None` if the scale lacks the level or it overflows.
    pub fn threshold(&self, tier: &Tier, scale: &Scale) -> Option<u64> {
        scale
            .levels
            .get(&tier.level)
            .and_then(|u| u.checked_mul(tier.multiple))
    }

    /// The highest tier `units` qualifies for under `scale`.
    pub fn highest_for(&self, units: u64, scale: &Scale) -> Option<&Tier> {
        self.tiers
            .iter()
            .rev()
            .find(|t| self.threshold(t, scale).is_some_and(|need| units >= need))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale(id: &str, y: i32, s: u64, g: u64, d: u64, p: u64) -> Scale {
        Scale {
            id: id.into(),
            from: NaiveDate::from_ymd_opt(y, 1, 1).unwrap(),
            levels: [("silver", s), ("gold", g), ("diamond", d), ("platinum", p)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            span: 0..0,
        }
    }

    #[test]
    fn thresholds_and_ranks() {
        let t = Tiers::new(
            vec![
                scale("current", 2013, 20_000, 75_000, 200_000, 400_000),
                scale("launch", 2007, 30_000, 100_000, 250_000, 500_000),
            ],
            default_tiers(),
        );
        let d = NaiveDate::from_ymd_opt(2012, 12, 31).unwrap();
        assert_eq!(t.scale_at(d).unwrap().id, "launch");
        let cur = t.scale("current").unwrap();
        let (rank_d, diamond) = t.tier("diamond").unwrap();
        let (rank_p, _) = t.tier("platinum").unwrap();
        assert!(rank_d < rank_p, "Diamond ranks below Platinum");
        assert_eq!(t.threshold(diamond, cur), Some(200_000));
        let (_, ds) = t.tier("double-silver").unwrap();
        assert_eq!(t.threshold(ds, cur), Some(40_000));
        assert_eq!(t.highest_for(79_000, cur).unwrap().id, "gold");
        assert_eq!(t.highest_for(19_999, cur), None);
        assert!(
            t.scale_at(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap())
                .is_none()
        );
    }
}
