//! Robustness of the committed reference model (`model_store/reviews@1`):
//! `cargo test --release --test robustness`.
//!
//! Peer figure: scikit-learn on the same features flips 0.9% of 1,000
//! held-out predictions under two random character typos per review
//! (`../shared/bench/sklearn_baseline.py`). reviews@1 is the first version,
//! so there is no previous version to compare with yet.
//!
//! Rows are sampled from the reviews data (rows whose perturbed columns are
//! present); each test's seed is fixed by its name (override with
//! MLTEST_SEED, and the case count with PROPTEST_CASES), so a report
//! reproduces exactly.

use mltest::prelude::*;

#[robustness(
    reason = "Two character typos per review, the scikit-learn peer's perturbation. The \
              peer flips 0.9%; reviews@1 flips 1.9% here (19 of 1,000, 95% interval \
              1.2%-3.0%; 1.7% on average over 15 seeds, BENCHMARKS.md). Its 2^16 hashed \
              buckets (1,024 before the sparse fit) cut the collisions that sent a \
              misspelt word into another word's weight; what is left is a bag of words \
              that has never seen the misspelling. 5% is above the interval of every \
              retrained split seed (42, 7, 11), so only a real regression fails it.",
    max_flip_rate = 0.05,
    cases = 1000,
    model = "reviews@1",
    data = reviews
)]
fn two_typos_rarely_flip_a_recommendation(p: Perturb) -> Perturb {
    p.text("Review Text", typos(2..=2))
}

#[robustness(
    reason = "The tokenizer lower-cases and splits on non-word characters, so changing a \
              word's case or doubling a space must never change a prediction: any flip is a \
              bug in the feature pipeline, not a modelling trade-off.",
    max_flip_rate = 0.0,
    cases = 1000,
    model = "reviews@1",
    data = reviews
)]
fn case_and_spacing_never_flip(p: Perturb) -> Perturb {
    p.text("Review Text", case_change())
        .text("Review Text", extra_whitespace())
        .text("Title", case_change())
}

#[robustness(
    reason = "A reviewer one year older or younger is the same customer; Age enters the model \
              standardised (sd 12.3 years), so ±1 year moves the score by a few hundredths of \
              a unit. reviews@1 flips none of 1,000 (95% interval 0%-0.4%); 0.5% leaves room \
              only for rows that sit exactly on the decision boundary.",
    max_flip_rate = 0.005,
    cases = 1000,
    model = "reviews@1",
    data = reviews
)]
fn a_year_of_age_does_not_flip(p: Perturb) -> Perturb {
    p.numeric("Age", noise(1.0))
}

#[robustness(
    reason = "Dropping one word from a review of 60 words on average removes little evidence; \
              reviews@1 flips 0.6% (6 of 1,000, 95% interval 0.3%-1.3%). 2.5% is above \
              that interval, so a model that leans on single words (a sign of over-fitting) \
              fails.",
    max_flip_rate = 0.025,
    cases = 1000,
    model = "reviews@1",
    data = reviews
)]
fn dropping_a_word_rarely_flips(p: Perturb) -> Perturb {
    p.text("Review Text", drop_word())
}

#[robustness(
    reason = "Swapping the department and class (to others seen in training) changes what the \
              product is, so some flips are legitimate; but the text carries the opinion, and \
              the categorical inputs have Cramér's V <= 0.057 with the label. reviews@1 flips \
              1.9% (19 of 1,000, 95% interval 1.2%-3.0%); above 4% the model would be judging \
              products, not reviews.",
    max_flip_rate = 0.04,
    cases = 1000,
    model = "reviews@1",
    data = reviews
)]
fn the_product_category_matters_little(p: Perturb) -> Perturb {
    p.swap_category("Department Name")
        .swap_category("Class Name")
}

// ---- CheckList-style invariance (INV) and direction (DIR) tests ----

#[robustness(
    reason = "INV: a sentence about delivery says nothing about the garment, so it should not \
              change the verdict. reviews@1 flips 0.4% (4 of 1,000, 95% interval 0.2%-1.0%); \
              narrower hashing flips more: 4.4% at 1,024 buckets, 3.8% at 512. 6% is the \
              bound for any width the pipeline's --buckets accepts; above it the words of a \
              delivery note decide verdicts.",
    max_flip_rate = 0.06,
    cases = 1000,
    model = "reviews@1",
    data = reviews
)]
fn a_delivery_sentence_rarely_changes_the_verdict(p: Perturb) -> Perturb {
    p.text(
        "Review Text",
        append("I ordered it online and it arrived on Tuesday."),
    )
}

