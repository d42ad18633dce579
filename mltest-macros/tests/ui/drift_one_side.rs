use mltest_macros::drift;

#[drift(reason = "Petite sizes of the main catalogue: the same shoppers.")]
fn petite_matches_general(petite: &Side) -> Drift {
    Drift::columns(["Age"])
}

fn main() {}
