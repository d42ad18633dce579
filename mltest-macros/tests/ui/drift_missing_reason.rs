use mltest_macros::drift;

#[drift]
fn petite_matches_general(general: &Side, petite: &Side) -> Drift {
    Drift::columns(["Age"])
}

fn main() {}
