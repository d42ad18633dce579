// Two mistakes in one attribute: both are reported, each at its span.
use mltest_macros::data_expectation;

#[data_expectation(treshold = 0.1)]
fn age_is_never_missing(reviews: &Dataset) -> Expectation {
    reviews.column("Age").null_fraction().at_most(0.0)
}

fn main() {}
