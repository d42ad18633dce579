//! A user's own Rust models under mltest: the hand-written regressor and
//! the linfa multiclass classifier of `src/lib.rs`, as model fixtures in
//! `#[robustness]`, in prediction drift, in A/B tests, and by id from a
//! model store. They take exactly the path mltest's own model takes.

use mltest::ab::{Require, compare_models};
use mltest::model::{Model, ModelError, StoredModel};
use mltest::prelude::*;
use own_model::{Department, WordRating};

fn reviews_frame() -> Result<std::sync::Arc<Dataset>, std::sync::Arc<DataError>> {
    mltest::data::load_cached(&reviews())
}

/// The model fixtures: trained once per test binary, whichever tests use them.
fn word_rating() -> Result<WordRating, ModelError> {
    let data = reviews_frame().map_err(|e| ModelError::Input(e.to_string()))?;
    WordRating::fit(data.frame())
}

fn department() -> Result<Department, ModelError> {
    let data = reviews_frame().map_err(|e| ModelError::Input(e.to_string()))?;
    Department::fit(data.frame())
}

#[robustness(
    reason = "A typo may hide one sentiment word; the rating it predicts must move by more \
              than a tenth of a star in at most 10% of reviews.",
    model = word_rating,
    data = reviews,
    max_change_rate = 0.10,
    tolerance = 0.1,
    cases = 1000
)]
#[cfg_attr(
    not(real_reviews),
    ignore = "its threshold is about real review text: needs ../shared/data (or MLTEST_REVIEWS_CSV)"
)]
fn one_typo_rarely_moves_the_rating_by_a_tenth_of_a_star(p: Perturb) -> Perturb {
    p.text("Review Text", typos(1..=1))
}

#[robustness(
    reason = "Letter case carries no meaning to the keyword model: a changed department \
              under a case change is a bug.",
    model = department,
    data = reviews,
    max_flip_rate = 0.0,
    cases = 500
)]
fn case_changes_never_change_the_department(p: Perturb) -> Perturb {
    p.text("Review Text", case_change())
}

#[robustness(
    reason = "Saying the item is a dress must not make the model less sure it is a dress.",
    model = department,
    data = reviews,
    max_flip_rate = 0.0,
    cases = 500,
    expect = "no_decrease",
    class = "Dresses"
)]
#[cfg_attr(
    not(real_reviews),
    ignore = "its threshold is about real review text: needs ../shared/data (or MLTEST_REVIEWS_CSV)"
)]
fn mentioning_a_dress_never_lowers_p_dresses(p: Perturb) -> Perturb {
    p.text("Review Text", append("I wore this dress all day."))
}

#[robustness(
    reason = "Two typos flip the department of a keyword model when they hit its keyword; \
              decide at 95% confidence whether that stays under 15%, with as few cases as it takes.",
    model = department,
    data = reviews,
    max_flip_rate = 0.15,
    cases = "auto",
    budget = 5000,
    confidence = 0.95
)]
fn two_typos_flip_the_department_in_under_15_percent(p: Perturb) -> Perturb {
    p.text("Review Text", typos(2..=2))
}

fn general() -> Result<Dataset, Box<dyn std::error::Error + Send + Sync>> {
    Ok(reviews_frame()?.rows_where("Division Name", "General")?)
}

fn petite() -> Result<Dataset, Box<dyn std::error::Error + Send + Sync>> {
    Ok(reviews_frame()?.rows_where("Division Name", "General Petite")?)
}

#[drift(
    reason = "Petite and regular shoppers review the same catalogue: the predicted \
                  department mix must not drift between them."
)]
fn the_predicted_department_mix_is_the_same_for_petite(general: &Side, petite: &Side) -> Drift {
    Drift::columns(["Age"]).prediction(department)
}

#[drift(reason = "The predicted rating must not drift between the divisions.")]
fn the_predicted_rating_is_the_same_for_petite(general: &Side, petite: &Side) -> Drift {
    Drift::columns(["Age"]).prediction(word_rating)
}

/// A/B of two linfa models: one trained on a tenth of the rows is not better.
#[test]
fn more_training_rows_do_not_make_the_department_model_worse() {
    let start = std::time::Instant::now();
    let data = reviews_frame().expect("data");
    let frame = data.frame();
    let small = Department::fit(&frame.head(Some(frame.height() / 10))).expect("fits");
    let full = department().expect("fits");
    let comparison = compare_models(
        ("department@tenth", &small),
        ("department@all", &full),
        frame,
        "Department Name",
        0.05,
    );
    mltest::check::run_model_ab(
        "more_training_rows_do_not_make_the_department_model_worse",
        "The candidate trained on all rows must not be worse than one trained on a tenth.",
        Require::NotWorse,
        comparison,
        start.elapsed().as_secs_f64(),
    );
}

/// The user's types go through the store like mltest's own: integrity,
/// kind, and loading by id for `model = "NAME@ALIAS"`.
#[test]
fn the_users_models_round_trip_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    let m = department().unwrap();
    let id = m.save(&store, "department").unwrap();
    let back: Department = store.load_as(&id).unwrap();
    let rows = reviews_frame().unwrap().frame().head(Some(200));
    assert_eq!(
        mltest::model::predict_checked(&back, &rows).unwrap(),
        mltest::model::predict_checked(&m, &rows).unwrap()
    );
    let (any, _) = mltest::model::load_any(&store, &id).unwrap();
    assert_eq!(any.card().kind(), Some("own_model.department.v1"));
    assert_eq!(
        any.card().output.classes.len(),
        m.card().output.classes.len()
    );
}
