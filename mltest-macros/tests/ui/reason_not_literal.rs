use mltest_macros::data_expectation;

const REASON: &str = "form requires it";

#[data_expectation(reason = REASON)]
fn age_is_never_missing(reviews: &Dataset) -> Expectation {
    reviews.column("Age").null_fraction().at_most(0.0)
}

fn main() {}
