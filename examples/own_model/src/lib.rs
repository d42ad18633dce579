//! Two models a user might bring, written against mltest's [`Model`] trait
//! only (nothing here is special to mltest's own reference model):
//!
//! - [`WordRating`]: a hand-written Rust **regressor** predicting a 1–5
//!   rating from positive and negative words in a review;
//! - [`Department`]: a **multiclass** classifier trained with linfa
//!   (`MultiLogisticRegression`) predicting a review's department from a
//!   few keyword indicators.
//!
//! Both implement [`StoredModel`], so the model store saves, verifies and
//! loads them like any version; `register_model_kind!` lets a
//! `model = "NAME@ALIAS"` attribute load them by id.

use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use mltest::DType;
use mltest::model::{Model, ModelError, Predictions, StoredModel, tokens};
use mltest::store::{Card, InputColumn, OutputSchema, Tensor, Tensors};
use ndarray::{Array1, Array2};
use polars::prelude::*;

fn text_column(rows: &DataFrame, name: &str) -> Result<Vec<String>, ModelError> {
    let c = rows.column(name).map_err(|_| ModelError::MissingColumn {
        column: name.into(),
        available: mltest::data::column_names(rows),
    })?;
    let c = c
        .str()
        .map_err(|e| ModelError::Input(format!("{name}: {e}")))?;
    Ok(c.iter().map(|t| t.unwrap_or("").to_string()).collect())
}

/// Words that raise and lower the predicted rating.
const POSITIVE: &[&str] = &[
    "love",
    "great",
    "perfect",
    "beautiful",
    "comfortable",
    "flattering",
    "soft",
];
const NEGATIVE: &[&str] = &[
    "return",
    "returned",
    "disappointed",
    "cheap",
    "unflattering",
    "small",
    "poor",
];

/// A regressor: rating = clamp(base + step × (positive − negative words), 1, 5).
#[derive(Clone, Debug)]
pub struct WordRating {
    card: Card,
    base: f64,
    step: f64,
}

impl WordRating {
    /// Fits `base` (the mean rating) and `step` (least squares on the word balance).
    pub fn fit(rows: &DataFrame) -> Result<Self, ModelError> {
        let texts = text_column(rows, "Review Text")?;
        let rating = rows
            .column("Rating")
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(|e| ModelError::Input(format!("Rating: {e}")))?;
        let rating = rating.f64().map_err(|e| ModelError::Input(e.to_string()))?;
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for (t, y) in texts.iter().zip(rating.iter()) {
            if let Some(y) = y {
                xs.push(balance(t));
                ys.push(y);
            }
        }
        let n = xs.len().max(1) as f64;
        let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
        let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let step = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let mut card = Card::new(OutputSchema::regression("Rating"));
        card.name = "word-rating".into();
        card.description = Some("Rating from the balance of positive and negative words".into());
        card.inputs = vec![InputColumn {
            name: "Review Text".into(),
            dtype: DType::Text,
            categories: None,
            range: None,
            nullable: true,
            std: None,
        }];
        Ok(WordRating {
            card,
            base: my - step * mx,
            step,
        })
    }
}

fn balance(text: &str) -> f64 {
    tokens(text)
        .map(|t| {
            if POSITIVE.contains(&t.as_str()) {
                1.0
            } else if NEGATIVE.contains(&t.as_str()) {
                -1.0
            } else {
                0.0
            }
        })
        .sum()
}

impl Model for WordRating {
    fn card(&self) -> &Card {
        &self.card
    }

    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        let texts = text_column(rows, "Review Text")?;
        Ok(Predictions::regression(
            texts
                .iter()
                .map(|t| (self.base + self.step * balance(t)).clamp(1.0, 5.0))
                .collect(),
        ))
    }
}

impl StoredModel for WordRating {
    const KIND: &'static str = "own_model.word_rating.v1";

    fn to_tensors(&self) -> Tensors {
        Tensors::from([(
            "base_step".to_string(),
            Tensor::f64(vec![2], &[self.base, self.step]),
        )])
    }

    fn from_stored(card: Card, tensors: Tensors) -> Result<Self, ModelError> {
        let v = tensors
            .get("base_step")
            .and_then(Tensor::to_f64)
            .filter(|v| v.len() == 2)
            .ok_or(ModelError::Format {
                expected: "word rating model",
                why: "no f64 tensor base_step of 2 values".into(),
            })?;
        Ok(WordRating {
            card,
            base: v[0],
            step: v[1],
        })
    }
}

