//! `real_reviews` is set when the real reviews file is on this machine
//! (`MLTEST_REVIEWS_CSV`, else `../shared/data/` beside the repository):
//! the tests whose thresholds are about real review text run only then,
//! and are listed as ignored, with the reason, on the generated stand-in.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(real_reviews)");
    println!("cargo::rerun-if-env-changed=MLTEST_REVIEWS_CSV");
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let shared = dir.join("../../../shared/data/womens_clothing_reviews.csv");
    println!("cargo::rerun-if-changed={}", shared.display());
    let real = std::env::var_os("MLTEST_REVIEWS_CSV")
        .map(std::path::PathBuf::from)
        .unwrap_or(shared);
    if real.exists() {
        println!("cargo::rustc-cfg=real_reviews");
    }
}
