use mltest_macros::data_expectation;

#[data_expectation(reason = "form requires it")]
fn age_is_never_missing(reviews: &Dataset) {
    let _ = reviews;
}

fn main() {}
