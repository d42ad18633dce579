//! Inline SVG plots, written directly: grouped bars (reference vs current,
//! or a value per segment against a threshold) and interval plots (a point,
//! its interval and a limit). Text is `<text>`, so no font files are needed
//! and the report stays self-contained and readable without JavaScript.
//! (plotters' SVG backend needs a font backend to measure labels, which would
//! mean shipping font files; these three chart shapes do not need it.)

use std::fmt::Write;

const REF: &str = "#4c72b0";
const CUR: &str = "#dd8452";
const BAD: &str = "#c44e52";
const OK: &str = "#55a868";

/// Bars of two series over shared categories (reference vs current).
///
/// ```
/// let svg = mltest_core::report::svg::paired_bars(
///     "Department Name", &["Tops".into(), "Dresses".into()], &[0.6, 0.4], &[0.5, 0.5], ("reference", "current"));
/// assert!(svg.starts_with("<svg") && svg.contains("Dresses"));
/// ```
pub fn paired_bars(
    title: &str,
    labels: &[String],
    a: &[f64],
    b: &[f64],
    names: (&str, &str),
) -> String {
    let n = labels.len().max(1);
    let (left, top, bottom) = (48.0, 28.0, 70.0);
    let group = (560.0 / n as f64).clamp(14.0, 60.0);
    let width = left + group * n as f64 + 20.0;
    let height = 220.0;
    let plot_h = height - top - bottom;
    let max = a
        .iter()
        .chain(b)
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let mut s = header(width, height, title);
    axis(&mut s, left, top, plot_h, max, width - 20.0);
    for (i, label) in labels.iter().enumerate() {
        let x0 = left + group * i as f64 + group * 0.1;
        let w = group * 0.4;
        for (j, (v, colour)) in [(a.get(i), REF), (b.get(i), CUR)].into_iter().enumerate() {
            let v = v.copied().unwrap_or(0.0).max(0.0);
            let h = plot_h * v / max;
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" fill="{colour}"><title>{}: {:.4}</title></rect>"#,
                x0 + w * j as f64,
                top + plot_h - h,
                escape(label),
                v
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" transform="rotate(-40 {:.1} {:.1})">{}</text>"#,
            x0 + w,
            top + plot_h + 12.0,
            x0 + w,
            top + plot_h + 12.0,
            escape(&truncate(label, 14))
        );
    }
    legend(
        &mut s,
        width - 190.0,
        14.0,
        &[(names.0, REF), (names.1, CUR)],
    );
    s.push_str("</svg>");
    s
}

/// One bar per segment, red where the segment fails, with the threshold as
/// a dashed line.
pub fn segment_bars(
    title: &str,
    segments: &[(String, f64, bool)],
    threshold: Option<f64>,
) -> String {
    let n = segments.len().max(1);
    let (left, top, bottom) = (48.0, 28.0, 70.0);
    let group = (560.0 / n as f64).clamp(14.0, 60.0);
    let width = left + group * n as f64 + 20.0;
    let height = 220.0;
    let plot_h = height - top - bottom;
    let max = segments
        .iter()
        .map(|s| s.1)
        .chain(threshold)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let mut s = header(width, height, title);
    axis(&mut s, left, top, plot_h, max, width - 20.0);
    for (i, (label, v, passed)) in segments.iter().enumerate() {
        let x0 = left + group * i as f64 + group * 0.15;
        let w = group * 0.7;
        let h = plot_h * v.max(0.0) / max;
        let _ = write!(
            s,
            r#"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" fill="{}"><title>{}: {:.4}</title></rect>"#,
            top + plot_h - h,
            if *passed { REF } else { BAD },
            escape(label),
            v
        );
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" transform="rotate(-40 {:.1} {:.1})">{}</text>"#,
            x0 + w / 2.0,
            top + plot_h + 12.0,
            x0 + w / 2.0,
            top + plot_h + 12.0,
            escape(&truncate(label, 14))
        );
    }
    if let Some(t) = threshold {
        let y = top + plot_h - plot_h * t / max;
        let _ = write!(
            s,
            r#"<line x1="{left}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{BAD}" stroke-dasharray="5,3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="{BAD}" text-anchor="end">threshold {}</text>"#,
            width - 20.0,
            width - 22.0,
            y - 3.0,
            crate::text::fig(t)
        );
    }
    s.push_str("</svg>");
    s
}

