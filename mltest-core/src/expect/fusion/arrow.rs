//! Frames polars holds (generated fixtures, frames a test built) handed to
//! DataFusion as Arrow batches, through Arrow IPC in memory: polars' own
//! arrow implementation and arrow-rs share that format, not their types.

use std::sync::Arc;

use datafusion::arrow::ipc::reader::FileReader;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::{DataFrame, SessionContext};
use polars::prelude::{CompatLevel, IpcWriter, SerWriter};

use crate::data::DataError;

/// `frame` as a DataFusion table. The oldest IPC level writes text as
/// large UTF-8 rather than string views, which every arrow-rs reader reads.
pub(super) fn frame_to_datafusion(
    ctx: &SessionContext,
    frame: &polars::prelude::DataFrame,
    name: &str,
) -> Result<DataFrame, DataError> {
    let err = |e: String| DataError::Engine {
        origin: name.to_string(),
        message: format!("handing the frame to DataFusion: {e}"),
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut owned = frame.clone();
    IpcWriter::new(&mut buf)
        .with_compat_level(CompatLevel::oldest())
        .finish(&mut owned)
        .map_err(|e| err(e.to_string()))?;
    let reader =
        FileReader::try_new(std::io::Cursor::new(buf), None).map_err(|e| err(e.to_string()))?;
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader
        .collect::<Result<_, _>>()
        .map_err(|e| err(e.to_string()))?;
    let table = MemTable::try_new(schema, vec![batches]).map_err(|e| err(e.to_string()))?;
    ctx.read_table(Arc::new(table))
        .map_err(|e| err(e.to_string()))
}
