//! The HTML page: a summary by kind, then every check with its reason,
//! figures, plot and report text, then the model store. One file, inline CSS
//! and SVG, no script and no network.

use std::fmt::Write;

use serde_json::Value;

use super::svg;
use crate::record::{Record, Verdict};
use crate::store::VersionInfo;
use crate::text::fig;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
h1{font-size:1.5em;margin:.4em 0}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 10px;border-bottom:1px solid #e5e5e5;text-align:left;font-size:.92em}
.check{background:#fff;border:1px solid #ddd;border-radius:6px;margin:10px 0;padding:8px 14px}
.check summary{cursor:pointer;font-weight:600}
.badge{display:inline-block;border-radius:4px;padding:1px 7px;font-size:.8em;color:#fff;margin-right:6px}
.pass{background:#55a868}.fail{background:#c44e52}.warn{background:#dd8452}.error{background:#8172b3}
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
    }
}

/// Counts per kind: (kind, pass, fail, warn, error).
pub fn counts(records: &[Record]) -> Vec<(String, usize, usize, usize, usize)> {
    let mut kinds: Vec<String> = records.iter().map(|r| r.kind.clone()).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|k| {
            let of = |v: Verdict| {
                records
                    .iter()
                    .filter(|r| r.kind == k && r.verdict == v)
                    .count()
            };
            let row = (
                of(Verdict::Pass),
                of(Verdict::Fail),
                of(Verdict::Warn),
                of(Verdict::Error),
            );
            (k, row.0, row.1, row.2, row.3)
        })
        .collect()
}

/// The whole page.
pub fn page(records: &[Record], store: Option<&[VersionInfo]>, generated: &str) -> String {
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
    s.push_str("<h2 id=\"summary\">Summary</h2><table><tr><th>kind</th><th>passed</th><th>failed</th><th>warned</th><th>errors</th></tr>");
    for (k, p, f, w, e) in counts(records) {
        let _ = write!(
            s,
            "<tr><td><a href=\"#kind-{k}\">{}</a></td><td>{p}</td><td>{f}</td><td>{w}</td><td>{e}</td></tr>",
            escape(&k)
        );
    }
    s.push_str("</table>");
    // Sections follow the data's way through the system: data → drift →
    // robustness → A/B, then anything else.
    let mut kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
    let rank = |k: &str| {
        ["data_expectation", "drift", "robustness", "slices", "ab"]
            .iter()
            .position(|x| *x == k)
            .unwrap_or(99)
    };
    kinds.sort_by_key(|k| (rank(k), k.to_string()));
    kinds.dedup();
    for kind in kinds {
        let _ = write!(s, "<h2 id=\"kind-{kind}\">{}</h2>", escape(&title(kind)));
        let mut of_kind: Vec<&Record> = records.iter().filter(|r| r.kind == kind).collect();
        // Failures first, then by binary and test.
        of_kind.sort_by_key(|r| {
            (
                r.verdict == Verdict::Pass,
                r.binary.clone(),
                r.test.clone(),
                r.check_index,
            )
        });
        for r in of_kind {
            check(&mut s, r);
        }
    }
    if let Some(versions) = store {
        models(&mut s, versions);
    }
    s.push_str("</main></body></html>\n");
    s
}

fn title(kind: &str) -> String {
    match kind {
        "data_expectation" => "Data expectations".into(),
        "robustness" => "Robustness".into(),
        "drift" => "Drift".into(),
        "ab" => "A/B comparisons".into(),
        other => other.to_string(),
    }
}

