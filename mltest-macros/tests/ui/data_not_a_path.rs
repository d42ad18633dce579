use mltest_macros::data_expectation;

#[data_expectation(reason = "form requires it", data = "reviews.csv")]
fn age_is_never_missing(reviews: &Dataset) -> Expectation {
    reviews.column("Age").null_fraction().at_most(0.0)
}

fn main() {}
