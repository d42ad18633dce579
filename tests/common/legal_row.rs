//! What a legal reviews row is, declared once. The data suite checks the
//! real data against these expectations (tests/data_quality.rs), and the
//! robustness suite keeps its perturbed rows inside them
//! (`Perturb::within`, tests/robustness.rs), so the two cannot disagree.
//! The reasons for each bound are in the data suite's tests that use them.

#![allow(dead_code)]

use mltest::expect::{Expectation, column};

/// The sign-up form accepts ages 18-99.
pub fn age_range() -> Expectation {
    column("Age").values().between(18.0, 99.0)
}

/// The six departments the encoder was fit on.
pub fn department_set() -> Expectation {
    column("Department Name")
        .values()
        .in_set(["Tops", "Dresses", "Bottoms", "Intimate", "Jackets", "Trend"])
}

/// Divisions as the source spells them (including "Initmates").
pub fn division_set() -> Expectation {
    column("Division Name")
        .values()
        .in_set(["General", "General Petite", "Initmates"])
}

/// Age is a required field.
pub fn age_present() -> Expectation {
    column("Age").null_fraction().at_most(0.0)
}

/// Every rule at once (for `Perturb::within`).
pub fn all() -> Vec<Expectation> {
    vec![age_range(), age_present(), department_set(), division_set()]
}
