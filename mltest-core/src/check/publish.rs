//! The end of every check's test: write its records, rebuild the binary's
//! JUnit, print a line per check, and pass, warn or panic with the report.

use crate::outdir;
use crate::record::{Record, Verdict};

/// Writes a test's records, rebuilds the binary's JUnit file and appends
/// the figures to the metric history ([`crate::history`]). Problems writing
/// are reported on stderr but do not change the test's verdict: these are
/// sinks, like JUnit (a check whose *bound* needs the history errors on its
/// own when it cannot read it).
pub fn publish_records(records: &[Record]) {
    let out = outdir::out_dir();
    let result = crate::record::write_test_records(&out, records).and_then(|_| {
        let skipped = crate::libtest::ignored_in_this_run();
        crate::junit::rebuild(&out, &outdir::binary_name(), outdir::run_id(), &skipped).map(|_| ())
    });
    if let Err(e) = result {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "mltest: could not write records/JUnit under {}: {e}",
            out.display()
        );
    }
    if let Err(e) = crate::history::append_to_default(records) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "mltest: {e}");
    }
}

/// One line per check on stdout: libtest captures it (shown for failures or
/// with `--nocapture`), and nextest keeps it in its JUnit `<system-out>`, so
/// a passing check's figures are in nextest's report too.
pub fn print_summaries(records: &[Record]) {
    for r in records {
        let outcome = r.outcome();
        let cached = outcome.is_some_and(|o| o.from_cache);
        let estimate = outcome
            .and_then(|o| o.estimate.as_ref())
            .filter(|e| e.rank_error > 0.0)
            .map(|e| {
                format!(
                    " (KLL estimate: in [{}, {}] at {:.0}% confidence)",
                    crate::text::fig(e.low),
                    crate::text::fig(e.high),
                    e.confidence * 100.0
                )
            })
            .unwrap_or_default();
        println!(
            "mltest {} `{}` {}: {}: observed {}{estimate}, expected {}{}",
            r.kind,
            r.case_name(records.len()),
            r.verdict.as_str(),
            r.description,
            r.observed.map_or("no value".into(), crate::text::fig),
            r.threshold.describe(),
            if cached {
                " (figures from the metric cache)"
            } else {
                ""
            }
        );
    }
}

/// Ends a check's test: publishes `records`, prints their summaries, and
/// panics with `report` when a check failed (a failure of a `fail` check,
/// see [`Site::verdict`](super::Site::verdict)) or errored. A test whose
/// checks only warned passes and prints `report` as a warning on stderr,
/// past libtest's capture; a passing one prints it on stdout when
/// `print_on_pass` (libtest shows it with `--nocapture`; nextest keeps it
/// in its JUnit).
pub fn conclude(records: &[Record], report: &str, print_on_pass: bool) {
    publish_records(records);
    print_summaries(records);
    if records.iter().any(|r| r.verdict.fails_test()) {
        panic!("{report}");
    }
    if records
        .iter()
        .any(|r| matches!(r.verdict, Verdict::Warn | Verdict::Inconclusive))
    {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "warning: {report}");
    } else if print_on_pass {
        println!("{report}");
    }
}

pub(crate) use crate::text::panic_text;
