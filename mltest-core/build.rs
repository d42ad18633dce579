//! Captures, at build time, what a model card records as the producing
//! code's dependencies: the crates compiled with mltest-core (the closure of
//! its dependencies in the workspace's Cargo.lock) and the rustc version.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn find_lock() -> Option<PathBuf> {
    let starts = [
        std::env::var_os("CARGO_MANIFEST_DIR"),
        std::env::var_os("OUT_DIR"),
    ];
    for start in starts.into_iter().flatten() {
        for dir in Path::new(&start).ancestors() {
            let lock = dir.join("Cargo.lock");
            if lock.exists() {
                return Some(lock);
            }
        }
    }
    None
}

/// `[[package]]` entries: name → (version, dependency names).
fn parse_lock(text: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut out = BTreeMap::new();
    for block in text.split("[[package]]").skip(1) {
        let mut name = None;
        let mut version = None;
        let mut deps = Vec::new();
        let mut in_deps = false;
        for line in block.lines() {
            let line = line.trim();
            if let Some(v) = line.strip_prefix("name = ") {
                name = Some(v.trim_matches('"').to_string());
            } else if let Some(v) = line.strip_prefix("version = ") {
                version = Some(v.trim_matches('"').to_string());
            } else if line.starts_with("dependencies = [") {
                in_deps = !line.ends_with(']');
            } else if in_deps {
                if line == "]" {
                    in_deps = false;
                } else {
                    // "name", "name 1.2.3", or "name 1.2.3 (registry+...)"
                    let dep = line.trim_matches(|c| c == '"' || c == ',');
                    if let Some(n) = dep.split_whitespace().next() {
                        deps.push(n.to_string());
                    }
                }
            }
        }
        if let (Some(n), Some(v)) = (name, version) {
            // Several versions of one crate: keep every version, comma-joined.
            out.entry(n)
                .and_modify(|e: &mut (String, Vec<String>)| {
                    e.0 = format!("{},{v}", e.0);
                    e.1.extend(deps.clone());
                })
                .or_insert((v, deps));
        }
    }
    out
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut crates = BTreeMap::new();
    if let Some(lock) = find_lock() {
        println!("cargo:rerun-if-changed={}", lock.display());
        if let Ok(text) = std::fs::read_to_string(&lock) {
            let packages = parse_lock(&text);
            let mut todo = vec!["mltest-core".to_string()];
            let mut seen = BTreeSet::new();
            while let Some(p) = todo.pop() {
                if !seen.insert(p.clone()) {
                    continue;
                }
                if let Some((v, deps)) = packages.get(&p) {
                    crates.insert(p.clone(), v.clone());
                    todo.extend(deps.iter().cloned());
                }
            }
        }
    }
    let json = format!(
        "{{{}}}",
        crates
            .iter()
            .map(|(k, v)| format!("\"{k}\":\"{v}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    std::fs::write(out.join("crates.json"), json).expect("write crates.json");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    std::fs::write(out.join("rustc.txt"), version.trim()).expect("write rustc.txt");
}
