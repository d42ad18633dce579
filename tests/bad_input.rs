//! Bad input fails with an error that names the file, line, column or value
//! and what was expected — never a pass, never a panic inside polars.

use std::io::Write;
use std::path::{Path, PathBuf};

use mltest::data::load_cached;
use mltest::expect::{CheckError, Status};
use mltest::prelude::*;
use polars::prelude::*;

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    path
}

fn load_err(src: DataSource) -> String {
    load_cached(&src).expect_err("load must fail").to_string()
}

#[test]
fn a_missing_file_names_its_path() {
    let msg = load_err(DataSource::csv("fixtures/no_such_file.csv"));
    assert!(
        msg.starts_with("data file not found: fixtures/no_such_file.csv"),
        "{msg}"
    );
}

#[test]
fn a_ragged_csv_names_the_line_and_the_field_counts() {
    let dir = tempfile::tempdir().unwrap();
    // Line 3 holds a quoted newline, so the ragged record starts on line 5.
    let path = write(
        dir.path(),
        "ragged.csv",
        "id,age,text\n1,30,\"two\nlines\"\n2,41,ok\n3,52,fine,extra\n4,60,x\n",
    );
    let msg = load_err(DataSource::csv(&path));
    assert!(msg.contains("ragged.csv at line 5"), "{msg}");
    assert!(
        msg.contains("expected 3 fields (as in the header), found 4"),
        "{msg}"
    );
}

#[test]
fn an_unparsable_value_names_line_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "ages.csv",
        "id,Age\n1,30\n2,41\n3,52\n4,fifty\n5,60\n",
    );
    let src = DataSource::csv(&path).with_options(LoadOptions::default().infer_rows(Some(2)));
    let msg = load_err(src);
    assert!(msg.contains("ages.csv at line 5, column \"Age\""), "{msg}");
    assert!(
        msg.contains("value \"fifty\" in column \"Age\" is not an integer"),
        "{msg}"
    );
}

#[test]
fn a_missing_column_lists_the_available_ones_and_the_closest() {
    let data = Dataset::from_frame(
        "d",
        df!("Age" => [1i64], "Department Name" => ["Tops"]).unwrap(),
    );
    let out = data.evaluate_one(data.column("Departement Name").null_fraction().at_most(0.0));
    assert_eq!(out.status(), Status::Error);
    let msg = out.error().unwrap().to_string();
    assert_eq!(
        msg,
        "column \"Departement Name\" not found (did you mean \"Department Name\"?); available: \"Age\", \"Department Name\""
    );
}

#[test]
fn a_wrong_dtype_names_the_column_and_both_types() {
    let data = Dataset::from_frame("d", df!("Title" => ["a", "b"]).unwrap());
    let out = data.evaluate_one(data.column("Title").mean().between(0.0, 1.0));
    assert_eq!(out.status(), Status::Error);
    let msg = out.error().unwrap().to_string();
    assert!(
        msg.starts_with("column \"Title\" has dtype text (str), but this check needs numeric"),
        "{msg}"
    );
}

#[test]
fn an_empty_data_set_is_no_rows_never_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "header_only.csv", "id,Age,Title\n");
    let data = load_cached(&DataSource::csv(&path)).unwrap();
    assert_eq!(data.height(), 0);
    let out = data.evaluate(vec![
        data.column("Age").null_fraction().at_most(0.0),
        data.column("Age").values().between(18.0, 99.0),
        data.column("Title").empty_fraction().at_most(1.0),
        data.row_count().at_least(1.0),
    ]);
    for o in &out[..3] {
        assert_eq!(o.status(), Status::Error, "{:?}", o.expectation);
        assert_eq!(o.error(), Some(&CheckError::NoRows { segment: None }));
    }
    assert_eq!(out[3].status(), Status::Fail);
}

#[test]
fn a_segment_without_rows_is_no_rows_and_names_the_segment() {
    let data = Dataset::from_frame(
        "d",
        df!("Age" => [30i64, 40], "Dept" => ["Tops", "Tops"]).unwrap(),
    );
    let out = data.evaluate_one(
        data.column("Age")
            .null_fraction()
            .at_most(0.0)
            .where_eq("Dept", "Dresses"),
    );
    assert_eq!(out.status(), Status::Error);
    assert_eq!(
        out.error().unwrap().to_string(),
        "no rows in segment Dept == \"Dresses\": the check has nothing to measure"
    );
}

#[test]
fn nan_and_infinity_fail_numeric_checks() {
    let data = Dataset::from_frame(
        "d",
        df!("x" => [1.0, f64::NAN, 3.0, f64::INFINITY, 2.0]).unwrap(),
    );
    let out = data.evaluate(vec![
        data.column("x").mean().between(0.0, 10.0),
        data.column("x").max().at_most(10.0),
        data.column("x").values().between(0.0, 10.0),
    ]);
    for o in &out[..2] {
        assert_eq!(o.status(), Status::Error);
        assert!(
            o.error()
                .as_ref()
                .unwrap()
                .to_string()
                .contains("1 NaN and 1 infinite values")
        );
        let rows: Vec<u64> = o.examples.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![1, 3]);
    }
    // In a range check NaN and inf are values outside the range.
    assert_eq!(out[2].status(), Status::Fail);
    assert_eq!(out[2].observed, Some(3.0 / 5.0));
}

