//! Progress bars for long work (training, robustness cases, large loads).
//!
//! Off unless a program turns them on ([`enable`]; the pipeline and the CLI
//! do), and even then drawn only when stderr is a terminal: test binaries
//! and CI logs get nothing extra. Bars carry no colour, so `NO_COLOR` has
//! nothing to switch off here; the CLI's coloured summary honours it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns progress bars on for this process (still only drawn on a terminal).
pub fn enable(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

fn target() -> ProgressDrawTarget {
    use std::io::IsTerminal;
    if ENABLED.load(Ordering::Relaxed) && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A bar over `len` steps.
///
/// ```
/// let bar = mltest_core::progress::bar(10, "robustness cases");
/// bar.inc(10);
/// assert!(bar.is_hidden()); // not enabled, not a terminal
/// bar.finish_and_clear();
/// ```
pub fn bar(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), target());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar
}

/// A spinner for work with no measurable steps (a model fit, a CSV parse).
pub fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target());
    bar.set_message(message.to_string());
    if !bar.is_hidden() {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar
}
