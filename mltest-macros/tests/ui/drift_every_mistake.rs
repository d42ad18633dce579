// Every mistake of a #[drift] at once: an unknown key, no reason, a bad
// severity, an async fn, a side by value, no return type.
use mltest_macros::drift;

#[drift(severity = "fatal", max_share = 0.5)]
async fn petite_matches_general(general: Side, petite: &Side) {}

fn main() {}