#[robustness(
    reason = "DIR: appending a clearly negative sentence must never make a recommendation more \
              likely. reviews@1 raises P(recommend) in none of 1,000 cases; a single case would \
              mean a negative word carries positive weight.",
    max_flip_rate = 0.0,
    cases = 1000,
    model = "reviews@1",
    data = reviews,
    expect = "no_increase"
)]
fn a_negative_sentence_never_raises_the_recommendation(p: Perturb) -> Perturb {
    p.text(
        "Review Text",
        append("Sadly it was cheap, itchy and I returned it."),
    )
}

#[robustness(
    reason = "DIR: appending a clearly positive sentence must never make a recommendation less \
              likely (reviews@1: none of 1,000 cases).",
    max_flip_rate = 0.0,
    cases = 1000,
    model = "reviews@1",
    data = reviews,
    expect = "no_decrease"
)]
fn a_positive_sentence_never_lowers_the_recommendation(p: Perturb) -> Perturb {
    p.text(
        "Review Text",
        append("I love it, it is perfect and so comfortable."),
    )
}

// ---- against the previous version ----

#[robustness(
    reason = "Whatever the champion is, it may not be more fragile under typos than reviews@1, \
              the first reviewed version, by more than half a point on the same 1,000 cases \
              (same seed). Today the champion is reviews@1, so the rates are equal; when the \
              alias moves, this test compares the new champion with it.",
    max_flip_rate = 0.05,
    cases = 1000,
    model = "reviews",
    data = reviews,
    baseline = "reviews@1",
    margin = 0.005
)]
fn the_champion_is_no_more_fragile_than_reviews_1(p: Perturb) -> Perturb {
    p.text("Review Text", typos(2..=2))
}

// ---- slices ----

/// Accuracy per department on the held-out rows (the seed-42 split reviews@1
/// was evaluated on), against overall.
#[test]
fn no_department_is_much_worse_served_than_overall() {
    use mltest::data::train_test_split;
    use mltest::model::ReferenceModel;
    use mltest::robust::slice_accuracy;
    let reason = "Each department with at least 100 held-out rows must be within 4 points of \
                  overall accuracy. reviews@1: overall 0.893, weakest Dresses 0.866 (1,277 rows), \
                  strongest Intimate 0.914 (324 rows). 4 points is about the 95% half-width of the smallest \
                  judged segment (Jackets, 176 rows), so a wider gap is not sampling noise but a \
                  product line the model serves worse.";
    let model = ReferenceModel::load(&mltest::store::ModelStore::from_env(), "reviews@1").unwrap();
    let data = mltest::data::load_cached(&reviews()).unwrap();
    let (_, test) = train_test_split(data.frame(), 42, 0.2).unwrap();
    let slices = slice_accuracy(&model, &test, "Recommended IND", "Department Name", 100).unwrap();
    let record = mltest::check::slices_record(
        &slices,
        "no_department_is_much_worse_served_than_overall",
        reason,
        0.04,
        "reviews@1",
        file!(),
        line!(),
    );
    mltest::check::publish_records(&[record]);
    assert!(
        slices.failing(0.04).is_empty(),
        "{}",
        slices.report("departments", reason, 0.04)
    );
    assert!(
        slices.segments.len() >= 5,
        "{}",
        slices.report("departments", reason, 0.04)
    );
}

// ---- perturbations inside the data suite's definition of a legal row ----

#[path = "common/legal_row.rs"]
mod legal_row;

#[robustness(
    reason = "Any age the form accepts (±30 years, clipped to the legal 18-99 of \
              common/legal_row.rs) and any legal division: a customer profile that passes the \
              data suite must not decide the verdict. reviews@1 flips 1.5% (15 of 1,000, 95% \
              interval 0.9%-2.5%), mostly for reviews near the boundary; 4% allows that and no \
              more. The bounds come from the same declarations the data suite checks.",
    max_flip_rate = 0.04,
    cases = 1000,
    model = "reviews@1",
    data = reviews
)]
fn any_legal_age_and_division_changes_little(p: Perturb) -> Perturb {
    p.numeric("Age", noise(30.0))
        .swap_category("Division Name")
        .within(&legal_row::all())
}