mltest::register_model_kind!(WordRating);

/// Keyword indicators the department model reads.
pub const KEYWORDS: &[&str] = &[
    "dress", "top", "shirt", "blouse", "sweater", "jeans", "pants", "skirt", "shorts", "jacket",
    "coat", "bra", "sleep", "pajamas", "swim", "leggings",
];

/// A multiclass classifier fitted by linfa: P(department | keywords).
#[derive(Clone, Debug)]
pub struct Department {
    card: Card,
    /// (keywords + 1) × classes, row-major; the last row is the intercept.
    params: Vec<f64>,
}

fn keyword_features(texts: &[String]) -> Array2<f64> {
    let mut x = Array2::<f64>::zeros((texts.len(), KEYWORDS.len()));
    for (i, t) in texts.iter().enumerate() {
        for tok in tokens(t) {
            let tok = tok.trim_end_matches('s');
            if let Some(j) = KEYWORDS.iter().position(|k| k.trim_end_matches('s') == tok) {
                x[[i, j]] = 1.0;
            }
        }
    }
    x
}

impl Department {
    /// Fits on the rows with a department.
    pub fn fit(rows: &DataFrame) -> Result<Self, ModelError> {
        let rows = rows
            .drop_nulls(Some(&["Department Name".to_string()]))
            .map_err(|e| ModelError::Input(e.to_string()))?;
        let texts = text_column(&rows, "Review Text")?;
        let labels = text_column(&rows, "Department Name")?;
        let mut classes: Vec<String> = labels.clone();
        classes.sort();
        classes.dedup();
        let y: Array1<usize> = labels
            .iter()
            .map(|l| classes.iter().position(|c| c == l).unwrap_or(0))
            .collect();
        let data = linfa::Dataset::new(keyword_features(&texts), y);
        let fitted = MultiLogisticRegression::default()
            .max_iterations(100)
            .fit(&data)
            .map_err(|e| ModelError::Input(format!("linfa: {e}")))?;
        // linfa orders its classes as it met them; keep the card's sorted order.
        let order: Vec<usize> = fitted.classes().to_vec();
        let (p, b) = (fitted.params(), fitted.intercept());
        let k = classes.len();
        let mut params = vec![0.0; (KEYWORDS.len() + 1) * k];
        for (col, &class) in order.iter().enumerate() {
            for j in 0..KEYWORDS.len() {
                params[j * k + class] = p[[j, col]];
            }
            params[KEYWORDS.len() * k + class] = b[col];
        }
        let mut card = Card::new(OutputSchema::multiclass("Department Name", classes));
        card.name = "department".into();
        card.description = Some("linfa MultiLogisticRegression on keyword indicators".into());
        card.inputs = vec![InputColumn {
            name: "Review Text".into(),
            dtype: DType::Text,
            categories: None,
            range: None,
            nullable: true,
            std: None,
        }];
        Ok(Department { card, params })
    }
}

impl Model for Department {
    fn card(&self) -> &Card {
        &self.card
    }

    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        let x = keyword_features(&text_column(rows, "Review Text")?);
        let k = self.card.output.classes.len();
        let kw = KEYWORDS.len();
        let out = x
            .rows()
            .into_iter()
            .map(|r| {
                let z: Vec<f64> = (0..k)
                    .map(|c| {
                        self.params[kw * k + c]
                            + (0..kw).map(|j| r[j] * self.params[j * k + c]).sum::<f64>()
                    })
                    .collect();
                let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
                let s: f64 = e.iter().sum();
                e.into_iter().map(|v| v / s).collect()
            })
            .collect();
        Ok(Predictions::multiclass(out))
    }
}

impl StoredModel for Department {
    const KIND: &'static str = "own_model.department.v1";

    fn to_tensors(&self) -> Tensors {
        Tensors::from([(
            "params".to_string(),
            Tensor::f64(
                vec![KEYWORDS.len() + 1, self.card.output.classes.len()],
                &self.params,
            ),
        )])
    }

    fn from_stored(card: Card, tensors: Tensors) -> Result<Self, ModelError> {
        let want = (KEYWORDS.len() + 1) * card.output.classes.len();
        let params = tensors
            .get("params")
            .and_then(Tensor::to_f64)
            .filter(|v| v.len() == want)
            .ok_or(ModelError::Format {
                expected: "department model",
                why: format!("no f64 tensor params of {want} values"),
            })?;
        Ok(Department { card, params })
    }
}

mltest::register_model_kind!(Department);
