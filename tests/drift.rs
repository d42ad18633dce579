//! Drift on unseen data, on the real reviews export.
//!
//! The scenario: the retailer's recommendation model is built for the main
//! catalogue, Division "General" (13,850 reviews). Its reference profile,
//! `tests/profiles/reviews_general.profile.json`, is committed and reviewed
//! like code (regenerate with `MLTEST_UPDATE=1 cargo test --release --test
//! drift`), so the drift tests run without the training rows.
//!
//! The segments it never saw, and what a drift test must say about them:
//! - **General Petite** (8,120 reviews, the same styles in petite sizes):
//!   the same shoppers by age, feedback, rating and review text, but a
//!   different department mix (more dresses, fewer tops). The honest verdict
//!   flags exactly Department and Class Name: significant *and* above the
//!   0.1 Jensen–Shannon floor; the data set does not drift (2 of 6 columns).
//! - **Initmates** (1,502 reviews; the source's spelling of Intimates):
//!   lingerie, sleep and swim: younger reviewers, shorter reviews, and
//!   categories the main catalogue does not have. The data set drifts.
//!
//! And a check that must pass: two random halves of the whole export (no
//! drift by construction), including the model's scores.
//!
//! Run: `cargo test --release --test drift` (with `../shared` beside the clone,
//! as CI has it: the committed profile is the real data's).

use std::path::PathBuf;

use mltest::drift::ColumnKind;
use mltest::drift::profile::Review;
use mltest::prelude::*;

const PROFILE: &str = "tests/profiles/reviews_general.profile.json";

/// Columns the model reads (Rating is compared as the 1–5 category it is,
/// as Evidently does; the model itself does not read it).
fn comparison() -> Drift {
    Drift::columns([
        "Age",
        "Positive Feedback Count",
        "Department Name",
        "Class Name",
    ])
    .categorical(["Rating"])
    .text(["Review Text"])
}

fn profiled_columns() -> Vec<(&'static str, ColumnKind)> {
    vec![
        ("Age", ColumnKind::Numeric),
        ("Positive Feedback Count", ColumnKind::Numeric),
        ("Department Name", ColumnKind::Categorical),
        ("Class Name", ColumnKind::Categorical),
        ("Rating", ColumnKind::Categorical),
        ("Review Text", ColumnKind::Text),
    ]
}

/// Fixtures return this; the runner reports an error with its message.
type Fixture<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn all_reviews() -> Fixture<std::sync::Arc<Dataset>> {
    Ok(mltest::data::load_cached(&reviews())?)
}

fn division(name: &str) -> Fixture<Dataset> {
    Ok(all_reviews()?.rows_where("Division Name", name)?)
}

fn general_profile() -> Result<Profile, mltest::drift::profile::ProfileError> {
    Profile::load(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(PROFILE))
}

fn general_petite() -> Fixture<Dataset> {
    division("General Petite")
}

fn initmates() -> Fixture<Dataset> {
    division("Initmates")
}

fn first_half() -> Fixture<Dataset> {
    Ok(all_reviews()?.split_random(2019, 0.5)?.0)
}

fn second_half() -> Fixture<Dataset> {
    Ok(all_reviews()?.split_random(2019, 0.5)?.1)
}

#[drift(
    reason = "Two random halves of one export cannot differ but by chance: any drift \
                  verdict here is a false alarm of the detector, model scores included."
)]
fn random_halves_do_not_drift(first_half: &Side, second_half: &Side) -> Drift {
    comparison().prediction("reviews@1").dataset_share(0.0)
}

#[drift(
    reason = "Petite sizes of the main catalogue: the same shoppers, so at most the \
              department mix may move (2 of 6 columns, under Evidently's 50% data-set rule). \
              Measured on the 2019 export: Department and Class Name drift (JS 0.11, 0.15), \
              age, feedback, rating and text do not."
)]
fn petite_division_matches_general_profile(general_profile: &Side, general_petite: &Side) -> Drift {
    comparison()
}

#[drift(
    reason = "Intimates is a segment the main-catalogue model never saw: younger reviewers, \
              shorter reviews, categories absent from General. A detector that misses it is broken."
)]
fn intimates_division_drifts_from_general_profile(
    general_profile: &Side,
    initmates: &Side,
) -> Drift {
    comparison().expect_drift()
}

/// The committed profile is the one the real data gives; a change must be
/// reviewed (`MLTEST_UPDATE=1` or `mltest profile accept`), never absorbed.
#[test]
fn committed_profile_is_current() {
    let data = all_reviews().expect("reviews data");
    if data.info().note.is_some() {
        eprintln!(
            "skipped: the real reviews file is absent, so the profile of General cannot be checked ({})",
            data.info().note.as_deref().unwrap_or_default()
        );
        return;
    }
    let general = data.rows_where("Division Name", "General").expect("filter");
    let profile =
        Profile::build(&general, &profiled_columns(), &["Department Name"]).expect("profile");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(PROFILE);
    match profile.write_reviewed(&path, false) {
        Ok(Review::Unchanged) => {}
        Ok(Review::Written) => eprintln!("wrote {}", path.display()),
        Err(e) => panic!("{e}"),
    }
}

