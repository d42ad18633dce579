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

/// The committed profile of General (the real data's, reviewed).
fn general_profile() -> Result<Profile, mltest::drift::profile::ProfileError> {
    Profile::load(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(PROFILE))
}

/// The reference of the no-drift comparison: the committed profile on the
/// real data. Without the real file (a fresh clone without `../shared`) it is
/// a profile of the stand-in's own General, whose divisions the generator
/// draws alike, so the test still runs the machinery (the stand-in is named
/// on stderr) instead of comparing generated rows with the real profile.
fn general_reference() -> Fixture<Profile> {
    if !mltest::data::reviews::is_real() {
        let general = division("General")?;
        return Ok(Profile::build(
            &general,
            &profiled_columns(),
            &["Department Name"],
        )?);
    }
    Ok(general_profile()?)
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
fn petite_division_matches_general_profile(
    general_reference: &Side,
    general_petite: &Side,
) -> Drift {
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
    // The committed profile is the real data's: on the stand-in it would differ.
    if mltest::prereq::real_reviews().is_none() {
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
            &Side::profile(general_reference().expect("profile")),
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

/// A profile's identity is the data's content and how it was read, never
/// the path it was reached by (issue 16, item 4): the same bytes under
/// another path (a copy, another checkout, `MLTEST_REVIEWS_CSV`) are the
/// committed snapshot, and the committed file is left alone; changed bytes,
/// or the same bytes read with other load options, are a change to review.
#[test]
fn profile_identity_is_the_content_not_the_path() {
    use mltest::drift::profile::ProfileError;
    if std::env::var_os("MLTEST_UPDATE").is_some() {
        eprintln!("skipped: MLTEST_UPDATE accepts every change, so nothing can be reviewed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let original = dir.path().join("export").join("reviews.csv");
    let copy = dir.path().join("elsewhere").join("copy.csv");
    std::fs::create_dir_all(original.parent().unwrap()).unwrap();
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    ReviewsSpec::new(600, 16)
        .write_csv(&original)
        .expect("generated reviews as CSV");
    std::fs::copy(&original, &copy).unwrap();
    let columns = [
        ("Age", ColumnKind::Numeric),
        ("Department Name", ColumnKind::Categorical),
        ("Review Text", ColumnKind::Text),
    ];
    let profile = |csv: &std::path::Path, options: LoadOptions| {
        let src = DataSource::csv(csv).named("reviews").with_options(options);
        let general = mltest::data::load_cached(&src)
            .expect("load")
            .rows_where("Division Name", "General")
            .expect("filter");
        Profile::build(&general, &columns, &["Department Name"]).expect("profile")
    };
    let out = dir.path().join("general.profile.json");
    let pending = mltest::drift::profile::pending_path(&out);
    assert_eq!(
        profile(&original, LoadOptions::default())
            .write_reviewed(&out, false)
            .unwrap(),
        Review::Written
    );
    let committed = std::fs::read_to_string(&out).unwrap();
    assert!(committed.contains("export/reviews.csv where Division Name == General"));

    // The same bytes by another path: current, and the file is untouched.
    let by_copy = profile(&copy, LoadOptions::default());
    assert_ne!(
        by_copy.data.origin,
        profile(&original, LoadOptions::default()).data.origin
    );
    match by_copy.write_reviewed(&out, false) {
        Ok(review) => assert_eq!(review, Review::Unchanged),
        Err(e) => panic!("the same content by another path must be current: {e}"),
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), committed);
    assert!(!pending.exists());

    // Changed content (one age), by yet another path: a change to review.
    let edited = dir.path().join("elsewhere").join("edited.csv");
    let text = std::fs::read_to_string(&copy).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let age = header.iter().position(|c| *c == "Age").expect("Age column");
    let division = header
        .iter()
        .position(|c| *c == "Division Name")
        .expect("Division Name column");
    let row = (1..lines.len())
        .find(|&i| {
            let f: Vec<&str> = lines[i].split(',').collect();
            f.len() == header.len() && f[division] == "General" && f[age].parse::<f64>().is_ok()
        })
        .expect("a plain General row");
    let mut fields: Vec<String> = lines[row].split(',').map(String::from).collect();
    fields[age] = "97".into();
    lines[row] = fields.join(",");
    std::fs::write(&edited, lines.join("\n") + "\n").unwrap();
    match profile(&edited, LoadOptions::default()).write_reviewed(&out, false) {
        Err(ProfileError::Changed { changes, .. }) => {
            assert!(changes.contains("data:"), "{changes}");
            assert!(changes.contains("column \"Age\""), "{changes}");
            assert!(!changes.contains("column \"Department Name\""), "{changes}");
        }
        other => panic!("changed content must be reviewed: {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), committed);
    assert!(pending.exists());

    // The same bytes read with other load options: a change too.
    let other_options = LoadOptions::default().null_tokens(["", "NA"]);
    match profile(&copy, other_options).write_reviewed(&out, false) {
        Err(ProfileError::Changed { changes, .. }) => {
            assert!(changes.contains("load options"), "{changes}");
            assert!(changes.contains("\"NA\""), "{changes}");
        }
        other => panic!("other load options must be reviewed: {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), committed);
}

/// A format-1 profile (before the load options joined the identity) is
/// still read, and reviewing it says the format changed.
#[test]
fn a_format_1_profile_is_read_and_its_upgrade_reviewed() {
    use mltest::drift::profile::ProfileError;
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "age,dept\n30,Tops\n41,Dresses\n30,Tops\n").unwrap();
    let data = mltest::data::load_cached(&DataSource::csv(&csv)).expect("load");
    let columns = [
        ("age", ColumnKind::Numeric),
        ("dept", ColumnKind::Categorical),
    ];
    let current = Profile::build(&data, &columns, &[]).expect("profile");
    assert_eq!(current.format, mltest::drift::profile::FORMAT);
    assert_eq!(current.load.as_ref(), Some(&LoadOptions::default()));
    // What format 1 wrote: no `load`.
    let mut v1: serde_json::Value = serde_json::from_str(&current.to_text()).unwrap();
    v1["format"] = 1.into();
    v1.as_object_mut().unwrap().remove("load");
    let path = dir.path().join("old.profile.json");
    std::fs::write(&path, serde_json::to_string_pretty(&v1).unwrap()).unwrap();
    let old = Profile::load(&path).expect("format 1 is read");
    assert_eq!((old.format, old.load.as_ref()), (1, None));
    assert_eq!(old.columns, current.columns);
    let report = Drift::columns(["age", "dept"])
        .evaluate(&Side::profile(old), &Side::data(data.clone()))
        .expect("a format-1 reference compares");
    assert!(!report.dataset_drifted);
    if std::env::var_os("MLTEST_UPDATE").is_none() {
        match current.write_reviewed(&path, false) {
            Err(ProfileError::Changed { changes, .. }) => {
                assert!(changes.contains("format 1 → 2"), "{changes}");
                assert!(!changes.contains("column \""), "{changes}");
            }
            other => panic!("the upgrade is reviewed: {other:?}"),
        }
    }
    // A format from the future is a clear error naming the file.
    v1["format"] = 99.into();
    let future = dir.path().join("future.profile.json");
    std::fs::write(&future, serde_json::to_string(&v1).unwrap()).unwrap();
    let e = Profile::load(&future).unwrap_err().to_string();
    assert!(
        e.contains("future.profile.json")
            && e.contains("format 99")
            && e.contains("formats 1 to 2"),
        "{e}"
    );
}

/// Every figure a column comparison reports is readable through a public
/// accessor (issue 16, item 9), and each equals the figure in the record
/// (the serialised report a drift record carries) and a direct
/// `mltest::stats` computation on the raw values.
#[test]
fn column_drift_figures_are_public_and_match_the_record_and_stats() {
    use mltest::stats;
    use polars::prelude::*;
    let reference = Dataset::from_frame("train", ReviewsSpec::new(1_500, 3).generate().unwrap());
    let current = Dataset::from_frame(
        "today",
        ReviewsSpec::new(1_200, 4)
            .age(49.0, 10.0)
            .null_rate("Age", None, 0.05)
            .generate()
            .unwrap(),
    );
    let report = Drift::columns(["Age", "Department Name"])
        .text(["Review Text"])
        .evaluate(&Side::data(reference.clone()), &Side::data(current.clone()))
        .expect("drift");
    let record = serde_json::to_value(&report).expect("the record's report");
    // A figure of the record: a field of the column, or an entry of its
    // `extra` list; JSON writes a non-finite figure as null (`None`).
    let in_record = |column: &str, key: &str| -> Option<f64> {
        let c = record["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["column"] == column)
            .expect("column in the record");
        let v = match c.get(key) {
            Some(v) => v,
            None => c["extra"]
                .as_array()
                .unwrap()
                .iter()
                .find(|kv| kv[0] == key)
                .map(|kv| &kv[1])
                .unwrap_or_else(|| panic!("{column}: no {key} in the record")),
        };
        v.as_f64()
    };
    let values = |d: &Dataset, column: &str| -> Vec<f64> {
        d.frame()
            .column(column)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .flatten()
            .collect()
    };

    // Numeric: KS, raw and normalised Wasserstein, against the raw values.
    let age = report.column("Age").expect("Age");
    let (r, c) = (values(&reference, "Age"), values(&current, "Age"));
    let ks = stats::ks_2samp(&r, &c).expect("ks");
    assert_eq!(age.test(), "KS");
    assert!(
        (age.statistic() - ks.statistic).abs() < 1e-12,
        "{} vs {}",
        age.statistic(),
        ks.statistic
    );
    assert_eq!(age.ks_statistic(), Some(age.statistic()));
    assert!(
        (age.p_value() - ks.p_value).abs() <= 1e-12 * ks.p_value.max(1e-300),
        "{} vs {}",
        age.p_value(),
        ks.p_value
    );
    let w = stats::wasserstein(&r, &c);
    let raw = age.wasserstein().expect("raw Wasserstein");
    assert!((raw - w).abs() < 1e-9, "{raw} vs {w}");
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
    let normalised = age.normalised_wasserstein().expect("normalised");
    assert!(
        (normalised - w / sd).abs() < 1e-9,
        "{normalised} vs {}",
        w / sd
    );
    assert_eq!(normalised, age.effect());
    assert_eq!(
        (age.chi_square(), age.chi_square_dof(), age.jensen_shannon()),
        (None, None, None)
    );
    assert_eq!(age.oov_rate(), None);
    let nulls = current.frame().column("Age").unwrap().null_count() as u64;
    assert!(nulls > 0);
    assert_eq!(
        (
            age.reference_rows(),
            age.current_rows(),
            age.reference_nulls(),
            age.current_nulls()
        ),
        (r.len() as u64, c.len() as u64, 0, nulls)
    );
    assert!(age.drifted(), "{}", report.render());

    // Categorical: chi-square, Jensen–Shannon and PSI from the counts.
    let dept = report.column("Department Name").expect("dept");
    let counts = |d: &Dataset| -> std::collections::BTreeMap<String, f64> {
        let mut m = std::collections::BTreeMap::new();
        for v in d
            .frame()
            .column("Department Name")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
        {
            *m.entry(v.to_string()).or_insert(0.0) += 1.0;
        }
        m
    };
    let (rc, cc) = (counts(&reference), counts(&current));
    let cats: std::collections::BTreeSet<&String> = rc.keys().chain(cc.keys()).collect();
    let row = |m: &std::collections::BTreeMap<String, f64>| -> Vec<f64> {
        cats.iter()
            .map(|k| m.get(*k).copied().unwrap_or(0.0))
            .collect()
    };
    let (chi2, p, dof) = stats::chi2_homogeneity(&[row(&rc), row(&cc)]);
    assert_eq!(dept.test(), "chi-square");
    assert_eq!(
        (dept.chi_square(), dept.chi_square_dof()),
        (Some(chi2), Some(dof as u32))
    );
    assert_eq!(dept.p_value(), p);
    assert_eq!(
        dept.jensen_shannon(),
        Some(stats::jensen_shannon(&row(&rc), &row(&cc)))
    );
    assert_eq!(dept.psi(), stats::psi(&row(&rc), &row(&cc)));
    assert_eq!(
        (
            dept.ks_statistic(),
            dept.wasserstein(),
            dept.normalised_wasserstein()
        ),
        (None, None, None)
    );

    // Text: the vocabulary figures exist and are in [0, 1].
    let text = report.column("Review Text").expect("text");
    for (what, v) in [
        ("oov rate", text.oov_rate()),
        ("rare rate", text.reference_rare_rate()),
    ] {
        let v = v.unwrap_or_else(|| panic!("{what}"));
        assert!((0.0..=1.0).contains(&v), "{what} {v}");
    }
    assert_eq!(
        text.oov_rise(),
        Some(text.oov_rate().unwrap() - text.reference_rare_rate().unwrap())
    );
    assert_eq!(
        text.max_oov_rise(),
        Some(mltest::drift::DEFAULT_MAX_OOV_RISE)
    );
    assert!(text.vocabulary_size().is_some_and(|v| v > 0));
    assert!(text.wasserstein().is_some() && text.ks_statistic().is_some());

    // Every accessor equals the record's figure.
    for c in &report.columns {
        let name = c.name();
        let (low, high) = c.effect_interval();
        let mut figures = vec![
            ("statistic", c.statistic()),
            ("p_value", c.p_value()),
            ("p_adjusted", c.p_adjusted()),
            ("effect", c.effect()),
            ("effect_low", low),
            ("effect_high", high),
            ("min_effect", c.min_effect()),
            (
                "smallest_significant_effect",
                c.smallest_significant_effect(),
            ),
            ("psi", c.psi()),
            ("reference_rows", c.reference_rows() as f64),
            ("current_rows", c.current_rows() as f64),
            ("reference_nulls", c.reference_nulls() as f64),
            ("current_nulls", c.current_nulls() as f64),
        ];
        for (key, v) in [
            ("wasserstein", c.wasserstein()),
            ("oov_rate", c.oov_rate()),
            ("reference_rare_rate", c.reference_rare_rate()),
            ("oov_rise", c.oov_rise()),
            ("max_oov_rise", c.max_oov_rise()),
            ("vocabulary", c.vocabulary_size().map(|v| v as f64)),
        ] {
            if let Some(v) = v {
                figures.push((key, v));
            }
        }
        for (key, v) in figures {
            assert_eq!(
                in_record(name, key),
                v.is_finite().then_some(v),
                "{name}: {key}"
            );
        }
        assert!(c.p_adjusted() >= c.p_value(), "{name}");
        assert!(!c.why().is_empty() && !c.effect_name().is_empty());
        let _ = c.power();
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
    let run_on = |csv: &std::path::Path, update: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mltest"));
        cmd.args(["profile", "write"])
            .arg(csv)
            .arg("--out")
            .arg(&out)
            .args(["--numeric", "age", "--categorical", "dept"])
            .env_remove("MLTEST_UPDATE");
        if update {
            cmd.env("MLTEST_UPDATE", "1");
        }
        cmd.output().expect("mltest runs")
    };
    let run = |update: bool| run_on(&csv, update);
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
    // The same bytes by another path: up to date, the file untouched.
    let copy = dir.path().join("copy").join("train.csv");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&csv, &copy).unwrap();
    let moved = run_on(&copy, false);
    assert!(
        moved.status.success() && String::from_utf8_lossy(&moved.stdout).contains("up to date"),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), committed);

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
