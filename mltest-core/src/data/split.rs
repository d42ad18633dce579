//! The seeded train/test split of a frame's rows.

use polars::prelude::*;

use crate::rng::SplitMix64;

/// A seeded split of the rows into (train, test), `test_fraction` of them
/// (rounded) in the second part: the rows are shuffled with
/// [`SplitMix64`] from `seed`, so the same seed gives the same split on any
/// machine.
///
/// ```
/// use mltest_core::data::train_test_split;
/// use polars::prelude::*;
/// let frame = df!("x" => (0..100).collect::<Vec<i32>>()).unwrap();
/// let (train, test) = train_test_split(&frame, 7, 0.2).unwrap();
/// assert_eq!((train.height(), test.height()), (80, 20));
/// let (again, _) = train_test_split(&frame, 7, 0.2).unwrap();
/// assert!(train.equals(&again));
/// ```
pub fn train_test_split(
    frame: &DataFrame,
    seed: u64,
    test_fraction: f64,
) -> PolarsResult<(DataFrame, DataFrame)> {
    let (train, test) = split_rows(frame.height(), seed, test_fraction);
    let take = |ix: Vec<IdxSize>| frame.take(&IdxCa::from_vec("idx".into(), ix));
    Ok((take(train)?, take(test)?))
}

/// The row numbers of [`train_test_split`]'s two parts, in their order
/// (what a peer needs to fit on the same split).
///
/// ```
/// use mltest_core::data::split_rows;
/// let (train, test) = split_rows(10, 7, 0.2);
/// assert_eq!((train.len(), test.len()), (8, 2));
/// let mut all: Vec<u32> = train.iter().chain(&test).copied().collect();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<u32>>());
/// ```
pub fn split_rows(n: usize, seed: u64, test_fraction: f64) -> (Vec<IdxSize>, Vec<IdxSize>) {
    let mut idx: Vec<IdxSize> = (0..n as IdxSize).collect();
    SplitMix64::new(seed).shuffle(&mut idx);
    let cut = n - ((n as f64) * test_fraction).round() as usize;
    let test = idx.split_off(cut);
    (idx, test)
}
