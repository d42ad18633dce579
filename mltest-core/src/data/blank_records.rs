//! Records whose every field is missing, found in the byte pass the
//! streaming path makes anyway (it hashes the file for its identity).
//!
//! A load drops such records (a blank line, `,,,,`, `NA,NA,NA` with `NA` a
//! null token) after parsing, by testing every column of every row. The
//! streaming path parses only the columns its checks read, so it cannot
//! test a row that way without giving up projection; instead, while hashing,
//! it looks at every line short enough to be such a record and, when one
//! might be, evaluates again with the filter on. The test is loose (a line
//! inside a quoted multi-line field may look blank), so it can only cost a
//! second pass, never keep a record the load would drop.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::LoadOptions;

/// The file's sha256 and whether some record after the header may have
/// every field missing.
pub(crate) fn hash_and_scan(path: &Path, opts: &LoadOptions) -> std::io::Result<(String, bool)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut scan = Scan::new(opts);
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        scan.feed(&buf[..n]);
    }
    scan.finish();
    Ok((crate::hash::hex(&hasher.finalize()), scan.found))
}

struct Scan<'a> {
    tokens: &'a [String],
    /// The current line's bytes while it is short enough to be blank.
    line: Vec<u8>,
    /// The current line outgrew `limit`: it holds a value.
    long: bool,
    /// Quotes seen on the current line, and whether the line began inside a
    /// quoted field (a continuation of a multi-line value, no record).
    quotes: usize,
    in_quotes: bool,
    /// Past the header; `limit` is known from it.
    header_seen: bool,
    limit: usize,
    found: bool,
}

impl<'a> Scan<'a> {
    fn new(opts: &'a LoadOptions) -> Self {
        Scan {
            tokens: &opts.null_tokens,
            line: Vec::new(),
            long: false,
            quotes: 0,
            in_quotes: false,
            header_seen: false,
            limit: usize::MAX,
            found: false,
        }
    }

    fn feed(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            let (part, rest, ended) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (&chunk[..i], &chunk[i + 1..], true),
                None => (chunk, &chunk[chunk.len()..], false),
            };
            self.quotes += memchr::memchr_iter(b'"', part).count();
            if !self.long {
                if self.line.len() + part.len() > self.limit {
                    self.long = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(part);
                }
            }
            if ended {
                self.end_line();
            }
            chunk = rest;
        }
    }

    fn end_line(&mut self) {
        if !self.header_seen {
            // A record has as many fields as the header; each missing one
            // is at most a null token, quotes and some padding.
            let fields = memchr::memchr_iter(b',', &self.line).count() + 1;
            let token = self.tokens.iter().map(String::len).max().unwrap_or(0);
            self.limit = fields * (token + 16) + 16;
            self.header_seen = true;
        } else if !self.long && !self.found && !self.in_quotes {
            self.found = self.blank(&self.line);
        }
        // An odd number of quotes leaves a quoted field open (`""` inside a
        // field is an escaped quote and keeps the parity).
        self.in_quotes ^= self.quotes % 2 == 1;
        self.quotes = 0;
        self.line.clear();
        self.long = false;
    }

    fn finish(&mut self) {
        // A last line without a newline.
        if self.header_seen && !self.line.is_empty() && !self.long && !self.found && !self.in_quotes
        {
            self.found = self.blank(&self.line);
        }
    }

    fn blank(&self, line: &[u8]) -> bool {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line.split(|b| *b == b',').all(|field| {
            let f = field.trim_ascii();
            let f = f
                .strip_prefix(b"\"")
                .and_then(|f| f.strip_suffix(b"\""))
                .unwrap_or(f)
                .trim_ascii();
            f.is_empty() || self.tokens.iter().any(|t| t.as_bytes() == f)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(body: &str) -> bool {
        let opts = LoadOptions::default().null_tokens(["", "NA"]);
        let mut s = Scan::new(&opts);
        // Fed in pieces, as the 1 MiB blocks split lines anywhere.
        for piece in body.as_bytes().chunks(3) {
            s.feed(piece);
        }
        s.finish();
        s.found
    }

    #[test]
    fn blank_lines_empty_fields_and_null_tokens_are_found() {
        assert!(found("a,b\n1,x\n\n2,y\n"));
        assert!(found("a,b\n1,x\n,\n2,y\n"));
        assert!(found("a,b\n1,x\nNA, \"\"\n2,y\n"));
        assert!(found("a,b\r\n1,x\r\n\r\n"));
        assert!(found("a,b\n1,x\n,"));
    }

    #[test]
    fn records_with_a_value_are_not() {
        assert!(!found("a,b\n1,x\n2,y\n"));
        assert!(!found("a,b\n1,\n,y\n"));
        assert!(!found(",\n1,x\n"), "the header is no record");
        // A blank line inside a quoted multi-line value is no record.
        assert!(!found("a,b\n1,\"first\n\nthird\"\n2,y\n"));
        assert!(found("a,b\n1,\"say \"\"hi\"\"\"\n\n"));
        let long = format!("a,b\n{},\n", "z".repeat(10_000));
        assert!(!found(&long));
    }
}
