//! Perturbations: what a robustness check declares.
//!
//! A [`Perturb`] is a list of steps, each on one column. Each case draws
//! one [`Op`] per step (`case.rs`) — a description of the edit that does
//! not depend on the cell's content (positions are fractions of the text,
//! noise is in units of a scale) — so steps compose (several edits on one
//! column apply in order) and shrinking a failing case moves toward the
//! smallest edit: fewer typos, earlier positions, noise toward zero.

use std::sync::Arc;

use proptest::strategy::BoxedStrategy;

/// A cell of a row, as the perturbations see it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Null => f.write_str("(missing)"),
            Cell::Text(s) => write!(f, "{s:?}"),
            Cell::Int(i) => write!(f, "{i}"),
            Cell::Float(x) => write!(f, "{x}"),
        }
    }
}

/// Character-level typo kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypoKind {
    Insert,
    Delete,
    Substitute,
    Transpose,
}

/// One character-level typo: what, where (a fraction in [0, 1) of the
/// text), and the character inserted or substituted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Typo {
    pub kind: TypoKind,
    pub at: f64,
    pub ch: char,
}

/// One generated edit. Positions are fractions in [0, 1) of the text.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Typos(Vec<Typo>),
    /// Upper-case (true) or lower-case the word at the position.
    Case(f64, bool),
    StripPunctuation,
    ExtraWhitespace(f64),
    DropWord(f64),
    DuplicateWord(f64),
    Append(String),
    /// Noise in units of the step's scale.
    Noise(f64),
    /// Pick among the other categories (fraction of the list), or an unseen one.
    Swap(f64),
    SwapUnseen,
    Null,
    /// Leave the cell as it is (a null step that did not fire).
    Keep,
    /// A value from a user strategy.
    Set(Cell),
}

/// A text edit.
#[derive(Clone, Debug)]
pub enum TextEdit {
    Typos { min: usize, max: usize },
    CaseChange,
    StripPunctuation,
    ExtraWhitespace,
    DropWord,
    DuplicateWord,
    Append(String),
}

/// How large numeric noise is.
#[derive(Clone, Copy, Debug)]
pub enum NoiseScale {
    /// Uniform in ±amount, in the column's units.
    Absolute(f64),
    /// Uniform in ±k training standard deviations (from the model's card).
    TrainingStd(f64),
}

/// A user strategy: from the original cell to a strategy of replacement cells.
pub type CustomStrategy = Arc<dyn Fn(&Cell) -> BoxedStrategy<Cell> + Send + Sync>;

/// A step of a [`Perturb`].
#[derive(Clone)]
pub enum Step {
    Text {
        column: String,
        edit: TextEdit,
    },
    Noise {
        column: String,
        scale: NoiseScale,
        clip: Option<(f64, f64)>,
    },
    /// `allowed`: the declared value set, when bounded by [`Perturb::within`].
    Swap {
        column: String,
        unseen: bool,
        allowed: Option<Vec<String>>,
    },
    /// Missing with this probability per case (1 unless bounded by a declared null rate).
    Null {
        column: String,
        probability: f64,
    },
    Custom {
        column: String,
        strategy: CustomStrategy,
    },
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Step {
    /// The column the step edits.
    pub fn column(&self) -> &str {
        match self {
            Step::Text { column, .. }
            | Step::Noise { column, .. }
            | Step::Swap { column, .. }
            | Step::Null { column, .. }
            | Step::Custom { column, .. } => column,
        }
    }

    /// For reports: `typos(1..=2) on "Review Text"`.
    pub fn describe(&self) -> String {
        match self {
            Step::Text { column, edit } => format!(
                "{} on {column:?}",
                match edit {
                    TextEdit::Typos { min, max } => format!("typos({min}..={max})"),
                    TextEdit::CaseChange => "case change".into(),
                    TextEdit::StripPunctuation => "punctuation removed".into(),
                    TextEdit::ExtraWhitespace => "extra whitespace".into(),
                    TextEdit::DropWord => "a word dropped".into(),
                    TextEdit::DuplicateWord => "a word duplicated".into(),
                    TextEdit::Append(s) => format!("{s:?} appended"),
                }
            ),
            Step::Noise { column, scale, .. } => match scale {
                NoiseScale::Absolute(a) => format!("noise ±{a} on {column:?}"),
                NoiseScale::TrainingStd(k) => format!("noise ±{k} training std on {column:?}"),
            },
            Step::Swap {
                column,
                unseen: false,
                ..
            } => format!("category swapped on {column:?}"),
            Step::Swap {
                column,
                unseen: true,
                ..
            } => format!("unseen category on {column:?}"),
            Step::Null {
                column,
                probability,
            } if *probability >= 1.0 => format!("{column:?} set missing"),
            Step::Null {
                column,
                probability,
            } => format!("{column:?} set missing with probability {probability}"),
            Step::Custom { column, .. } => format!("custom strategy on {column:?}"),
        }
    }
}

/// What the robustness function declares: the steps applied to every sampled row.
///
/// ```
/// use mltest_core::robust::{typos, noise, Perturb};
/// let p = Perturb::new().text("Review Text", typos(1..=2)).numeric("Age", noise(1.0));
/// assert_eq!(p.describe(), "typos(1..=2) on \"Review Text\", noise ±1 on \"Age\"");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Perturb {
    pub(crate) steps: Vec<Step>,
}

impl Perturb {
    /// No perturbation yet.
    pub fn new() -> Self {
        Perturb::default()
    }

