use mltest_macros::robustness;

#[robustness(max_flip_rate = 0.02, model = "reviews@1")]
fn survives_typos(p: Perturb) -> Perturb {
    p
}

fn main() {}
