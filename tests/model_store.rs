//! The model store: ids, aliases and their history, integrity, malformed
//! files, atomicity under threads, processes and SIGKILL, the schema guard,
//! and the CLI. Every test uses a temporary store; none writes model_store/.

use std::path::Path;
use std::process::Command;

use mltest::DType;
use mltest::store::{
    Card, InputColumn, ModelStore, OutputSchema, Promote, RecordedCheck, StoreError, Tensor,
    Tensors,
};
use polars::prelude::*;

fn card() -> Card {
    let mut c = Card::new(OutputSchema::binary("y", ["0", "1"], "1"));
    c.inputs = vec![
        InputColumn {
            name: "Age".into(),
            dtype: DType::Integer,
            categories: None,
            range: Some((18.0, 99.0)),
            nullable: false,
            std: None,
        },
        InputColumn {
            name: "Department Name".into(),
            dtype: DType::Text,
            categories: Some(vec!["Tops".into(), "Dresses".into()]),
            range: None,
            nullable: true,
            std: None,
        },
    ];
    c.metrics.insert("accuracy".into(), 0.9);
    c
}

fn tensors(seed: f64) -> Tensors {
    let mut t = Tensors::new();
    t.insert(
        "w".into(),
        Tensor::f64(vec![2, 2], &[seed, 1.0, -2.5, 3.25]),
    );
    t.insert("b".into(), Tensor::f64(vec![1], &[0.125]));
    t
}

fn all_verify(store: &ModelStore) -> usize {
    let results = store.verify(None).unwrap();
    for (id, r) in &results {
        assert!(r.is_ok(), "{id}: {r:?}");
    }
    results.len()
}

#[test]
fn versions_increase_and_load_by_version_alias_and_sha_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    assert_eq!(store.save("m", card(), &tensors(1.0)).unwrap(), "m@1");
    assert_eq!(store.save("m", card(), &tensors(2.0)).unwrap(), "m@2");
    assert_eq!(
        store.save("other", card(), &tensors(3.0)).unwrap(),
        "other@1"
    );
    let m2 = store.load("m@2").unwrap();
    assert_eq!(m2.tensors, tensors(2.0));
    assert_eq!((m2.card.name.as_str(), m2.card.version), ("m", 2));
    assert_eq!(m2.card.inputs, card().inputs);
    assert!(!m2.card.dependencies.crates.is_empty());
    assert!(
        m2.card.dependencies.crates.contains_key("polars"),
        "crates: {:?}",
        m2.card
            .dependencies
            .crates
            .keys()
            .take(5)
            .collect::<Vec<_>>()
    );
    assert!(m2.card.dependencies.rustc.starts_with("rustc "));

    let by_sha = store
        .load(&format!("m@sha256:{}", &m2.sha256[..10]))
        .unwrap();
    assert_eq!(by_sha.card.version, 2);

    let list = store.list(None).unwrap();
    let ids: Vec<String> = list
        .iter()
        .map(|v| format!("{}@{}", v.name, v.version))
        .collect();
    assert_eq!(ids, ["m@1", "m@2", "other@1"]);
    assert_eq!(list[1].sha256, m2.sha256);
    assert_eq!(list[1].metrics.get("accuracy"), Some(&0.9));
    assert_eq!(all_verify(&store), 3);
}

#[test]
fn unknown_ids_list_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    store.save("m", card(), &tensors(1.0)).unwrap();
    store.save("m", card(), &tensors(2.0)).unwrap();
    let e = store.load("m@7").unwrap_err().to_string();
    assert_eq!(e, "m@7: no such version; versions of \"m\": 1, 2");
    let e = store.load("m@champion").unwrap_err().to_string();
    assert_eq!(
        e,
        "m@champion: no alias \"champion\"; aliases of \"m\": none; versions: 1, 2"
    );
    let e = store.load("nope@1").unwrap_err().to_string();
    assert!(e.starts_with("no model named \"nope\""), "{e}");
    assert!(e.ends_with("models: m"), "{e}");
}

#[test]
fn names_and_ids_cannot_escape_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    for bad in ["../evil", "a/b", "..", ".hidden", "", "sp ace"] {
        let e = store.save(bad, card(), &tensors(1.0)).unwrap_err();
        assert!(matches!(e, StoreError::InvalidName { .. }), "{bad:?}: {e}");
    }
    for bad in ["m", "m@", "../x@1", "m@sha256:zz", "m@sha256:ab", "m@a/b"] {
        assert!(store.load(bad).is_err(), "{bad:?} must be refused");
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written for bad names"
    );
}

