// A mistake in the attribute and one in the signature: both are reported.
use mltest_macros::data_expectation;

#[data_expectation(reason = "form requires it", severity = "fatal")]
fn age_is_never_missing(reviews: Dataset) -> Expectation {
    reviews.column("Age").null_fraction().at_most(0.0)
}

fn main() {}
