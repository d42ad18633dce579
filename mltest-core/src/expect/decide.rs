//! Decisions: a check's figures against its bound. Engine-agnostic by
//! construction: this stage reads [`FigureSet`]s and never a query result,
//! so the in-memory, streaming and cached paths (and any later engine)
//! decide alike.

use super::estimate::Estimate;
use super::figures::{FigureSet, Figures, Group, Key};
use super::outcome::{CheckError, CheckOutcome, Count, SegmentFigure, Status};
use super::{DuplicateCount, Expectation, Metric, Segment};
use crate::text;

/// A check decided from the figures an engine (or the metric cache) measured.
pub(crate) fn figures(e: &Expectation, figures: &Figures) -> CheckOutcome {
    match (figures, &e.segment) {
        (Figures::Flat(f), _) => flat(e, f),
        (Figures::Groups(g), Segment::EachOf { column, .. }) => groups(e, column, g),
        (Figures::Groups(_), _) => CheckOutcome::errored(
            e.clone(),
            CheckError::Invalid("per-group figures for a check without groups".into()),
        ),
    }
}

/// A check over all rows (or a filtered subset) decided from its figures.
pub(crate) fn flat(e: &Expectation, figures: &FigureSet) -> CheckOutcome {
    let segment = match &e.segment {
        Segment::Where { filter } => Some(filter.to_string()),
        _ => None,
    };
    decide(e, figures, segment)
}

/// A per-segment check decided from its groups' figures: every group with
/// at least `min_rows` rows is judged, and the outcome is the worst group's.
pub(crate) fn groups(e: &Expectation, column: &str, groups: &[Group]) -> CheckOutcome {
    let Segment::EachOf { min_rows, .. } = e.segment else {
        return CheckOutcome::errored(
            e.clone(),
            CheckError::Invalid("not a per-segment check".into()),
        );
    };
    let mut judged: Vec<(SegmentFigure, CheckOutcome)> = Vec::new();
    let mut skipped = 0;
    for g in groups {
        let rows = g.figures.count(Key::Rows);
        if (rows as usize) < min_rows {
            skipped += 1;
            continue;
        }
        let label = format!("{column} == {}", g.value);
        let o = decide(e, &g.figures, Some(label.clone()));
        let observed = o.observed.unwrap_or(f64::NAN);
        judged.push((
            SegmentFigure {
                segment: label,
                group: g.value.clone(),
                rows,
                observed,
                passed: o.passed(),
            },
            o,
        ));
    }
    if judged.is_empty() {
        let mut o = CheckOutcome::errored(
            e.clone(),
            CheckError::NoRows {
                segment: Some(format!(
                    "any group of {column:?} with at least {min_rows} rows ({skipped} smaller groups skipped)"
                )),
            },
        );
        o.skipped_segments = skipped;
        return o;
    }
    // Worst first: errors, then by distance outside the bound.
    judged.sort_by(|a, b| {
        rank(&b.1)
            .total_cmp(&rank(&a.1))
            .then(a.0.segment.cmp(&b.0.segment))
    });
    let mut worst = judged[0].1.clone();
    if judged.iter().any(|(f, _)| !f.passed) {
        worst.fail();
    }
    worst.worst_segment = Some(judged[0].0.segment.clone());
    worst.segments = judged.into_iter().map(|(f, _)| f).collect();
    worst.skipped_segments = skipped;
    worst
}

/// How bad an outcome is, for ordering groups: errors first.
fn rank(o: &CheckOutcome) -> f64 {
    match (o.status(), o.observed) {
        (Status::Error, _) | (_, None) => f64::INFINITY,
        (_, Some(x)) => o.expectation.bound.excess(x),
    }
}