#[test]
fn promotion_is_gated_by_recorded_checks_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    store.save("m", card(), &tensors(1.0)).unwrap();
    store.save("m", card(), &tensors(2.0)).unwrap();
    let e = store
        .promote("m@1", "champion", Promote::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no data_gate result recorded, no evaluation result recorded, no robustness result recorded"), "{e}");
    let e = store
        .promote(
            "m@1",
            "champion",
            Promote {
                force: true,
                reason: None,
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("--force needs a non-empty --reason"), "{e}");

    for kind in ["data_gate", "evaluation", "robustness"] {
        let check = RecordedCheck {
            kind: kind.into(),
            passed: true,
            summary: "ok".into(),
            time: "t".into(),
        };
        store.record_check("m@1", check).unwrap();
    }
    let m = store
        .promote("m@1", "champion", Promote::default())
        .unwrap();
    assert_eq!((m.from, m.to, m.forced), (None, 1, false));
    assert_eq!(m.checks.len(), 3);
    assert_eq!(store.load("m@champion").unwrap().card.version, 1);

    store
        .record_check(
            "m@2",
            RecordedCheck {
                kind: "robustness".into(),
                passed: false,
                summary: "flip rate 0.2".into(),
                time: "t".into(),
            },
        )
        .unwrap();
    let e = store
        .promote("m@2", "champion", Promote::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("robustness failed"), "{e}");
    let m = store
        .promote(
            "m@2",
            "champion",
            Promote {
                force: true,
                reason: Some("hotfix, robustness known".into()),
            },
        )
        .unwrap();
    assert_eq!((m.from, m.to, m.forced), (Some(1), 2, true));
    assert_eq!(m.checks.get("robustness"), Some(&false));

    let back = store.rollback("m", "champion").unwrap();
    assert_eq!((back.from, back.to), (Some(2), 1));
    assert_eq!(store.load("m@champion").unwrap().card.version, 1);
    // Rolled back past the first promotion: nothing earlier to go to.
    let e = store.rollback("m", "champion").unwrap_err().to_string();
    assert_eq!(
        e,
        "alias \"champion\" of \"m\" has no previous target to roll back to"
    );

    let history = store.history("m").unwrap();
    let summary: Vec<(String, Option<u64>, u64)> = history
        .iter()
        .map(|h| (h.action.to_string(), h.from, h.to))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("promote".into(), None, 1),
            ("promote".into(), Some(1), 2),
            ("rollback".into(), Some(2), 1)
        ]
    );
    assert_eq!(
        history[1].reason.as_deref(),
        Some("hotfix, robustness known")
    );
}

#[test]
fn a_flipped_byte_is_an_integrity_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    store.save("m", card(), &tensors(1.0)).unwrap();
    let path = store.path_of("m", 1);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let e = store.load("m@1").unwrap_err();
    assert!(matches!(e, StoreError::Integrity { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("integrity error: {}", path.display())),
        "{e}"
    );
    let results = store.verify(None).unwrap();
    assert!(results[0].1.is_err());
}

/// Builds a safetensors file by hand, then records its sha as the store would,
/// so only the structural checks stand between it and a load.
fn plant(store: &ModelStore, dir: &Path, bytes: &[u8]) -> StoreError {
    let vdir = dir.join("m").join("1");
    std::fs::create_dir_all(&vdir).unwrap();
    std::fs::write(vdir.join("model.safetensors"), bytes).unwrap();
    let sha = sha256_hex(bytes);
    std::fs::write(
        vdir.join("model.safetensors.sha256"),
        format!("{sha}  model.safetensors\n"),
    )
    .unwrap();
    store.load("m@1").unwrap_err()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2_check::digest;
    digest(bytes)
}

/// sha256 via the `sha256sum` binary, independent of the crate under test.
mod sha2_check {
    pub fn digest(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, bytes).unwrap();
        let out = std::process::Command::new("sha256sum")
            .arg(&p)
            .output()
            .expect("sha256sum");
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }
}

