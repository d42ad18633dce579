//! Tensors and the safetensors encoding of a model file (tensors + card).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Card, StoreError};

/// Key of the card in the safetensors `__metadata__`.
pub const CARD_KEY: &str = "mltest.card";
/// Largest header mltest reads (the card plus the tensor table). safetensors
/// itself allows 100 MB; a card never needs more than a few hundred KB.
pub const MAX_HEADER_BYTES: u64 = 16 << 20;

/// Element types mltest stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DTypeTag {
    F64,
    F32,
    I64,
    U8,
}

impl DTypeTag {
    fn safetensors(self) -> Dtype {
        match self {
            DTypeTag::F64 => Dtype::F64,
            DTypeTag::F32 => Dtype::F32,
            DTypeTag::I64 => Dtype::I64,
            DTypeTag::U8 => Dtype::U8,
        }
    }

    fn from_safetensors(d: Dtype) -> Option<Self> {
        Some(match d {
            Dtype::F64 => DTypeTag::F64,
            Dtype::F32 => DTypeTag::F32,
            Dtype::I64 => DTypeTag::I64,
            Dtype::U8 => DTypeTag::U8,
            _ => return None,
        })
    }
}

/// A tensor: element type, shape, little-endian bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub dtype: DTypeTag,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

impl Tensor {
    /// An f64 tensor.
    ///
    /// ```
    /// use mltest_core::store::Tensor;
    /// let t = Tensor::f64(vec![2], &[1.5, -2.0]);
    /// assert_eq!(t.to_f64().unwrap(), vec![1.5, -2.0]);
    /// ```
    pub fn f64(shape: Vec<usize>, values: &[f64]) -> Self {
        Tensor {
            dtype: DTypeTag::F64,
            shape,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// The values of an f64 tensor.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        (self.dtype == DTypeTag::F64).then(|| {
            self.data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect()
        })
    }
}

/// Named tensors, ordered by name.
pub type Tensors = BTreeMap<String, Tensor>;

/// sha256 over the tensors in name order: name, dtype, shape, bytes. What the
/// card records as `tensors_sha256`.
pub fn tensors_sha256(tensors: &Tensors) -> String {
    let mut h = Sha256::new();
    for (name, t) in tensors {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update(format!("{:?}", t.dtype).as_bytes());
        for d in &t.shape {
            h.update((*d as u64).to_le_bytes());
        }
        h.update((t.data.len() as u64).to_le_bytes());
        h.update(&t.data);
    }
    crate::hash::hex(&h.finalize())
}

/// The bytes of a model file: the tensors, and the card in the metadata.
pub fn encode(card: &Card, tensors: &Tensors) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_string(card).map_err(|e| StoreError::Corrupt {
        path: card.id().into(),
        why: format!("card does not serialise: {e}"),
    })?;
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, t)| {
            TensorView::new(t.dtype.safetensors(), t.shape.clone(), &t.data)
                .map(|v| (n.clone(), v))
                .map_err(|e| StoreError::Corrupt {
                    path: card.id().into(),
                    why: format!("tensor {n:?}: {e}"),
                })
        })
        .collect::<Result<_, _>>()?;
    let meta = HashMap::from([(CARD_KEY.to_string(), json)]);
    safetensors::serialize(views, Some(meta)).map_err(|e| StoreError::Corrupt {
        path: card.id().into(),
        why: e.to_string(),
    })
}

/// Parses the header only: the card, without touching the tensor bytes.
pub fn read_card(bytes: &[u8], path: &Path) -> Result<Card, StoreError> {
    check_header_len(bytes, path)?;
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| corrupt(path, e.to_string()))?;
    card_from(meta.metadata(), path)
}

/// Parses a whole file: card and tensors, every offset and shape validated.
pub fn decode(bytes: &[u8], path: &Path) -> Result<(Card, Tensors), StoreError> {
    check_header_len(bytes, path)?;
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| corrupt(path, e.to_string()))?;
    let card = card_from(meta.metadata(), path)?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| corrupt(path, e.to_string()))?;
    let mut tensors = Tensors::new();
    for (name, view) in st.tensors() {
        let dtype = DTypeTag::from_safetensors(view.dtype()).ok_or_else(|| {
            corrupt(
                path,
                format!("tensor {name:?} has unsupported dtype {:?}", view.dtype()),
            )
        })?;
        tensors.insert(
            name,
            Tensor {
                dtype,
                shape: view.shape().to_vec(),
                data: view.data().to_vec(),
            },
        );
    }
    Ok((card, tensors))
}

fn corrupt(path: &Path, why: String) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        why,
    }
}

/// The header length is the first 8 bytes; refuse absurd ones before any parsing.
fn check_header_len(bytes: &[u8], path: &Path) -> Result<(), StoreError> {
    let Some(len) = bytes.get(..8) else {
        return Err(corrupt(
            path,
            format!(
                "{} bytes: shorter than the 8-byte header length",
                bytes.len()
            ),
        ));
    };
    let n = u64::from_le_bytes(len.try_into().unwrap_or([0; 8]));
    if n > MAX_HEADER_BYTES {
        return Err(corrupt(
            path,
            format!("header length {n} exceeds the {MAX_HEADER_BYTES}-byte cap"),
        ));
    }
    if n + 8 > bytes.len() as u64 {
        return Err(corrupt(
            path,
            format!(
                "header length {n} runs past the end of the {}-byte file (truncated?)",
                bytes.len()
            ),
        ));
    }
    Ok(())
}

fn card_from(meta: &Option<HashMap<String, String>>, path: &Path) -> Result<Card, StoreError> {
    let json = meta
        .as_ref()
        .and_then(|m| m.get(CARD_KEY))
        .ok_or_else(|| corrupt(path, format!("no {CARD_KEY:?} in the safetensors metadata")))?;
    serde_json::from_str(json).map_err(|e| corrupt(path, format!("card is not valid JSON: {e}")))
}

/// What `list` shows of a card; serde skips the rest without building it.
#[derive(Deserialize)]
pub(super) struct CardSummary {
    pub(super) created_at: String,
    #[serde(default)]
    pub(super) metrics: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
struct HeaderMetadata {
    #[serde(rename = "__metadata__", default)]
    metadata: BTreeMap<String, String>,
}

/// Reads just enough of a file for `list`: the 8-byte length and the header,
/// parsing only the card's creation time and metrics. Returns the file size too.
pub(super) fn read_summary(path: &Path) -> Result<(CardSummary, u64), StoreError> {
    use std::io::Read;
    let corrupt = |why: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        why,
    };
    let mut f = std::fs::File::open(path).map_err(StoreError::io(path))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut len = [0u8; 8];
    f.read_exact(&mut len)
        .map_err(|_| corrupt("shorter than the 8-byte header length".into()))?;
    let n = u64::from_le_bytes(len);
    if n > MAX_HEADER_BYTES || n + 8 > size {
        return Err(corrupt(format!(
            "header length {n} is past the end of the file or over the cap"
        )));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(|_| {
        corrupt(format!(
            "header length {n} runs past the end of the file (truncated?)"
        ))
    })?;
    let meta: HeaderMetadata =
        serde_json::from_slice(&header).map_err(|e| corrupt(format!("header is not JSON: {e}")))?;
    let card = meta
        .metadata
        .get(CARD_KEY)
        .ok_or_else(|| corrupt(format!("no {CARD_KEY:?} in the safetensors metadata")))?;
    let summary =
        serde_json::from_str(card).map_err(|e| corrupt(format!("card is not valid JSON: {e}")))?;
    Ok((summary, size))
}
