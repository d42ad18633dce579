//! The fixture of `tests/junit_counts.rs` and `.ci/run`'s JUnit count check:
//! one test of every outcome a JUnit reader must count right.
//!
//! With `MLTEST_JUNIT_FIXTURE` set, the tests take their counting forms: 5
//! pass (one of them a `#[should_panic]` that fails as expected, one a
//! warning), 3 fail (one a `#[should_panic]` whose checks pass, one a check
//! that errors), 2 are ignored (one through `cfg_attr`). Without it (a
//! plain `cargo test`), every test
//! takes a passing form of the same machinery, so the suite stays green:
//! the two `#[should_panic]` tests still panic, the failing check's bound is
//! loose, the erroring check names a column that exists.

use mltest::prelude::*;

fn counting() -> bool {
    std::env::var_os("MLTEST_JUNIT_FIXTURE").is_some()
}

/// `when_counting` under `MLTEST_JUNIT_FIXTURE`, `otherwise` without it.
fn pick<T>(when_counting: T, otherwise: T) -> T {
    if counting() { when_counting } else { otherwise }
}

fn small() -> DataSource {
    DataSource::generated(ReviewsSpec::new(200, 3).null_rate("Age", None, 0.2)).named("small")
}

#[data_expectation(reason = "fixture: passes")]
fn passes(small: &Dataset) -> Expectation {
    small.row_count().at_least(200.0)
}

#[data_expectation(reason = "fixture: two checks of one kind, both pass")]
fn two_row_counts(small: &Dataset) -> Vec<Expectation> {
    vec![
        small.row_count().at_least(200.0),
        small.row_count().at_most(200.0),
    ]
}

#[data_expectation(reason = "fixture: fails when counting (20% of ages are missing)")]
fn fails(small: &Dataset) -> Expectation {
    small.column("Age").null_fraction().at_most(pick(0.0, 1.0))
}

#[data_expectation(reason = "fixture: fails as it should, so cargo counts it passed")]
#[should_panic(expected = "null fraction of \"Age\"")]
fn fails_as_expected(small: &Dataset) -> Expectation {
    small.column("Age").null_fraction().at_most(0.0)
}

#[data_expectation(reason = "fixture: when counting, should panic but passes: a failure")]
#[should_panic]
fn should_have_failed(small: &Dataset) -> Expectation {
    small.column("Age").null_fraction().at_most(pick(1.0, 0.0))
}

#[data_expectation(reason = "fixture: ignored")]
#[ignore = "fixture: never runs"]
fn ignored(small: &Dataset) -> Expectation {
    small.row_count().at_least(1.0)
}

#[data_expectation(reason = "fixture: ignored through cfg_attr")]
#[cfg_attr(all(), ignore = "fixture: ignored when a cfg holds")]
fn cfg_ignored(small: &Dataset) -> Expectation {
    small.row_count().at_least(1.0)
}

#[data_expectation(reason = "fixture: when counting, a missing column errors")]
fn errors(small: &Dataset) -> Expectation {
    small
        .column(pick("No Such Column", "Age"))
        .null_fraction()
        .at_most(1.0)
}

#[data_expectation(reason = "fixture: a warning passes", severity = "warn")]
fn warns(small: &Dataset) -> Expectation {
    small.column("Age").null_fraction().at_most(0.0)
}

mod nested {
    use mltest::prelude::*;

    fn tiny() -> DataSource {
        DataSource::generated(ReviewsSpec::new(50, 1)).named("tiny")
    }

    #[data_expectation(reason = "fixture: in a module", data = tiny)]
    pub fn passes(d: &Dataset) -> Expectation {
        d.row_count().at_least(50.0)
    }
}