fn file_with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn malformed_files_are_clear_errors_never_panics() {
    let card = serde_json::to_string(
        &serde_json::to_string(&{
            let mut c = card();
            c.name = "m".into();
            c.version = 1;
            c
        })
        .unwrap(),
    )
    .unwrap();
    let meta = format!(r#""__metadata__":{{"mltest.card":{card}}}"#);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated length",
            vec![1, 2, 3],
            "shorter than the 8-byte header length",
        ),
        (
            "length past the end",
            {
                let mut v = 5000u64.to_le_bytes().to_vec();
                v.extend_from_slice(b"{}");
                v
            },
            "runs past the end",
        ),
        (
            "oversized header",
            (1u64 << 40).to_le_bytes().to_vec(),
            "exceeds the 16777216-byte cap",
        ),
        (
            "header not JSON",
            file_with_header("{not json", &[]),
            "JSON",
        ),
        (
            "no card",
            file_with_header(
                r#"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#,
                &[0; 8],
            ),
            "no \"mltest.card\"",
        ),
        (
            "offsets out of bounds",
            file_with_header(
                &format!(r#"{{{meta},"w":{{"dtype":"F64","shape":[1],"data_offsets":[0,16]}}}}"#),
                &[0; 8],
            ),
            "corrupt model file",
        ),
        (
            "overlapping offsets",
            file_with_header(
                &format!(
                    r#"{{{meta},"a":{{"dtype":"F64","shape":[1],"data_offsets":[0,8]}},"b":{{"dtype":"F64","shape":[1],"data_offsets":[4,12]}}}}"#
                ),
                &[0; 12],
            ),
            "corrupt model file",
        ),
        (
            "dtype/shape mismatch",
            file_with_header(
                &format!(r#"{{{meta},"w":{{"dtype":"F64","shape":[3],"data_offsets":[0,8]}}}}"#),
                &[0; 8],
            ),
            "corrupt model file",
        ),
    ];
    for (what, bytes, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::open(dir.path());
        let e = plant(&store, dir.path(), &bytes);
        let msg = e.to_string();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{what}: {msg}");
        assert!(msg.contains(expect), "{what}: {msg}");
        assert!(
            msg.contains("model.safetensors"),
            "{what}: error must name the file: {msg}"
        );
    }
}

#[test]
fn data_that_lacks_an_input_or_changed_type_is_refused() {
    let c = {
        let mut c = card();
        c.name = "m".into();
        c.version = 3;
        c
    };
    let ok = df!("Age" => [30i64], "Department Name" => ["Tops"], "extra" => [1.0]).unwrap();
    assert!(c.check_input(&ok).is_ok());
    let missing = df!("Age" => [30i64]).unwrap();
    let e = c.check_input(&missing).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "input does not match the schema of m@3: column \"Department Name\" is missing"
        ),
        "{e}"
    );
    let retyped = df!("Age" => ["thirty"], "Department Name" => ["Tops"]).unwrap();
    let e = c.check_input(&retyped).unwrap_err().to_string();
    assert!(
        e.contains("column \"Age\" is text (str), but the model was trained on integer"),
        "{e}"
    );
}