    /// Edits a text column.
    pub fn text(mut self, column: &str, edit: TextEdit) -> Self {
        self.steps.push(Step::Text {
            column: column.into(),
            edit,
        });
        self
    }

    /// Adds noise to a numeric column; clipped to the range seen in
    /// training (from the model's card) unless [`clip`](Self::clip) says otherwise.
    pub fn numeric(mut self, column: &str, scale: NoiseScale) -> Self {
        self.steps.push(Step::Noise {
            column: column.into(),
            scale,
            clip: None,
        });
        self
    }

    /// Clips the last numeric step's results to `[min, max]`.
    pub fn clip(mut self, min: f64, max: f64) -> Self {
        if let Some(Step::Noise { clip, .. }) = self.steps.last_mut() {
            *clip = Some((min, max));
        }
        self
    }

    /// Swaps a categorical value for another category seen in training.
    pub fn swap_category(mut self, column: &str) -> Self {
        self.steps.push(Step::Swap {
            column: column.into(),
            unseen: false,
            allowed: None,
        });
        self
    }

    /// Replaces a categorical value by one never seen in training.
    pub fn unseen_category(mut self, column: &str) -> Self {
        self.steps.push(Step::Swap {
            column: column.into(),
            unseen: true,
            allowed: None,
        });
        self
    }

    /// Makes a column missing.
    pub fn null(mut self, column: &str) -> Self {
        self.steps.push(Step::Null {
            column: column.into(),
            probability: 1.0,
        });
        self
    }

    /// Keeps perturbed rows legal by the data expectations: a declared range
    /// clips numeric noise, a declared value set bounds category swaps, and a
    /// declared ceiling on a column's null fraction sets how often null
    /// injection fires (a column declared never missing is never nulled).
    /// So the data suite and the robustness suite share one definition of a
    /// legal row.
    ///
    /// ```
    /// use mltest_core::expect::column;
    /// use mltest_core::robust::{noise, Perturb, Step};
    /// let legal = vec![column("Age").values().between(18.0, 99.0), column("Title").null_fraction().at_most(0.2)];
    /// let p = Perturb::new().numeric("Age", noise(5.0)).null("Title").within(&legal);
    /// assert!(matches!(p.steps()[0], Step::Noise { clip: Some((18.0, 99.0)), .. }));
    /// assert!(matches!(p.steps()[1], Step::Null { probability, .. } if probability == 0.2));
    /// ```
    pub fn within(mut self, expectations: &[crate::expect::Expectation]) -> Self {
        use crate::expect::{Bound, Metric, Segment, Value};
        for e in expectations.iter().filter(|e| e.segment == Segment::All) {
            for step in self.steps.iter_mut() {
                match (&e.metric, step) {
                    (
                        Metric::InRangeFraction { column, min, max },
                        Step::Noise {
                            column: c, clip, ..
                        },
                    ) if c == column => {
                        *clip = Some((
                            min.unwrap_or(f64::NEG_INFINITY),
                            max.unwrap_or(f64::INFINITY),
                        ));
                    }
                    (
                        Metric::InSetFraction { column, values },
                        Step::Swap {
                            column: c, allowed, ..
                        },
                    ) if c == column => {
                        *allowed = Some(
                            values
                                .iter()
                                .map(|v| match v {
                                    Value::Str(s) => s.clone(),
                                    other => other.to_string(),
                                })
                                .collect(),
                        );
                    }
                    (
                        Metric::NullFraction { column },
                        Step::Null {
                            column: c,
                            probability,
                        },
                    ) if c == column => {
                        if let Bound::AtMost { max } = e.bound {
                            *probability = probability.min(max);
                        }
                    }
                    _ => {}
                }
            }
        }
        self
    }

    /// Any proptest strategy of your own, built from the original cell.
    pub fn custom(
        mut self,
        column: &str,
        strategy: impl Fn(&Cell) -> BoxedStrategy<Cell> + Send + Sync + 'static,
    ) -> Self {
        self.steps.push(Step::Custom {
            column: column.into(),
            strategy: Arc::new(strategy),
        });
        self
    }

    /// The steps, for reports.
    pub fn describe(&self) -> String {
        self.steps
            .iter()
            .map(Step::describe)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The steps.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

/// `min..=max` random character typos (insert, delete, substitute, transpose).
pub fn typos(range: std::ops::RangeInclusive<usize>) -> TextEdit {
    TextEdit::Typos {
        min: *range.start(),
        max: *range.end(),
    }
}

/// Upper- or lower-cases one word.
pub fn case_change() -> TextEdit {
    TextEdit::CaseChange
}

/// Removes all punctuation.
pub fn strip_punctuation() -> TextEdit {
    TextEdit::StripPunctuation
}

/// Doubles a space somewhere.
pub fn extra_whitespace() -> TextEdit {
    TextEdit::ExtraWhitespace
}

/// Drops one word.
pub fn drop_word() -> TextEdit {
    TextEdit::DropWord
}

/// Repeats one word.
pub fn duplicate_word() -> TextEdit {
    TextEdit::DuplicateWord
}

/// Appends a sentence (CheckList-style invariance and direction tests).
pub fn append(sentence: &str) -> TextEdit {
    TextEdit::Append(sentence.to_string())
}

/// Uniform noise in ±`amount` of the column's units.
pub fn noise(amount: f64) -> NoiseScale {
    NoiseScale::Absolute(amount)
}

/// Uniform noise in ±`k` training standard deviations.
pub fn noise_std(k: f64) -> NoiseScale {
    NoiseScale::TrainingStd(k)
}
