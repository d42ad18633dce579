//! The HTML page: a summary by kind, then every check with its reason,
//! figures, plot and report text, then the model store. One file, inline CSS
//! and SVG, no script and no network.

use std::collections::HashMap;
use std::fmt::Write;

use super::svg::{self, TrendPoint, escape};
use crate::record::{CheckKind, Details, Record, Threshold, Verdict};
use crate::robust::FlipExample;
use crate::store::VersionInfo;
use crate::text::fig;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
h1{font-size:1.5em;margin:.4em 0}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 10px;border-bottom:1px solid #e5e5e5;text-align:left;font-size:.92em}
.check{background:#fff;border:1px solid #ddd;border-radius:6px;margin:10px 0;padding:8px 14px}
.check summary{cursor:pointer;font-weight:600}
.badge{display:inline-block;border-radius:4px;padding:1px 7px;font-size:.8em;color:#fff;margin-right:6px}
.pass{background:#55a868}.fail{background:#c44e52}.warn{background:#dd8452}.error{background:#8172b3}.inconclusive{background:#8c8c8c}
.reason{color:#444;font-style:italic;margin:.3em 0}
pre{background:#f4f4f4;padding:8px;overflow-x:auto;font-size:.82em;white-space:pre-wrap}
.plots{display:flex;flex-wrap:wrap;gap:10px}.plot{background:#fff}
del{background:#fdd;text-decoration:none}ins{background:#dfd;text-decoration:none}
.muted{color:#777;font-size:.85em}
";

fn badge(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => r#"<span class="badge pass">pass</span>"#,
        Verdict::Fail => r#"<span class="badge fail">fail</span>"#,
        Verdict::Warn => r#"<span class="badge warn">warn</span>"#,
        Verdict::Error => r#"<span class="badge error">error</span>"#,
        Verdict::Inconclusive => r#"<span class="badge inconclusive">inconclusive</span>"#,
    }
}

/// One kind's checks by verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindCounts {
    pub kind: CheckKind,
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub error: usize,
    pub inconclusive: usize,
}

/// Counts per kind, kinds by name.
pub fn counts(records: &[Record]) -> Vec<KindCounts> {
    let mut kinds: Vec<CheckKind> = records.iter().map(|r| r.kind).collect();
    kinds.sort_by_key(|k| k.as_str());
    kinds.dedup();
    kinds
        .into_iter()
        .map(|kind| {
            let of = |v: Verdict| {
                records
                    .iter()
                    .filter(|r| r.kind == kind && r.verdict == v)
                    .count()
            };
            KindCounts {
                kind,
                pass: of(Verdict::Pass),
                fail: of(Verdict::Fail),
                warn: of(Verdict::Warn),
                error: of(Verdict::Error),
                inconclusive: of(Verdict::Inconclusive),
            }
        })
        .collect()
}

/// The whole page.
/// The page for `records`, the store's versions and, per check key (see
/// [`crate::history::CheckKey`]), its figures over the last runs.
pub fn page(
    records: &[Record],
    store: Option<&[VersionInfo]>,
    generated: &str,
    trends: &HashMap<String, Vec<TrendPoint>>,
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>mltest report</title><style>{STYLE}</style></head><body><main>"
    );
    let failed = records
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .count();
    let _ = write!(
        s,
        "<h1>mltest report</h1><p class=\"muted\">generated {} · {} checks · {}</p>",
        escape(generated),
        records.len(),
        if failed == 0 {
            "all passed".to_string()
        } else {
            format!("{failed} failed")
        }
    );
    s.push_str("<h2 id=\"summary\">Summary</h2><table><tr><th>kind</th><th>passed</th><th>failed</th><th>warned</th><th>errors</th><th>inconclusive</th></tr>");
    for c in counts(records) {
        let _ = write!(
            s,
            "<tr><td><a href=\"#kind-{k}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(c.kind.as_str()),
            c.pass,
            c.fail,
            c.warn,
            c.error,
            c.inconclusive,
            k = c.kind
        );
    }
    s.push_str("</table>");
    // Sections follow the data's way through the system: data → drift →
    // robustness → slices → A/B (the order of `CheckKind`).
    let mut kinds: Vec<CheckKind> = records.iter().map(|r| r.kind).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let _ = write!(s, "<h2 id=\"kind-{kind}\">{}</h2>", escape(kind.title()));
        let mut of_kind: Vec<&Record> = records.iter().filter(|r| r.kind == kind).collect();
        // Failures and errors first, then undecided, then warnings, then
        // passes; within each by binary and test.
        of_kind.sort_by_key(|r| {
            (
                attention(r.verdict),
                r.binary.clone(),
                r.test.clone(),
                r.check_index,
            )
        });
        for r in of_kind {
            let key = crate::history::CheckKey::of(r).to_string();
            check(&mut s, r, trends.get(&key).map(Vec::as_slice));
        }
    }
    if let Some(versions) = store {
        models(&mut s, versions);
    }
    s.push_str("</main></body></html>\n");
    s
}

/// Where a verdict sorts: what needs a person first.
fn attention(v: Verdict) -> u8 {
    match v {
        Verdict::Fail | Verdict::Error => 0,
        Verdict::Inconclusive => 1,
        Verdict::Warn => 2,
        Verdict::Pass => 3,
    }
}

fn check(s: &mut String, r: &Record, trend: Option<&[TrendPoint]>) {
    // What did not pass is open; passing checks are collapsed to their
    // summary line (a run of 45 passing checks was a long scroll before the
    // one that failed).
    let open = if r.verdict == Verdict::Pass {
        ""
    } else {
        " open"
    };
    let _ = write!(
        s,
        "<details class=\"check\" data-kind=\"{}\"{open}><summary>{}{} <span class=\"muted\">{} · {}</span></summary>",
        r.kind,
        badge(r.verdict),
        escape(r.test.rsplit("::").next().unwrap_or(&r.test)),
        escape(&r.binary),
        escape(&r.check)
    );
    let _ = write!(s, "<p class=\"reason\">{}</p>", escape(&r.reason));
    let _ = write!(
        s,
        "<table><tr><td>check</td><td>{}</td></tr><tr><td>observed</td><td>{}</td></tr><tr><td>threshold</td><td>{}</td></tr>",
        escape(&r.description),
        r.observed.map_or("—".into(), fig),
        escape(&r.threshold.describe())
    );
    if let Some(e) = r.outcome().and_then(|o| o.estimate.as_ref()) {
        let _ = write!(
            s,
            "<tr><td>estimate</td><td>{}</td></tr>",
            escape(&e.describe())
        );
    }
    if let Some(d) = &r.data {
        let _ = write!(s, "<tr><td>data</td><td>{}</td></tr>", escape(&d.short()));
    }
    if let Some(m) = &r.model {
        let _ = write!(s, "<tr><td>model</td><td>{}</td></tr>", escape(m));
    }
    if let Some(seed) = r.seed {
        let _ = write!(s, "<tr><td>seed</td><td>{seed}</td></tr>");
    }
    s.push_str("</table><div class=\"plots\">");
    plots(s, r);
    if let Some(points) = trend {
        s.push_str(&svg::trend(
            &format!(
                "{} over the last {} runs (dashed: bound)",
                r.metric().replace('_', " "),
                points.len()
            ),
            points,
        ));
    }
    s.push_str("</div>");
    if let Details::Robustness(Some(d)) = &r.details {
        flips(s, &d.flips.examples, &d.flips.score);
    }
    let _ = write!(s, "<pre>{}</pre></details>", escape(&r.report));
}

/// The threshold's numbers as the plots label them.
fn limits(t: &Threshold) -> Vec<(f64, String)> {
    t.limits()
        .into_iter()
        .map(|v| (v, format!("threshold {}", fig(v))))
        .collect()
}

fn plots(s: &mut String, r: &Record) {
    let passed = r.verdict == Verdict::Pass;
    let metric = r.metric().replace('_', " ");
    match &r.details {
        Details::DataExpectation(o) => {
            if !o.segments.is_empty() {
                let segs: Vec<(String, f64, bool)> = o
                    .segments
                    .iter()
                    .map(|f| (f.segment.clone(), f.observed, f.passed))
                    .collect();
                s.push_str(&svg::segment_bars(
                    &format!("{metric} per segment"),
                    &segs,
                    r.threshold.limits().last().copied(),
                ));
            } else if let Some(obs) = r.observed {
                s.push_str(&svg::interval(
                    &metric,
                    obs,
                    obs,
                    obs,
                    &limits(&r.threshold),
                    passed,
                ));
            }
        }
        Details::Robustness(Some(d)) => {
            if let (Some(obs), Some(&t)) = (r.observed, r.threshold.limits().last()) {
                // The interval the verdict read (at the stated confidence, or
                // the confidence sequence of adaptive rounds), else Wilson 95%.
                let (lo, hi, label) = match &d.decision {
                    Some(dec) if dec.confidence.is_some() => (
                        dec.interval.0,
                        dec.interval.1,
                        format!(
                            "{} with its {}% interval",
                            d.flips.measure,
                            fig(dec.confidence.unwrap_or(0.95) * 100.0)
                        ),
                    ),
                    _ => (
                        d.flips.interval.0,
                        d.flips.interval.1,
                        format!("{} with its 95% Wilson interval", d.flips.measure),
                    ),
                };
                s.push_str(&svg::interval(
                    &label,
                    obs,
                    lo,
                    hi,
                    &[(t, format!("max {}", fig(t)))],
                    passed,
                ));
            }
        }
        Details::Ab(Some(c)) => {
            if let Some(obs) = r.observed {
                s.push_str(&svg::interval(
                    "accuracy difference B − A with its 95% interval",
                    obs,
                    c.difference_low,
                    c.difference_high,
                    &[(0.0, "no difference".into())],
                    passed,
                ));
            }
        }
        Details::Performance(e) => {
            let min = match &r.threshold {
                crate::record::Threshold::Bound(crate::expect::Bound::AtLeast { min }) => *min,
                _ => e.reference_accuracy,
            };
            s.push_str(&svg::interval(
                &format!(
                    "estimated accuracy (CBPE) with its {}% interval",
                    fig(e.confidence * 100.0)
                ),
                e.accuracy,
                e.accuracy_low,
                e.accuracy_high,
                &[
                    (min, format!("min {}", fig(min))),
                    (e.reference_accuracy, "reference".into()),
                ],
                passed,
            ));
        }
        Details::AbErrors(Some(c)) => {
            s.push_str(&svg::interval(
                "mean error difference B − A with its interval",
                c.test.mean_difference,
                c.test.interval.0,
                c.test.interval.1,
                &[(0.0, "no difference".into())],
                passed,
            ));
        }
        Details::Drift(Some(report)) => {
            for c in &report.columns {
                s.push_str(&svg::paired_bars(
                    &format!("{}{}", c.column, if c.drifted { " (drift)" } else { "" }),
                    &c.bins,
                    &c.reference_shares,
                    &c.current_shares,
                    ("reference", "current"),
                ));
            }
        }
        _ => {}
    }
}

/// The shrunk flips as before/after diffs of each changed cell.
/// The shrunk examples; `score` names what before → after is (P(positive),
/// P(class), the prediction), and a multiclass example shows its classes.
fn flips(s: &mut String, examples: &[FlipExample], score: &str) {
    if examples.is_empty() {
        return;
    }
    let _ = write!(
        s,
        "<table><tr><th>row</th><th>change (shrunk)</th><th>{} before → after</th></tr>",
        escape(score)
    );
    for e in examples {
        let mut cells = String::new();
        for crate::robust::CellChange {
            column,
            before,
            after,
        } in &e.changes
        {
            let _ = write!(
                cells,
                "<b>{}</b>: {}<br>",
                escape(column),
                diff(before, after)
            );
        }
        let classes = match (&e.class_before, &e.class_after) {
            (Some(b), Some(a)) => format!(" (class {} → {})", escape(b), escape(a)),
            _ => String::new(),
        };
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{cells}</td><td>{} → {}{classes}</td></tr>",
            e.row,
            fig(e.p_before),
            fig(e.p_after)
        );
    }
    s.push_str("</table>");
}

/// `before` and `after` with the differing middle marked: common prefix and
/// suffix plain, the removed part `<del>`, the inserted part `<ins>`.
pub fn diff(before: &str, after: &str) -> String {
    let (b, a): (Vec<char>, Vec<char>) = (before.chars().collect(), after.chars().collect());
    let prefix = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = b[prefix..]
        .iter()
        .rev()
        .zip(a[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let s = |v: &[char]| escape(&v.iter().collect::<String>());
    // Long texts: keep 40 characters of context on each side.
    let start = prefix.saturating_sub(40);
    let (bend, aend) = (b.len() - suffix, a.len() - suffix);
    format!(
        "{}{}<del>{}</del><ins>{}</ins>{}{}",
        if start > 0 { "…" } else { "" },
        s(&b[start..prefix]),
        s(&b[prefix..bend]),
        s(&a[prefix..aend]),
        s(&b[bend..(bend + 40).min(b.len())]),
        if bend + 40 < b.len() { "…" } else { "" }
    )
}

fn models(s: &mut String, versions: &[VersionInfo]) {
    s.push_str("<h2 id=\"models\">Model store</h2><table><tr><th>model</th><th>aliases</th><th>created</th><th>metrics</th><th>sha256</th></tr>");
    for v in versions {
        let metrics: Vec<String> = v
            .metrics
            .iter()
            .map(|(k, x)| format!("{k} {}", fig(*x)))
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}@{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&v.name),
            v.version,
            escape(&v.aliases.join(", ")),
            escape(&v.created_at),
            escape(&metrics.join(", ")),
            escape(&v.sha256.chars().take(12).collect::<String>())
        );
    }
    s.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_only_the_change() {
        assert_eq!(
            diff("great dress", "graet dress"),
            "gr<del>ea</del><ins>ae</ins>t dress"
        );
        assert_eq!(diff("a<b", "a<c"), "a&lt;<del>b</del><ins>c</ins>");
    }

    #[test]
    fn threshold_numbers_are_read() {
        use crate::expect::Bound;
        let last = |t: Threshold| t.limits().last().copied();
        assert_eq!(
            last(Threshold::Bound(Bound::AtMost { max: 0.05 })),
            Some(0.05)
        );
        let share = Threshold::DriftedShare {
            share: 0.5,
            expect_drift: false,
        };
        assert_eq!(last(share), Some(0.5));
        let better = Threshold::Requirement(crate::ab::Require::Better);
        assert_eq!(last(better), None);
        let between = Threshold::Bound(Bound::Between {
            min: 40.0,
            max: 46.0,
        });
        assert_eq!(between.limits(), vec![40.0, 46.0]);
    }
}