#[test]
fn eight_threads_saving_25_versions_each_get_distinct_complete_versions() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                s.spawn(move || {
                    (0..25)
                        .map(|i| {
                            store
                                .save("m", card(), &tensors((t * 100 + i) as f64))
                                .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut versions: Vec<u64> = ids
        .iter()
        .map(|id| id.trim_start_matches("m@").parse().unwrap())
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=200).collect::<Vec<u64>>());
    assert_eq!(all_verify(&store), 200);
}

/// Child mode: save N versions into the store named by the environment.
/// Run by the process tests below; ignored when run directly.
#[test]
#[ignore = "helper: run as a child process by the tests below"]
fn store_child_saver() {
    let Ok(root) = std::env::var("MLTEST_CHILD_STORE") else {
        return;
    };
    let n: usize = std::env::var("MLTEST_CHILD_SAVES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let store = ModelStore::open(root);
    // Larger tensors make the write window wide enough for kills to land in it.
    let mut big = Tensors::new();
    big.insert("w".into(), Tensor::f64(vec![200_000], &vec![0.5; 200_000]));
    for _ in 0..n {
        store.save("m", card(), &big).unwrap();
    }
}

fn child(root: &Path, saves: usize) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--ignored", "--exact", "store_child_saver", "--nocapture"])
        .env("MLTEST_CHILD_STORE", root)
        .env("MLTEST_CHILD_SAVES", saves.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c
}

#[test]
fn four_processes_saving_at_once_get_distinct_complete_versions() {
    let dir = tempfile::tempdir().unwrap();
    let mut kids: Vec<_> = (0..4)
        .map(|_| child(dir.path(), 10).spawn().unwrap())
        .collect();
    for k in kids.iter_mut() {
        assert!(k.wait().unwrap().success());
    }
    let store = ModelStore::open(dir.path());
    assert_eq!(store.versions("m").unwrap(), (1..=40).collect::<Vec<u64>>());
    assert_eq!(all_verify(&store), 40);
}

#[test]
fn sigkill_during_save_leaves_every_version_complete_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = mltest::rng::SplitMix64::new(42);
    let mut killed_mid_run = 0;
    let mut interrupted_saves = 0;
    for _ in 0..60 {
        let mut kid = child(dir.path(), 1_000).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5 + rng.below(60) as u64));
        // SIGKILL: no destructor, no unwinding, no chance to clean up.
        kid.kill().unwrap();
        let status = kid.wait().unwrap();
        if !status.success() {
            killed_mid_run += 1;
        }
        // A staging directory left behind is a save the kill interrupted.
        let staged = std::fs::read_dir(dir.path().join("m"))
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with(".staging-"))
            })
            .unwrap_or(false);
        interrupted_saves += usize::from(staged);
        let store = ModelStore::open(dir.path());
        all_verify(&store);
    }
    assert!(
        killed_mid_run >= 50,
        "only {killed_mid_run} of 60 children were killed mid-run"
    );
    let saved = ModelStore::open(dir.path()).versions("m").unwrap().len();
    eprintln!(
        "{killed_mid_run} kills, {interrupted_saves} inside a save, {saved} complete versions"
    );
    assert!(
        saved >= 10,
        "children saved only {saved} versions: kills landed before any save"
    );
    assert!(
        interrupted_saves >= 5,
        "only {interrupted_saves} kills landed inside a save"
    );
    // The store keeps working after all that: the next save succeeds.
    let store = ModelStore::open(dir.path());
    let before = store.versions("m").unwrap().last().copied().unwrap_or(0);
    assert_eq!(
        store.save("m", card(), &tensors(1.0)).unwrap(),
        format!("m@{}", before + 1)
    );
    all_verify(&store);
}

fn cli(root: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mltest"))
        .arg("--store")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_cli_lists_shows_promotes_rolls_back_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    store.save("m", card(), &tensors(1.0)).unwrap();
    store.save("m", card(), &tensors(2.0)).unwrap();

    let out = cli(dir.path(), &["models", "list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().nth(1).unwrap().starts_with("m@1"), "{text}");
    let out = cli(dir.path(), &["models", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[1]["version"], 2);

    let out = cli(dir.path(), &["models", "show", "m@2"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("output:    y — binary classifier (classes 0, 1; probability of \"1\")"),
        "{shown}"
    );
    // The card of a plain `store.save` names no model type.
    assert!(shown.contains("kind:      (none recorded)"), "{shown}");

    let out = cli(
        dir.path(),
        &["models", "promote", "m@1", "--alias", "champion"],
    );
    assert!(!out.status.success(), "ungated promotion must fail");
    let out = cli(
        dir.path(),
        &[
            "models", "promote", "m@1", "--alias", "champion", "--force", "--reason", "test",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cli(
        dir.path(),
        &[
            "models", "promote", "m@2", "--alias", "champion", "--force", "--reason", "test",
        ],
    );
    let out = cli(
        dir.path(),
        &["models", "rollback", "m", "--alias", "champion"],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "m@champion: 2 → 1 (rolled back)"
    );

    let out = cli(dir.path(), &["models", "verify"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 verified, 0 failed"));

    let path = store.path_of("m", 2);
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.len() - 1;
    bytes[i] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let out = cli(dir.path(), &["models", "verify"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("FAILED  m@2: integrity error: {}", path.display())),
        "{text}"
    );

    let out = cli(dir.path(), &["models", "show", "m@9"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("versions of \"m\": 1, 2"));
}

/// The committed store holds a verifiable model whose card Python can read too
/// (`tests/interop/read_model.py`, run by .ci/run).
#[test]
fn the_committed_store_verifies() {
    let store = ModelStore::open("model_store");
    let results = store.verify(None).unwrap();
    assert!(!results.is_empty(), "model_store/ holds no model");
    for (id, r) in results {
        assert!(r.is_ok(), "{id}: {r:?}");
    }
}
