//! Robustness: perturbations as proptest strategies, the flip-rate runner,
//! and what a generated `#[robustness]` test calls.

mod case;
mod cells;
mod decision;
mod edit;
mod error;
mod judge;
mod perturb;
mod runner;
mod slices;

pub use crate::model::TrainingFacts;
pub use decision::{RateDecision, RateOutcome};
pub use error::RobustError;
pub use judge::{Expect, Tolerance};
pub use perturb::{
    Cell, NoiseScale, Op, Perturb, Step, TextEdit, Typo, TypoKind, append, case_change, drop_word,
    duplicate_word, extra_whitespace, noise, noise_std, strip_punctuation, typos,
};
pub use runner::{CellChange, FlipExample, FlipRate, Trial};
pub use slices::{SliceFigure, SliceReport, slice_accuracy};