/// Turns one check's (or one group's) figures into an outcome.
fn decide(e: &Expectation, f: &FigureSet, segment: Option<String>) -> CheckOutcome {
    let mut o = CheckOutcome::new(e.clone());
    let n = f.count(Key::Rows);
    let column = e.metric.column().unwrap_or_default().to_string();
    if let Metric::RowCount = e.metric {
        o.count = Some(count(n, n, "rows"));
        o.decide(n as f64);
        return o;
    }
    if n == 0 {
        return CheckOutcome::errored(e.clone(), CheckError::NoRows { segment });
    }
    let vals = f.count(Key::Values);
    let no_values = || {
        CheckOutcome::errored(
            e.clone(),
            CheckError::NoValues {
                column: column.clone(),
                segment: segment.clone(),
            },
        )
    };
    match &e.metric {
        Metric::NullFraction { .. } => {
            let hits = f.count(Key::Hits);
            o.count = Some(count(hits, n, "rows missing"));
            o.decide(hits as f64 / n as f64);
        }
        Metric::EmptyTextFraction { .. } => {
            let hits = f.count(Key::Hits);
            o.count = Some(count(hits, n, "rows missing or blank"));
            o.decide(hits as f64 / n as f64);
        }
        Metric::DuplicateRows { rule, .. } => {
            let hits = f.count(Key::Hits);
            // Rows that take part: all of them, or those with a key.
            let keyed = f.get(Key::Values).map_or(n, |v| v as u64);
            let unit = match (rule.count, keyed < n) {
                (DuplicateCount::Repeats, false) => "rows repeating an earlier row".to_string(),
                (DuplicateCount::Members, false) => "rows in a group of duplicates".to_string(),
                (DuplicateCount::Repeats, true) => format!(
                    "rows with a key repeating an earlier row; {} without any key value ignored",
                    text::thousands(n - keyed)
                ),
                (DuplicateCount::Members, true) => format!(
                    "rows with a key in a group of duplicates; {} without any key value ignored",
                    text::thousands(n - keyed)
                ),
            };
            o.count = Some(count(hits, keyed, &unit));
            if rule.fraction {
                if keyed == 0 {
                    return no_values();
                }
                o.decide(hits as f64 / keyed as f64);
            } else {
                o.decide(hits as f64);
            }
        }
        Metric::Mean { .. }
        | Metric::Std { .. }
        | Metric::Min { .. }
        | Metric::Max { .. }
        | Metric::Sum { .. }
        | Metric::Quantile { .. } => {
            if vals == 0 {
                return no_values();
            }
            let (nan, inf) = (f.count(Key::Nan), f.count(Key::Inf));
            if nan + inf > 0 {
                let mut o = CheckOutcome::errored(
                    e.clone(),
                    CheckError::NonFinite {
                        column: column.clone(),
                        metric: e.metric.kind().into(),
                        nan,
                        inf,
                    },
                );
                o.count = Some(count(nan + inf, vals, "values not finite"));
                return o;
            }
            o.count = Some(count(vals, n, "rows with a value"));
            match f.get(Key::Stat) {
                Some(x) => o.decide(x),
                None => return no_values(),
            }
            o.estimate = estimate(f);
        }
        Metric::InRangeFraction { .. }
        | Metric::InSetFraction { .. }
        | Metric::LengthInRangeFraction { .. }
        | Metric::PatternMatchFraction { .. } => {
            if vals == 0 {
                return no_values();
            }
            let inside = f.count(Key::Inside);
            let unit = match e.metric {
                Metric::InSetFraction { .. } => "values outside the set",
                Metric::PatternMatchFraction { .. } => "values not matching",
                Metric::LengthInRangeFraction { .. } => "values with a length outside the range",
                _ => "values outside the range",
            };
            o.count = Some(count(vals - inside, vals, unit));
            o.decide(inside as f64 / vals as f64);
        }
        Metric::CategoryShare { .. } => {
            if vals == 0 {
                return no_values();
            }
            let hits = f.count(Key::Hits);
            o.count = Some(count(hits, vals, "values"));
            o.decide(hits as f64 / vals as f64);
        }
        Metric::Newest { .. } => {
            if vals == 0 {
                return no_values();
            }
            let unparsed = f.count(Key::Nan);
            if unparsed > 0 {
                let mut o = CheckOutcome::errored(
                    e.clone(),
                    CheckError::Invalid(format!(
                        "{unparsed} of {vals} values of {column:?} are not ISO 8601 times \
                         (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]][Z], or a space for the T)"
                    )),
                );
                o.count = Some(count(unparsed, vals, "values not times"));
                return o;
            }
            o.count = Some(count(vals, n, "rows with a time"));
            match f.get(Key::Stat) {
                Some(x) => o.decide(x),
                None => return no_values(),
            }
        }
        Metric::UniqueFraction { .. } => {
            if vals == 0 {
                return no_values();
            }
            let distinct = f.count(Key::Distinct);
            o.count = Some(count(distinct, vals, "distinct values"));
            o.decide(distinct as f64 / vals as f64);
        }
        // Decided without figures (validate and association stages).
        Metric::RowCount
        | Metric::Schema { .. }
        | Metric::SchemaChange { .. }
        | Metric::MaxAssociation { .. } => {}
    }
    if o.worst_segment.is_none() {
        o.worst_segment = segment;
    }
    o
}

fn count(hits: u64, of: u64, unit: &str) -> Count {
    Count {
        hits,
        of,
        unit: unit.into(),
    }
}

/// The estimate a sketched figure reports (`None` for exact figures).
pub(crate) fn estimate(f: &FigureSet) -> Option<Estimate> {
    let eps = f.get(Key::RankError)?;
    Some(Estimate {
        method: format!("KLL sketch (k = {})", super::KLL_K),
        values: f.count(Key::SketchValues),
        rank_error: eps,
        confidence: 0.99,
        low: f.get(Key::StatLow)?,
        high: f.get(Key::StatHigh)?,
    })
}