fn check(s: &mut String, r: &Record) {
    // Open, so plots show on screen and in print; the summary links jump here.
    let open = " open";
    let _ = write!(
        s,
        "<details class=\"check\" data-kind=\"{}\"{open}><summary>{}{} <span class=\"muted\">{} · {}</span></summary>",
        escape(&r.kind),
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
        escape(&r.threshold)
    );
    if let Some(e) = r.outcome.as_ref().and_then(|o| o.estimate.as_ref()) {
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
    s.push_str("</div>");
    if r.kind == "robustness" {
        flips(s, r);
    }
    let _ = write!(s, "<pre>{}</pre></details>", escape(&r.report));
}

/// The numbers in a threshold like `<= 0.0500` or `in [40, 46]`.
fn threshold_values(t: &str) -> Vec<f64> {
    t.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
        .filter_map(|w| w.parse::<f64>().ok())
        .collect()
}

fn threshold_value(t: &str) -> Option<f64> {
    threshold_values(t).pop()
}

fn limits(t: &str) -> Vec<(f64, String)> {
    threshold_values(t)
        .into_iter()
        .map(|v| (v, format!("threshold {}", fig(v))))
        .collect()
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn plots(s: &mut String, r: &Record) {
    match r.kind.as_str() {
        "data_expectation" => {
            let Some(o) = &r.outcome else { return };
            if !o.segments.is_empty() {
                let segs: Vec<(String, f64, bool)> = o
                    .segments
                    .iter()
                    .map(|f| (f.segment.clone(), f.observed, f.passed))
                    .collect();
                s.push_str(&svg::segment_bars(
                    &format!("{} per segment", r.metric.replace('_', " ")),
                    &segs,
                    threshold_value(&r.threshold),
                ));
            } else if let Some(obs) = r.observed {
                s.push_str(&svg::interval(
                    &r.metric.replace('_', " "),
                    obs,
                    obs,
                    obs,
                    &limits(&r.threshold),
                    r.verdict == Verdict::Pass,
                ));
            }
        }
        "robustness" => {
            let Some(d) = &r.details else { return };
            if let (Some(obs), Some(lo), Some(hi), Some(t)) = (
                r.observed,
                num(d, "interval_low"),
                num(d, "interval_high"),
                threshold_value(&r.threshold),
            ) {
                s.push_str(&svg::interval(
                    "flip rate with its 95% Wilson interval",
                    obs,
                    lo,
                    hi,
                    &[(t, format!("max {}", fig(t)))],
                    r.verdict == Verdict::Pass,
                ));
            }
        }
        "ab" => {
            let Some(d) = &r.details else { return };
            if let (Some(obs), Some(lo), Some(hi)) = (
                r.observed,
                num(d, "difference_low"),
                num(d, "difference_high"),
            ) {
                s.push_str(&svg::interval(
                    "accuracy difference B − A with its 95% interval",
                    obs,
                    lo,
                    hi,
                    &[(0.0, "no difference".into())],
                    r.verdict == Verdict::Pass,
                ));
            }
        }
        "drift" => {
            let Some(cols) = r
                .details
                .as_ref()
                .and_then(|d| d.get("report"))
                .and_then(|rep| rep.get("columns"))
                .and_then(Value::as_array)
            else {
                return;
            };
            for c in cols {
                let labels: Vec<String> = c
                    .get("bins")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let series = |k: &str| -> Vec<f64> {
                    c.get(k)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_f64).collect())
                        .unwrap_or_default()
                };
                let name = c.get("column").and_then(Value::as_str).unwrap_or("?");
                let drifted = c.get("drifted").and_then(Value::as_bool).unwrap_or(false);
                s.push_str(&svg::paired_bars(
                    &format!("{name}{}", if drifted { " (drift)" } else { "" }),
                    &labels,
                    &series("reference_shares"),
                    &series("current_shares"),
                    ("reference", "current"),
                ));
            }
        }
        _ => {}
    }
}

/// The shrunk flips as before/after diffs of each changed cell.
fn flips(s: &mut String, r: &Record) {
    let Some(examples) = r
        .details
        .as_ref()
        .and_then(|d| d.get("examples"))
        .and_then(Value::as_array)
    else {
        return;
    };
    if examples.is_empty() {
        return;
    }
    s.push_str("<table><tr><th>row</th><th>change (shrunk)</th><th>P before → after</th></tr>");
    for e in examples {
        let row = e.get("row").and_then(Value::as_u64).unwrap_or(0);
        let mut cells = String::new();
        for ch in e
            .get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let part = |i: usize| ch.get(i).and_then(Value::as_str).unwrap_or("");
            let _ = write!(
                cells,
                "<b>{}</b>: {}<br>",
                escape(part(0)),
                diff(part(1), part(2))
            );
        }
        let _ = write!(
            s,
            "<tr><td>{row}</td><td>{cells}</td><td>{} → {}</td></tr>",
            num(e, "p_before").map_or("?".into(), fig),
            num(e, "p_after").map_or("?".into(), fig)
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
        assert_eq!(threshold_value("<= 0.0500"), Some(0.05));
        assert_eq!(threshold_value("< 0.5"), Some(0.5));
        assert_eq!(threshold_value("treatment better"), None);
        assert_eq!(threshold_values("in [40, 46]"), vec![40.0, 46.0]);
    }
}
