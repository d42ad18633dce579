//! Turns a polars CSV error into a line and column a person can open.
//!
//! polars names the column of a value it cannot parse but not the line; a
//! ragged record it describes by field counts only. On error (only then) we
//! re-scan the file with a quote-aware record splitter, which is cheap next to
//! the cost of a failed test run and exact about multi-line quoted fields.

use std::path::Path;

use polars::prelude::PolarsError;

use super::{DataError, LoadOptions};

pub(crate) struct Located {
    pub line: Option<u64>,
    pub column: Option<String>,
    pub explanation: Option<String>,
}

pub(crate) fn locate(path: &Path, message: &str, opts: &LoadOptions) -> Located {
    let column = column_in_message(message);
    let mut located = Located {
        line: None,
        column: column.clone(),
        explanation: None,
    };
    let Ok(bytes) = std::fs::read(path) else {
        return located;
    };
    let mut records = Records::new(&bytes);
    let Some((_, header)) = records.next() else {
        return located;
    };
    let names: Vec<String> = header.iter().map(|f| unquote(f)).collect();
    let target = column
        .as_ref()
        .and_then(|c| names.iter().position(|n| n == c));
    let want_int = message.contains("i64") || message.contains("i32") || message.contains("int");
    for (line, fields) in records {
        if fields.len() == 1 && fields[0].is_empty() {
            continue; // blank line
        }
        if fields.len() != names.len() {
            located.line = Some(line);
            located.explanation = Some(format!(
                "expected {} fields (as in the header), found {}; an unbalanced quote or stray separator is the usual cause. polars said: {message}",
                names.len(),
                fields.len()
            ));
            return located;
        }
        if let Some(idx) = target {
            let mut value = unquote(&fields[idx]);
            if opts.trim {
                value = value.trim().to_string();
            }
            if opts.null_tokens.contains(&value) {
                continue;
            }
            let parses = if want_int {
                value.parse::<i64>().is_ok()
            } else {
                value.parse::<f64>().is_ok()
            };
            if !parses {
                located.line = Some(line);
                located.explanation = Some(format!(
                    "value {value:?} in column {:?} is not {} like the rows before it; fix the value, \
                     add it to the null tokens, or read the column as text. polars said: {message}",
                    names[idx],
                    if want_int { "an integer" } else { "a number" }
                ));
                return located;
            }
        }
    }
    located
}

/// polars writes `... column 'Age' ...` or `column "Age"` in its messages.
fn column_in_message(message: &str) -> Option<String> {
    for (open, close) in [("column '", '\''), ("column \"", '"'), ("column `", '`')] {
        if let Some(start) = message.find(open) {
            let rest = &message[start + open.len()..];
            if let Some(end) = rest.find(close) {
                return Some(rest[..end].to_string());
            }
        }
    }
    None
}

fn unquote(field: &str) -> String {
    let f = field.trim_end_matches('\r');
    if f.len() >= 2 && f.starts_with('"') && f.ends_with('"') {
        f[1..f.len() - 1].replace("\"\"", "\"")
    } else {
        f.to_string()
    }
}

/// Splits CSV bytes into records (respecting quoted separators and newlines),
/// yielding each record's first physical line (1-based) and its raw fields.
struct Records<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl<'a> Records<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Records {
            bytes,
            pos: 0,
            line: 1,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = (u64, Vec<String>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start_line = self.line;
        let mut fields = Vec::new();
        let mut field_start = self.pos;
        let mut in_quotes = false;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\n' => {
                    self.line += 1;
                    if !in_quotes {
                        fields.push(
                            String::from_utf8_lossy(&self.bytes[field_start..self.pos])
                                .into_owned(),
                        );
                        self.pos += 1;
                        return Some((start_line, fields));
                    }
                }
                b',' if !in_quotes => {
                    fields.push(
                        String::from_utf8_lossy(&self.bytes[field_start..self.pos]).into_owned(),
                    );
                    field_start = self.pos + 1;
                }
                _ => {}
            }
            self.pos += 1;
        }
        fields.push(String::from_utf8_lossy(&self.bytes[field_start..]).into_owned());
        Some((start_line, fields))
    }
}

/// A polars CSV error as the data error users read: the line and column
/// it happened at, and what was expected there.
pub(crate) fn csv_error(path: &Path, opts: &LoadOptions, err: PolarsError) -> DataError {
    let message = err.to_string();
    let located = locate(path, &message, opts);
    DataError::Csv {
        path: path.to_path_buf(),
        line: located.line,
        column: located.column,
        message: located.explanation.unwrap_or(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_follow_quoted_newlines_and_count_physical_lines() {
        let csv = b"a,b\n1,\"x\ny\"\n2,\"q,\"\"r\"\"\"\n3,z\n";
        let recs: Vec<_> = Records::new(csv).collect();
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[1].0, 2);
        assert_eq!(recs[2].0, 4);
        assert_eq!(unquote(&recs[2].1[1]), "q,\"r\"");
        assert_eq!(recs[3].0, 5);
    }

    #[test]
    fn column_name_is_read_from_polars_messages() {
        assert_eq!(
            column_in_message(
                "could not parse `x` as dtype `i64` at column 'Age' (column number 2)"
            ),
            Some("Age".to_string())
        );
        assert_eq!(column_in_message("no column here"), None);
    }
}
