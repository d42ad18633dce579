// Two bad values of #[robustness]-only keys: both are reported.
use mltest_macros::robustness;

#[robustness(reason = "peer flips 0.9%", max_flip_rate = 5, model = " ")]
fn survives_typos(p: Perturb) -> Perturb {
    p
}

fn main() {}