/// A point estimate with its interval on a horizontal axis, and the limits
/// it is judged against (a maximum flip rate, both ends of a range, zero for
/// an A/B difference). Green when the check passed, red when it failed.
///
/// ```
/// let svg = mltest_core::report::svg::interval(
///     "flip rate", 0.039, 0.028, 0.053, &[(0.05, "max 0.05".into())], true);
/// assert!(svg.contains("<line") && svg.contains("max 0.05"));
/// ```
pub fn interval(
    title: &str,
    estimate: f64,
    low: f64,
    high: f64,
    limits: &[(f64, String)],
    good: bool,
) -> String {
    let (width, height) = (520.0, 90.0);
    let (left, right) = (20.0, width - 20.0);
    let finite = |v: &f64| v.is_finite();
    let values: Vec<f64> = [estimate, low, high]
        .into_iter()
        .chain(limits.iter().map(|l| l.0))
        .filter(finite)
        .collect();
    let mut lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo).abs() * 0.15).max(1e-6);
    lo -= pad;
    hi += pad;
    let x = |v: f64| left + (right - left) * (v - lo) / (hi - lo);
    let y = 50.0;
    let colour = if good { OK } else { BAD };
    let mut s = header(width, height, title);
    let _ = write!(
        s,
        r##"<line x1="{left}" x2="{right}" y1="{:.1}" y2="{:.1}" stroke="#999"/>"##,
        y + 18.0,
        y + 18.0
    );
    let ends = if (hi - lo - 2.0 * pad).abs() < 1e-12 {
        vec![lo + pad]
    } else {
        vec![lo + pad, hi - pad]
    };
    for v in ends {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
            x(v),
            y + 32.0,
            crate::text::fig(v)
        );
    }
    for (limit, label) in limits.iter().filter(|l| l.0.is_finite()) {
        let _ = write!(
            s,
            r#"<line x1="{:.1}" x2="{:.1}" y1="38" y2="{:.1}" stroke="{BAD}" stroke-dasharray="5,3"/><text x="{:.1}" y="34" font-size="10" fill="{BAD}" text-anchor="middle">{}</text>"#,
            x(*limit),
            x(*limit),
            y + 18.0,
            x(*limit),
            escape(label)
        );
    }
    if low.is_finite() && high.is_finite() && high > low {
        let _ = write!(
            s,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="3"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"/>"#,
            x(low),
            x(high),
            x(low),
            x(low),
            y - 6.0,
            y + 6.0,
            x(high),
            x(high),
            y - 6.0,
            y + 6.0
        );
    }
    if estimate.is_finite() {
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{y}" r="5" fill="{colour}"><title>{:.4} ({:.4}–{:.4})</title></circle>"#,
            x(estimate),
            estimate,
            low,
            high
        );
    }
    s.push_str("</svg>");
    s
}

fn header(width: f64, height: f64, title: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif"><title>{t}</title><text x="8" y="16" font-size="12" font-weight="bold">{t}</text>"#,
        t = escape(title)
    )
}

fn axis(s: &mut String, left: f64, top: f64, plot_h: f64, max: f64, right: f64) {
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let y = top + plot_h - plot_h * k as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{right:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" font-size="9" text-anchor="end">{}</text>"##,
            left - 4.0,
            y + 3.0,
            short(v)
        );
    }
}

fn legend(s: &mut String, x: f64, y: f64, items: &[(&str, &str)]) {
    for (i, (name, colour)) in items.iter().enumerate() {
        let xi = x + 95.0 * i as f64;
        let _ = write!(
            s,
            r#"<rect x="{xi:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="10">{}</text>"#,
            y - 9.0,
            xi + 13.0,
            y,
            escape(&truncate(name, 14))
        );
    }
}

fn short(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

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

/// One run in a trend: the observed figure (`None` when the run errored),
/// the bound's limits that run was judged against, and whether it passed.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendPoint {
    pub observed: Option<f64>,
    pub limits: Vec<f64>,
    pub passed: bool,
}

/// A small trend of a check's observed figure over its last runs (oldest
/// left), the bound of each run dashed, failed runs as red dots.
///
/// ```
/// use mltest_core::report::svg::{trend, TrendPoint};
/// let p = |v: f64, ok: bool| TrendPoint { observed: Some(v), limits: vec![0.05], passed: ok };
/// let svg = trend("flip rate, last 3 runs", &[p(0.02, true), p(0.03, true), p(0.07, false)]);
/// assert!(svg.contains("<polyline") && svg.contains("stroke-dasharray") && svg.contains("0.07"));
/// ```
pub fn trend(title: &str, points: &[TrendPoint]) -> String {
    let (width, height) = (520.0, 110.0);
    let (left, right, top, bottom) = (56.0, width - 16.0, 26.0, height - 16.0);
    let values: Vec<f64> = points
        .iter()
        .flat_map(|p| p.observed.into_iter().chain(p.limits.iter().copied()))
        .filter(|v| v.is_finite())
        .collect();
    let mut lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo).abs() * 0.1).max(hi.abs().max(1e-9) * 1e-3);
    lo -= pad;
    hi += pad;
    let n = points.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + (right - left) * i as f64 / n;
    let y = |v: f64| bottom - (bottom - top) * (v - lo) / (hi - lo);
    let mut s = header(width, height, title);
    for v in [lo + pad, hi - pad] {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"#,
            left - 4.0,
            y(v) + 3.0,
            crate::text::fig(v)
        );
    }
    // One dashed line per limit position (a range has two), run by run.
    let most = points.iter().map(|p| p.limits.len()).max().unwrap_or(0);
    for k in 0..most {
        let line: Vec<String> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.limits.get(k).filter(|v| v.is_finite()).map(|v| (i, *v)))
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(v)))
            .collect();
        if !line.is_empty() {
            let _ = write!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{BAD}" stroke-dasharray="5,3"/>"#,
                line.join(" ")
            );
        }
    }
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.observed.filter(|v| v.is_finite()).map(|v| (i, v)))
        .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(v)))
        .collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#4c72b0" stroke-width="1.5"/>"##,
        line.join(" ")
    );
    for (i, p) in points.iter().enumerate() {
        if let Some(v) = p.observed.filter(|v| v.is_finite()) {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"><title>{}</title></circle>"#,
                x(i),
                y(v),
                if p.passed { OK } else { BAD },
                crate::text::fig(v)
            );
        }
    }
    s.push_str("</svg>");
    s
}
