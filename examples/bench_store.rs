//! Benchmark of the model store: save and load (sha256 verify + parse) of a
//! small and a 100 MB model, and `list` over 1,000 versions.
//!
//! `cargo run --release --example bench_store` (uses a temporary store).

use std::time::Instant;

use mltest::store::{Card, ModelStore, OutputSchema, Tensor, Tensors};

fn card() -> Card {
    Card::new(OutputSchema::binary("y", ["0", "1"], "1"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = ModelStore::open(dir.path());

    let mut small = Tensors::new();
    small.insert("w".into(), Tensor::f64(vec![1_054], &vec![0.25; 1_054]));
    small.insert("b".into(), Tensor::f64(vec![1], &[0.5]));
    let mut big = Tensors::new();
    let n = 100 * 1024 * 1024 / 8;
    big.insert(
        "w".into(),
        Tensor::f64(vec![n], &(0..n).map(|i| i as f64).collect::<Vec<_>>()),
    );

    let save_small = time(21, || store.save("small", card(), &small).expect("save"));
    let load_small = time(51, || store.load("small@1").expect("load"));
    let save_big = time(5, || store.save("big", card(), &big).expect("save"));
    let load_big = time(11, || store.load("big@1").expect("load"));

    for _ in 0..(1_000 - 21) {
        store.save("small", card(), &small)?;
    }
    let versions = store.list(Some("small"))?.len();
    let list = time(11, || store.list(None).expect("list"));

    println!("| operation | median ms |");
    println!("|---|---|");
    println!("| save small model (8.4 KB of tensors) | {save_small:.2} |");
    println!("| load small model (sha256 + parse) | {load_small:.3} |");
    println!("| save 100 MB model | {save_big:.1} |");
    println!("| load 100 MB model (sha256 + parse) | {load_big:.1} |");
    println!(
        "| list {} versions ({versions} of one model + 5 of another) | {list:.1} |",
        versions + 5
    );
    Ok(())
}
