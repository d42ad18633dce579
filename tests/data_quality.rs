//! Pre-training data suite for the Women's E-Commerce Clothing Reviews data.
//!
//! The reference model (see the pipeline example) predicts `Recommended IND`
//! from Age, Positive Feedback Count, Division/Department/Class and the review
//! text. These checks gate its training data. Every threshold was set from a
//! profile of the real 2019 export (23,486 rows, sha256 bd93cc51…) taken with
//! this suite's own metrics, plus the business rules the reasons name.
//!
//! Known issues of the real file, and what the suite does about each:
//! - Division "Initmates" (1,502 rows) is the source's own misspelling. It is
//!   accepted as a valid category: it is consistent across the file, and the
//!   model one-hot encodes it like any other label. Renaming it here would
//!   break joins with the retailer's catalog; the value-set check pins the
//!   spelling so an upstream fix shows up as a deliberate change.
//! - 14 rows have no Division, Department or Class. They are tolerated
//!   (≤ 0.1% per column): the model maps them to an "unknown" bucket, and 14
//!   catalog-join misses do not bias anything. A rise means the catalog join
//!   broke, which the null-fraction checks catch.
//! - 845 reviews are empty (3.6%). The model still has the title and the
//!   tabular features for them, so they are not removed; a per-department
//!   ceiling catches text being dropped for one segment.
//! - Ages up to 99 (15 rows ≥ 90). The sign-up form accepts 18–99, so these
//!   are legal answers, not corrupt values; the range check is the form's.
//!
//! Run: `cargo test --release --test data_quality`. The pipeline example
//! includes this file as a module and runs the same checks as its gate.

use mltest::prelude::*;

#[path = "common/legal_row.rs"]
mod legal_row;

/// Columns the reference model reads, with the dtypes its feature pipeline expects.
#[data_expectation(
    reason = "The feature pipeline reads these columns by name and type; a renamed \
              or re-typed column in a new export must stop training, not silently \
              become an all-unknown feature. Types are those of the 2019 export."
)]
fn schema_has_model_inputs(reviews: &Dataset) -> Expectation {
    reviews.schema().requires([
        ("Clothing ID", DType::Integer),
        ("Age", DType::Integer),
        ("Title", DType::Text),
        ("Review Text", DType::Text),
        ("Rating", DType::Integer),
        ("Recommended IND", DType::Integer),
        ("Positive Feedback Count", DType::Integer),
        ("Division Name", DType::Text),
        ("Department Name", DType::Text),
        ("Class Name", DType::Text),
    ])
}

#[data_expectation(
    reason = "An 80/20 split needs enough rows for the 1.5-point accuracy tolerance \
              against scikit-learn to be meaningful (SE of accuracy on 4,700 test rows \
              is ~0.4 points). The 2019 export has 23,486 rows; fewer than 20,000 \
              means a truncated export, as GE's suite for this data also asserts."
)]
fn enough_rows_to_train(reviews: &Dataset) -> Expectation {
    reviews.row_count().at_least(20_000.0)
}

#[data_expectation(
    reason = "Age and Rating are required fields of the review form, so a missing value \
              is an ingestion bug, never a user choice. The 2019 export has 0 missing of \
              23,486 rows in both."
)]
fn required_fields_are_never_missing(reviews: &Dataset) -> Vec<Expectation> {
    vec![
        legal_row::age_present(),
        reviews.column("Rating").null_fraction().at_most(0.0),
        reviews
            .column("Recommended IND")
            .null_fraction()
            .at_most(0.0),
    ]
}

#[data_expectation(
    reason = "Division/Department/Class come from a join with the product catalog; the \
              2019 export misses it for 14 rows (0.06%), which the model buckets as \
              'unknown'. 0.1% allows that residue; more means the catalog join broke."
)]
fn catalog_columns_are_nearly_complete(reviews: &Dataset) -> Vec<Expectation> {
    ["Division Name", "Department Name", "Class Name"]
        .into_iter()
        .map(|c| reviews.column(c).null_fraction().at_most(0.001))
        .collect()
}

/// Missing review text, judged in every department separately.
#[data_expectation(
    reason = "The text is the model's strongest input. In the 2019 export 3.6% of reviews \
              are empty overall and 0.8%-4.7% per department (worst: Intimate, 82 of \
              1,735). A department above 6% means text is being lost for one segment \
              (a form or ingestion change) even when the overall rate looks normal. \
              Groups under 30 rows (the 14 rows without a department) are too small to judge."
)]
fn review_text_present_in_every_department(reviews: &Dataset) -> Vec<Expectation> {
    vec![
        reviews.column("Review Text").null_fraction().at_most(0.05),
        reviews
            .column("Review Text")
            .null_fraction()
            .at_most(0.06)
            .in_every_segment_of("Department Name"),
    ]
}

