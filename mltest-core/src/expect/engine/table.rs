//! What the polars engine reads: a lazy plan (an in-memory frame or a file
//! scan) with its schema, and how its queries are collected.

use polars::prelude::*;

use crate::data::DType;
use crate::expect::figures::GroupValue;

/// A lazy plan with its schema. Over a scan, every query streams when asked to.
pub(crate) struct Table {
    lf: LazyFrame,
    schema: SchemaRef,
    rows: Option<usize>,
    pub(super) streaming: bool,
}

impl Table {
    pub(crate) fn from_frame(frame: &DataFrame) -> Table {
        Table {
            lf: frame.clone().lazy(),
            schema: frame.schema().clone(),
            rows: Some(frame.height()),
            streaming: false,
        }
    }

    pub(crate) fn from_scan(mut lf: LazyFrame, streaming: bool) -> PolarsResult<Table> {
        let schema = lf.collect_schema()?;
        Ok(Table {
            // A cache node over the scan lets every query of a batch share
            // one scan (see `execute::collect_queries`); projections are
            // merged at it.
            lf: if streaming { lf.cache() } else { lf },
            schema,
            rows: None,
            streaming,
        })
    }

    /// A table of which only the columns are known (another engine holds
    /// the rows): what validation and schema checks need, and nothing else.
    #[cfg(feature = "datafusion")]
    pub(crate) fn from_schema(schema: Schema) -> Table {
        Table {
            lf: DataFrame::empty_with_schema(&schema).lazy(),
            schema: Arc::new(schema),
            rows: None,
            streaming: false,
        }
    }

    /// The polars type of a column, when it exists.
    pub(crate) fn column(&self, name: &str) -> Option<&DataType> {
        self.schema.get(name)
    }

    pub(crate) fn column_names(&self) -> Vec<&str> {
        self.schema.iter_names().map(|s| s.as_str()).collect()
    }

    pub(super) fn lazy(&self) -> LazyFrame {
        self.lf.clone()
    }

    /// The row count, when known without a query (an in-memory frame).
    pub(super) fn rows(&self) -> Option<usize> {
        self.rows
    }

    pub(super) fn known_empty(&self) -> bool {
        self.rows == Some(0)
    }

    /// The logical type of a column (`Other` when it is absent).
    pub(crate) fn dtype(&self, name: &str) -> DType {
        self.schema.get(name).map_or(DType::Other, DType::of)
    }
}

/// The queries as one plan with several sinks (`None` without queries).
pub(super) fn combined(mut queries: Vec<LazyFrame>) -> Option<LazyFrame> {
    if queries.len() < 2 {
        return queries.pop();
    }
    let opt = queries[0].get_current_optimizations();
    let inputs = queries.into_iter().map(|q| q.logical_plan).collect();
    Some(LazyFrame::from(DslPlan::SinkMultiple { inputs }).with_optimizations(opt))
}

/// Collects on the table's engine (streaming for large scans).
pub(super) trait CollectOn {
    fn collect_on(self, table: &Table) -> PolarsResult<DataFrame>;
}

impl CollectOn for LazyFrame {
    fn collect_on(self, table: &Table) -> PolarsResult<DataFrame> {
        if !table.streaming {
            return self.collect();
        }
        match self.collect_with_engine(polars::prelude::Engine::Streaming)? {
            polars_core::query_result::QueryResult::Single(df) => Ok(df),
            polars_core::query_result::QueryResult::Multiple(mut dfs) => dfs
                .pop()
                .ok_or_else(|| PolarsError::NoData("streaming query returned no frame".into())),
        }
    }
}

/// The typed value of a grouping column's cell.
pub(super) fn group_value(v: &AnyValue) -> GroupValue {
    match v {
        AnyValue::Null => GroupValue::Missing,
        // Text and categorical cells.
        other => match other.get_str() {
            Some(s) => GroupValue::Text(s.to_string()),
            None => GroupValue::Literal(other.to_string()),
        },
    }
}
