//! Robustness: perturbations as proptest strategies, the flip-rate runner,
//! and what a generated `#[robustness]` test calls.

mod perturb;
mod runner;
mod slices;

pub use perturb::{
    Cell, NoiseScale, Op, Perturb, Step, TextEdit, TypoKind, append, case_change, drop_word,
    duplicate_word, extra_whitespace, noise, noise_std, strip_punctuation, typos,
};
pub use runner::{
    Expect, FlipExample, FlipRate, RobustError, TrainingFacts, flip_rate, violation_rate,
};
pub use slices::{SliceFigure, SliceReport, slice_accuracy};