/// A profile stands in for the raw reference exactly: every figure of the
/// profile-based comparison equals the raw one.
#[test]
fn profile_reference_gives_the_raw_figures() {
    let data = all_reviews().expect("reviews data");
    let general = data.rows_where("Division Name", "General").expect("filter");
    let petite = data
        .rows_where("Division Name", "General Petite")
        .expect("filter");
    let profile = Profile::build(&general, &profiled_columns(), &[]).expect("profile");
    let raw = comparison()
        .evaluate(&Side::data(general), &Side::data(petite.clone()))
        .expect("raw");
    let snap = comparison()
        .evaluate(&Side::profile(profile), &Side::data(petite))
        .expect("profile");
    for (a, b) in raw.columns.iter().zip(&snap.columns) {
        assert_eq!(a.column, b.column);
        for (what, x, y) in [
            ("statistic", a.statistic, b.statistic),
            ("p", a.p_value, b.p_value),
            ("effect", a.effect, b.effect),
            ("low", a.effect_low, b.effect_low),
            ("high", a.effect_high, b.effect_high),
            ("psi", a.psi, b.psi),
        ] {
            assert!(
                x == y || (x.is_nan() && y.is_nan()),
                "{} {what}: raw {x}, profile {y}",
                a.column
            );
        }
        assert_eq!(a.drifted, b.drifted, "{}", a.column);
    }
}

/// The petite comparison flags exactly the department mix, with the
/// figures scipy gives for these columns (tests/stats_reference/check.py).
#[test]
fn petite_drift_is_the_department_mix() {
    let report = comparison()
        .evaluate(
            &Side::profile(general_profile().expect("profile")),
            &Side::data(general_petite().expect("data")),
        )
        .expect("drift");
    let drifted: Vec<&str> = report
        .columns
        .iter()
        .filter(|c| c.drifted)
        .map(|c| c.column.as_str())
        .collect();
    if all_reviews().expect("data").info().note.is_none() {
        assert_eq!(
            drifted,
            ["Department Name", "Class Name"],
            "{}",
            report.render()
        );
        let class = report.column("Class Name").expect("class");
        assert!((class.effect - 0.1478).abs() < 5e-4, "{}", class.effect);
        assert!(
            class.effect_low > 0.1,
            "the whole interval clears the floor: {}",
            class.effect_low
        );
        assert!(!report.dataset_drifted);
    }
}

/// Bad input is named, not passed: a missing column, an empty side, NaN values.
#[test]
fn bad_input_is_an_error_that_names_it() {
    use polars::prelude::*;
    let good = Dataset::from_frame("good", df!("x" => [1.0, 2.0, 3.0]).unwrap());
    let nan = Dataset::from_frame("nan", df!("x" => [1.0, f64::NAN]).unwrap());
    let empty = Dataset::from_frame("empty", df!("x" => Vec::<f64>::new()).unwrap());
    let err = |d: Drift, r: &Dataset, c: &Dataset| {
        d.evaluate(&Side::data(r.clone()), &Side::data(c.clone()))
            .expect_err("must not pass")
            .to_string()
    };
    let e = err(Drift::columns(["y"]), &good, &good);
    assert!(e.contains("\"y\"") && e.contains("does not exist"), "{e}");
    let e = err(Drift::columns(["x"]), &good, &nan);
    assert!(e.contains("NaN") && e.contains("current nan"), "{e}");
    let e = err(Drift::columns(["x"]), &good, &empty);
    assert!(e.contains("no rows") && e.contains("\"x\""), "{e}");
    let e = err(Drift::columns(Vec::<String>::new()), &good, &good);
    assert!(e.contains("no columns"), "{e}");
}

/// `mltest profile`: new → written; changed → `.new` + exit 1 and the
/// committed file untouched; `accept` (or MLTEST_UPDATE=1) → replaced.
#[test]
fn profile_cli_never_accepts_a_change_silently() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("train.csv");
    let out = dir.path().join("train.profile.json");
    let run = |update: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mltest"));
        cmd.args(["profile", "write"])
            .arg(&csv)
            .arg("--out")
            .arg(&out)
            .args(["--numeric", "age", "--categorical", "dept"])
            .env_remove("MLTEST_UPDATE");
        if update {
            cmd.env("MLTEST_UPDATE", "1");
        }
        cmd.output().expect("mltest runs")
    };
    std::fs::write(&csv, "age,dept\n30,Tops\n41,Dresses\n30,Tops\n").unwrap();
    let first = run(false);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let committed = std::fs::read_to_string(&out).unwrap();
    assert!(
        run(false).status.success(),
        "unchanged data: nothing to review"
    );

    std::fs::write(&csv, "age,dept\n30,Tops\n41,Dresses\n55,Tops\n").unwrap();
    let changed = run(false);
    let stderr = String::from_utf8_lossy(&changed.stderr);
    assert_eq!(changed.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("column \"age\"") && !stderr.contains("column \"dept\""),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        committed,
        "the committed file is untouched"
    );
    let pending = dir.path().join("train.profile.json.new");
    assert!(pending.exists());

    let accept = std::process::Command::new(env!("CARGO_BIN_EXE_mltest"))
        .args(["profile", "accept"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(accept.status.success());
    assert!(!pending.exists());
    assert!(std::fs::read_to_string(&out).unwrap().contains("55.0"));

    std::fs::write(&csv, "age,dept\n30,Tops\n41,Dresses\n60,Tops\n").unwrap();
    assert!(run(true).status.success(), "MLTEST_UPDATE=1 accepts");
    assert!(std::fs::read_to_string(&out).unwrap().contains("60.0"));
}

/// A missing or garbled profile is an error that names the file.
#[test]
fn a_bad_profile_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.profile.json");
    let e = Profile::load(&missing).unwrap_err().to_string();
    assert!(
        e.contains("nope.profile.json") && e.contains("cannot read"),
        "{e}"
    );
    let garbled = dir.path().join("garbled.profile.json");
    std::fs::write(&garbled, "{ \"format\": 1, ").unwrap();
    let e = Profile::load(&garbled).unwrap_err().to_string();
    assert!(
        e.contains("garbled.profile.json") && e.contains("not a valid profile"),
        "{e}"
    );
}
