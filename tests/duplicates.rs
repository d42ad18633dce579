//! Uniqueness and missing values: rows whose key is entirely missing are
//! not duplicates of each other unless asked; repeats after the first
//! occurrence (mltest's default) against every member of a duplicated group
//! (Great Expectations'); counts against fractions. Expected figures are
//! counted by hand from the frames below.

use mltest::expect::Status;
use mltest::prelude::*;
use polars::prelude::*;

/// id: 1, 1, 1, 2, 3, then four rows without an id; name: a full key for
/// the first five, missing for rows 5 and 6, present for rows 7 and 8.
fn keys() -> Dataset {
    let frame = df! {
        "id" => [Some(1i64), Some(1), Some(1), Some(2), Some(3), None, None, None, None],
        "name" => [Some("a"), Some("a"), Some("a"), Some("b"), Some("c"), None, None, Some("x"), Some("x")],
    }
    .expect("frame");
    Dataset::from_frame("keys", frame)
}

#[test]
fn rows_without_any_key_value_are_not_duplicates_by_default() {
    let data = keys();
    let out = data.evaluate(vec![
        data.duplicates_on(["id"]).at_most(0.0),
        data.duplicates_on(["id"])
            .counting_missing_keys()
            .at_most(0.0),
    ]);
    // id 1 three times: 2 repeats; the four missing ids are ignored.
    assert_eq!(out[0].observed, Some(2.0));
    let count = out[0].count.as_ref().expect("count");
    assert_eq!((count.hits, count.of), (2, 5));
    assert!(
        count.unit.contains("4 without any key value ignored"),
        "{}",
        count.unit
    );
    // Counted, the four missing ids are one value seen four times: 3 more.
    assert_eq!(out[1].observed, Some(5.0));
    assert_eq!(out[1].count.as_ref().map(|c| c.of), Some(9));
}

#[test]
fn a_key_missing_in_only_some_columns_is_still_a_key() {
    let data = keys();
    let out = data.evaluate(vec![data.duplicates_on(["id", "name"]).at_most(0.0)]);
    // (1, a) ×3 → 2; (null, null) ×2 ignored; (null, x) ×2 → 1.
    assert_eq!(out[0].observed, Some(3.0));
    assert_eq!(out[0].count.as_ref().map(|c| c.of), Some(7));
}

#[test]
fn every_member_counts_the_whole_group_as_great_expectations_does() {
    let data = keys();
    let out = data.evaluate(vec![
        data.duplicates_on(["id"]).every_member().at_most(0.0),
        data.duplicates_on(["id"])
            .every_member()
            .counting_missing_keys()
            .at_most(0.0),
    ]);
    assert_eq!(out[0].observed, Some(3.0));
    assert_eq!(out[1].observed, Some(7.0));
}

#[test]
fn the_fraction_form_is_a_share_of_the_rows_with_a_key() {
    let data = keys();
    let out = data.evaluate(vec![
        data.duplicates_on(["id"]).fraction().at_most(0.5),
        data.duplicates_on(["id"])
            .every_member()
            .fraction()
            .at_most(0.5),
    ]);
    assert_eq!(out[0].observed, Some(2.0 / 5.0));
    assert!(out[0].passed());
    assert_eq!(out[1].observed, Some(3.0 / 5.0));
    assert_eq!(out[1].status(), Status::Fail);
    // The examples of a failure are the rows it counts, never a keyless one.
    let rows: Vec<u64> = out[1].examples.iter().map(|e| e.row).collect();
    assert_eq!(rows, vec![0, 1, 2]);
}

#[test]
fn a_fraction_with_no_keyed_row_is_an_error_not_a_pass() {
    let frame = df! { "id" => [None::<i64>, None] }.expect("frame");
    let data = Dataset::from_frame("empty keys", frame);
    let out = data.evaluate(vec![data.duplicates_on(["id"]).fraction().at_most(0.0)]);
    assert_eq!(out[0].status(), Status::Error, "{:?}", out[0]);
}

#[test]
fn whole_row_duplicates_ignore_entirely_empty_rows_unless_asked() {
    let frame = df! {
        "a" => [Some(1i64), Some(1), None, None, None],
        "b" => [Some("x"), Some("x"), None, None, None],
    }
    .expect("frame");
    let data = Dataset::from_frame("rows", frame);
    let out = data.evaluate(vec![
        data.duplicate_rows().at_most(0.0),
        data.duplicate_rows().counting_missing_keys().at_most(0.0),
    ]);
    assert_eq!(out[0].observed, Some(1.0));
    assert_eq!(out[1].observed, Some(3.0));
}

#[test]
fn duplicates_per_segment_use_the_same_rule() {
    let frame = df! {
        "dept" => ["A", "A", "A", "B", "B", "B"],
        "id" => [Some(1i64), Some(1), None, None, None, Some(2)],
    }
    .expect("frame");
    let data = Dataset::from_frame("segments", frame);
    let out = data.evaluate(vec![
        data.duplicates_on(["id"])
            .at_most(0.0)
            .in_every_segment_of("dept")
            .min_rows(1),
        data.duplicates_on(["id"])
            .at_most(0.0)
            .where_eq("dept", "B"),
    ]);
    let by: Vec<(String, f64)> = out[0]
        .segments
        .iter()
        .map(|s| (s.segment.clone(), s.observed))
        .collect();
    assert!(by.contains(&("dept == \"A\"".to_string(), 1.0)), "{by:?}");
    assert!(by.contains(&("dept == \"B\"".to_string(), 0.0)), "{by:?}");
    assert_eq!(out[1].observed, Some(0.0));
    assert!(out[1].passed());
}

#[test]
fn example_rows_repeat_within_their_segment() {
    // Row 1 is the first id 1 of department A (row 0 is department B's).
    let frame = df! {
        "dept" => ["B", "A", "A", "A"],
        "id" => [1i64, 1, 1, 2],
    }
    .expect("frame");
    let data = Dataset::from_frame("segment examples", frame);
    let out = data.evaluate(vec![
        data.duplicates_on(["id"])
            .at_most(0.0)
            .where_eq("dept", "A"),
        data.duplicates_on(["id"])
            .at_most(0.0)
            .in_every_segment_of("dept")
            .min_rows(1),
    ]);
    for o in &out {
        assert_eq!(o.status(), Status::Fail, "{o:?}");
        let rows: Vec<u64> = o.examples.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![2], "{o:?}");
    }
}
