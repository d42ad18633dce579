//! The verdict over all columns (Benjamini–Hochberg, effect floors, the
//! data-set share) and the report a person reads.

use serde::{Deserialize, Serialize};

use super::column::{ColumnDrift, Power};
use super::{ColumnKind, Drift, Expect, Side};
use crate::data::DataInfo;
use crate::text::fig;

/// The outcome of a drift comparison.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DriftReport {
    pub reference: DataInfo,
    pub current: DataInfo,
    pub reference_label: String,
    pub current_label: String,
    pub columns: Vec<ColumnDrift>,
    pub alpha: f64,
    /// Share of compared columns that drifted.
    pub drifted_share: f64,
    pub dataset_share: f64,
    pub dataset_drifted: bool,
    /// True when the check asserts that drift is detected.
    pub expect_drift: bool,
}

impl DriftReport {
    pub(crate) fn decide(
        drift: &Drift,
        reference: &Side,
        current: &Side,
        mut columns: Vec<ColumnDrift>,
    ) -> Self {
        let p: Vec<f64> = columns.iter().map(|c| c.p_value).collect();
        let adjusted = crate::stats::benjamini_hochberg(&p);
        for (c, adj) in columns.iter_mut().zip(adjusted) {
            c.p_adjusted = adj;
            let significant = adj < drift.alpha;
            let large = c.effect >= c.min_effect;
            let oov = c.kind == ColumnKind::Text
                && c.extra("oov_rise").is_some_and(|r| r >= drift.max_oov_rise);
            c.drifted = (significant && large) || oov;
            c.why = match (significant, large, oov) {
                (_, _, true) => format!(
                    "out-of-vocabulary rate rose by {} (≥ {})",
                    fig(c.extra("oov_rise").unwrap_or(f64::NAN)),
                    fig(drift.max_oov_rise)
                ),
                (true, true, _) => "significant and large".into(),
                (true, false, _) => format!(
                    "significant but small: {} {} < {}",
                    c.effect_name,
                    fig(c.effect),
                    fig(c.min_effect)
                ),
                (false, true, _) => format!(
                    "large but not significant: adjusted p {} ≥ {}",
                    fig(c.p_adjusted),
                    fig(drift.alpha)
                ),
                (false, false, _) => "no significant or large shift".into(),
            };
        }
        let drifted = columns.iter().filter(|c| c.drifted).count();
        let share = drifted as f64 / columns.len().max(1) as f64;
        let dataset_drifted = if drift.dataset_share <= 0.0 {
            drifted > 0
        } else {
            share >= drift.dataset_share
        };
        DriftReport {
            reference: reference.info(),
            current: current.info(),
            reference_label: reference.describe(),
            current_label: current.describe(),
            columns,
            alpha: drift.alpha,
            drifted_share: share,
            dataset_share: drift.dataset_share,
            dataset_drifted,
            expect_drift: drift.expect == Expect::Drift,
        }
    }

    /// The comparison of one column (`P(positive) of NAME@V` for predictions).
    pub fn column(&self, name: &str) -> Option<&ColumnDrift> {
        self.columns.iter().find(|c| c.column == name)
    }

    /// Whether the check passes: no data-set drift, or drift when expected.
    pub fn passed(&self) -> bool {
        self.dataset_drifted == self.expect_drift
    }

    /// `2 of 6 columns drifted (33%; the data set drifts at ≥ 50%)`.
    pub fn headline(&self) -> String {
        let drifted = self.columns.iter().filter(|c| c.drifted).count();
        let rule = if self.dataset_share <= 0.0 {
            "the data set drifts when any column does".to_string()
        } else {
            format!(
                "the data set drifts at ≥ {:.0}%",
                100.0 * self.dataset_share
            )
        };
        format!(
            "{drifted} of {} columns drifted ({:.0}%; {rule})",
            self.columns.len(),
            100.0 * self.drifted_share
        )
    }

    /// The per-column table and warnings, as printed in failures and records.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!("  reference: {}\n", self.reference_label));
        s.push_str(&format!("  current:   {}\n", self.current_label));
        s.push_str(&format!("  verdict:   {}\n", self.headline()));
        s.push_str(&format!(
            "  rule:      a column drifts when its Benjamini–Hochberg adjusted p < {} and its effect ≥ the minimum effect\n",
            fig(self.alpha)
        ));
        for c in &self.columns {
            let mark = if c.drifted { "DRIFT" } else { "ok   " };
            s.push_str(&format!("  {mark} {} ({})\n", c.column, c.kind));
            s.push_str(&format!(
                "        {} {} = {}, p = {} ({}), adjusted p = {}\n",
                c.test,
                if c.test == "KS" { "D" } else { "statistic" },
                fig(c.statistic),
                sci(c.p_value),
                c.test_detail,
                sci(c.p_adjusted)
            ));
            s.push_str(&format!(
                "        {} = {} (95% interval {}–{}), minimum effect {}; PSI {}\n",
                c.effect_name,
                fig(c.effect),
                fig(c.effect_low),
                fig(c.effect_high),
                fig(c.min_effect),
                fig(c.psi)
            ));
            for (k, v) in &c.extra {
                if k == "oov_rate" || k == "oov_rise" || k == "wasserstein" {
                    s.push_str(&format!("        {k} = {}\n", fig(*v)));
                }
            }
            s.push_str(&format!(
                "        reference: {} ({} rows, {} missing)\n",
                c.reference_summary,
                crate::text::thousands(c.reference_rows),
                crate::text::thousands(c.reference_nulls)
            ));
            s.push_str(&format!(
                "        current:   {} ({} rows, {} missing)\n",
                c.current_summary,
                crate::text::thousands(c.current_rows),
                crate::text::thousands(c.current_nulls)
            ));
            s.push_str(&format!("        → {}\n", c.why));
            match c.power {
                Power::Under => s.push_str(&format!(
                    "        warning: under-powered: with these row counts only effects ≥ {} are significant, \
                     above the minimum effect {}; a drift that matters may go unseen\n",
                    fig(c.smallest_significant_effect),
                    fig(c.min_effect)
                )),
                Power::Over => s.push_str(&format!(
                    "        note: so many rows that effects of {} are significant (a quarter of the minimum effect is {}); \
                     the verdict rests on the effect size\n",
                    fig(c.smallest_significant_effect),
                    fig(c.min_effect / 4.0)
                )),
                Power::Adequate => {}
            }
        }
        s
    }
}

/// A p-value as people read it: 4 decimals, or scientific when tiny.
fn sci(p: f64) -> String {
    if p.is_nan() {
        "NaN".into()
    } else if p != 0.0 && p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}