#[test]
fn an_all_missing_column_has_no_values_to_measure() {
    let data = Dataset::from_frame("d", df!("x" => [None::<f64>, None]).unwrap());
    let out = data.evaluate_one(data.column("x").mean().between(0.0, 1.0));
    assert_eq!(out.status(), Status::Error);
    assert!(matches!(out.error(), Some(CheckError::NoValues { .. })));
}

#[test]
fn an_invalid_pattern_is_an_error_that_does_not_sink_the_other_checks() {
    let data = Dataset::from_frame("d", df!("t" => ["a", "b"]).unwrap());
    let out = data.evaluate(vec![
        data.column("t").matching("(unclosed").mostly(1.0),
        data.column("t").null_fraction().at_most(0.0),
    ]);
    assert_eq!(out[0].status(), Status::Error);
    assert!(
        out[0]
            .error()
            .unwrap()
            .to_string()
            .contains("does not compile")
    );
    assert!(out[1].passed());
}

#[test]
fn null_tokens_and_trimming_apply_after_whitespace() {
    let dir = tempfile::tempdir().unwrap();
    // Like the Adult census file: a space after each comma, "?" for missing.
    let path = write(
        dir.path(),
        "adult_like.csv",
        "age,workclass,hours\n39, State-gov, 40\n50, ?, 13\n38, Private, NA\n",
    );
    let src = DataSource::csv(&path).with_options(
        LoadOptions::default()
            .null_tokens(["", "?", "NA"])
            .trim(true),
    );
    let data = load_cached(&src).unwrap();
    let out = data.evaluate(vec![
        data.column("workclass").null_fraction().at_most(0.0),
        data.column("workclass")
            .values()
            .in_set(["State-gov", "Private"]),
        data.column("hours").mean().between(26.5, 26.5),
    ]);
    assert_eq!(out[0].observed, Some(1.0 / 3.0));
    assert!(out[1].passed(), "{:?}", out[1]);
    // " 40", " 13" become numbers once trimmed; "NA" is missing.
    assert_eq!(out[2].observed, Some(26.5));
}

/// The real Adult file, when present: its documented missing-value counts.
#[test]
fn adult_census_question_marks_are_missing_values() {
    let Some(path) = mltest::prereq::shared_file("data/adult.csv") else {
        return;
    };
    let src = DataSource::csv(path)
        .with_options(LoadOptions::default().null_tokens(["", "?"]).trim(true));
    let data = load_cached(&src).unwrap();
    assert_eq!(data.height(), 32_561);
    let out = data.evaluate(vec![
        data.column("workclass").null_fraction().at_most(1.0),
        data.column("occupation").null_fraction().at_most(1.0),
        data.column("native-country").null_fraction().at_most(1.0),
        data.column("age").mean().at_least(0.0),
    ]);
    let nulls: Vec<u64> = out[..3]
        .iter()
        .map(|o| o.count.as_ref().unwrap().hits)
        .collect();
    assert_eq!(nulls, vec![1_836, 1_843, 583]);
    assert!(
        out[3].passed(),
        "age must be numeric after trimming: {:?}",
        out[3].error()
    );
}

// ---- through the attribute: bad input fails the generated test ----

fn missing_file() -> DataSource {
    DataSource::csv("fixtures/does_not_exist.csv")
}

#[data_expectation(reason = "bad-input demo: the fixture names a file that is not there", data = missing_file)]
#[should_panic(expected = "data file not found: fixtures/does_not_exist.csv")]
fn a_missing_file_fails_the_test(data: &Dataset) -> Expectation {
    data.column("Age").null_fraction().at_most(1.0)
}

fn empty_frame() -> DataSource {
    DataSource::frame("empty", df!("Age" => Vec::<i64>::new()).unwrap())
}

#[data_expectation(reason = "bad-input demo: an empty data set must not pass", data = empty_frame)]
#[should_panic(expected = "no rows: the check has nothing to measure")]
fn an_empty_data_set_fails_the_test(data: &Dataset) -> Expectation {
    data.column("Age").null_fraction().at_most(1.0)
}

fn nan_frame() -> DataSource {
    DataSource::frame("nan", df!("score" => [0.5, f64::NAN]).unwrap())
}

#[data_expectation(reason = "bad-input demo: a NaN must not pass a mean check", data = nan_frame)]
#[should_panic(expected = "\"score\" holds 1 NaN and 0 infinite values")]
fn a_nan_fails_the_test(data: &Dataset) -> Expectation {
    data.column("score").mean().between(0.0, 1.0)
}

#[data_expectation(reason = "bad-input demo: a misspelt column fails, naming the closest", data = nan_frame)]
#[should_panic(expected = "column \"scor\" not found (did you mean \"score\"?)")]
fn a_missing_column_fails_the_test(data: &Dataset) -> Expectation {
    data.column("scor").null_fraction().at_most(0.0)
}

/// Frames made one after another under one name are different data sets:
/// the per-process cache must not serve a freed frame's rows to a later
/// frame that happens to be allocated at the same address (it keyed by
/// address until 2026-12-03, and this loop reproduced it).
#[test]
fn a_new_frame_under_a_reused_name_is_never_served_an_old_ones_rows() {
    for i in 0..64i64 {
        let src = DataSource::frame("batch", df!("x" => [i, i + 1]).unwrap());
        let loaded = load_cached(&src).unwrap();
        let first = loaded.frame().column("x").unwrap().i64().unwrap().get(0);
        assert_eq!(first, Some(i), "frame {i} was served another frame's rows");
        // A clone is the same data set and shares the cached load.
        assert!(std::sync::Arc::ptr_eq(
            &loaded,
            &load_cached(&src.clone()).unwrap()
        ));
    }
}