#[data_expectation(
    reason = "Dresses are 27% of the reviews and the segment the size-recommendation \
              team reads most; its titles are 15.0% empty in the 2019 export. Above 20% \
              the title feature (half the text signal for short reviews) degrades there."
)]
fn dress_titles_mostly_present(reviews: &Dataset) -> Expectation {
    reviews
        .column("Title")
        .null_fraction()
        .at_most(0.20)
        .where_eq("Department Name", "Dresses")
}

/// Age: the form's range, and the population the model was built for.
#[data_expectation(
    reason = "The sign-up form accepts ages 18-99, so anything outside is corrupt. The \
              2019 profile has mean 43.2, sd 12.3, median 41; the standard error of the \
              mean at 23k rows is 0.08 years, so the ±3-year bands only trip on a real \
              change of clientele (e.g. a new teen line), not on sampling noise."
)]
fn age_is_valid_and_stable(reviews: &Dataset) -> Vec<Expectation> {
    vec![
        legal_row::age_range(),
        reviews.column("Age").mean().between(40.0, 46.0),
        reviews.column("Age").std().between(9.0, 15.5),
        reviews.column("Age").median().between(38.0, 44.0),
    ]
}

#[data_expectation(
    reason = "Ratings are 1-5 stars and the label is a 0/1 checkbox; any other value is \
              a parsing or export error that would corrupt the label."
)]
fn rating_and_label_in_their_domains(reviews: &Dataset) -> Vec<Expectation> {
    vec![
        reviews.column("Rating").values().in_set([1, 2, 3, 4, 5]),
        reviews.column("Recommended IND").values().in_set([0, 1]),
    ]
}

/// Department: the known set, and each department's share of reviews.
#[data_expectation(
    reason = "The one-hot encoder was fit on these six departments. Shares in the 2019 \
              export: Tops 44.6%, Dresses 26.9%, Bottoms 16.2%, Intimate 7.4%, Jackets \
              4.4%, Trend 0.5%. Bands of about ±5 points (±2 for the small ones) flag a \
              shift in the catalog mix, which changes the base rate the model learned."
)]
fn department_mix_is_stable(reviews: &Dataset) -> Vec<Expectation> {
    let mut checks = vec![legal_row::department_set()];
    checks.extend(reviews.column("Department Name").shares_within([
        ("Tops", 0.40, 0.50),
        ("Dresses", 0.22, 0.32),
        ("Bottoms", 0.12, 0.21),
        ("Intimate", 0.05, 0.10),
        ("Jackets", 0.025, 0.065),
        ("Trend", 0.0, 0.02),
    ]));
    checks
}

#[data_expectation(
    reason = "Divisions as the source spells them, including its misspelling \
              'Initmates' (1,502 rows), which is consistent and kept as a category; an \
              upstream rename must be a deliberate change here and in the model's \
              encoder, not a silent 'unknown'."
)]
fn division_values_as_the_source_spells_them(reviews: &Dataset) -> Expectation {
    let _ = reviews; // the rule is declared once, in common/legal_row.rs
    legal_row::division_set()
}

#[data_expectation(
    reason = "Present reviews in the 2019 export are 9-508 characters; the review box \
              allows about 500. Lengths up to 600 leave room for entity expansion; longer \
              ones mean concatenated records (a CSV quoting failure)."
)]
fn review_lengths_are_plausible(reviews: &Dataset) -> Vec<Expectation> {
    vec![
        reviews.column("Review Text").lengths().between(1, 600),
        reviews.column("Review Text").empty_fraction().at_most(0.05),
    ]
}

#[data_expectation(
    reason = "The same review text for the same item and age is a double submission; the \
              2019 export has 2 (rows 1891/12526 and 9447/21888). More than 10 means \
              replayed ingestion, which would leak copies of rows across the train/test split."
)]
fn few_double_submissions(reviews: &Dataset) -> Expectation {
    reviews
        .duplicates_on(["Clothing ID", "Age", "Review Text"])
        .at_most(10.0)
        .where_filter(Filter::NotNull {
            column: "Review Text".into(),
        })
}

#[data_expectation(
    reason = "No model input may encode the label. In the 2019 export the strongest input \
              association with Recommended IND is 0.069 (|r| of Positive Feedback Count; \
              the categorical inputs have a correlation ratio η <= 0.057, which for the 0/1 label is Cramér's V); 0.5 is far above any honest input and far below the 0.79 of Rating, the second label."
)]
fn model_inputs_do_not_leak_the_label(reviews: &Dataset) -> Expectation {
    reviews
        .leakage("Recommended IND")
        .features([
            "Age",
            "Positive Feedback Count",
            "Division Name",
            "Department Name",
            "Class Name",
        ])
        .at_most(0.5)
}

/// Rating is excluded from the model's inputs because it is a second label.
#[data_expectation(
    reason = "Rating is written in the same form, at the same moment, as the recommendation: \
              it is a second label, not a predictor (|r| = 0.79 in the 2019 export), so the \
              model does not use it. If this association ever weakens below 0.6, revisit \
              that decision."
)]
fn rating_is_a_second_label(reviews: &Dataset) -> Expectation {
    reviews
        .leakage("Recommended IND")
        .features(["Rating"])
        .at_least(0.6)
}
