use mltest_macros::robustness;

#[robustness(reason = "peer flips 0.9%", max_flip_rate = 0.02)]
fn survives_typos(p: Perturb) -> Perturb {
    p
}

fn main() {}
