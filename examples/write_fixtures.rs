//! Regenerates `fixtures/` from the seeded generator:
//! `cargo run --release --example write_fixtures`. A test checks that the
//! committed files equal the generator's output, so they cannot drift.

use mltest::data::generator::ReviewsSpec;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::path::Path::new("fixtures/reviews_sample.csv");
    std::fs::create_dir_all("fixtures")?;
    ReviewsSpec::sample_fixture().write_csv(path)?;
    println!("wrote {}", path.display());
    Ok(())
}
