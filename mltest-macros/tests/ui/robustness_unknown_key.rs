use mltest_macros::robustness;

#[robustness(max_flip_rate = 0.02, model = "reviews@1", casess = 10)]
fn survives_typos(p: Perturb) -> Perturb {
    p
}

fn main() {}
