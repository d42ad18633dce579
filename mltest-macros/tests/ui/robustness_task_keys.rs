// The keys of regressors and adaptive runs, misused: every mistake is reported.
use mltest_macros::robustness;

#[robustness(reason = "r", max_flip_rate = 0.1, max_change_rate = 0.1, model = "m@1",
             tolerance = 0.5, relative_tolerance = 0.1, budget = 500, confidence = 1.5)]
fn misused(p: Perturb) -> Perturb {
    p
}

fn main() {}
