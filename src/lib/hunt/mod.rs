//! `metron hunt`: alert triage and hunting over a store. The search language
//! ([`search`]) serves both the console and `metron hunt --query`.

pub mod search;

use crate::store::{format_rows, OutputFormat, QueryError, Reader, Store};
use std::io::Write;

/// Rows a search returns when it sets no `limit:`.
pub const DEFAULT_LIMIT: u64 = 1000;

/// Runs `text` (the search language) against `store` and prints the rows.
pub fn print_search(
    store: &Store,
    text: &str,
    format: OutputFormat,
    out: &mut dyn Write,
    max_width: usize,
) -> Result<u64, HuntError> {
    let search = search::parse(text, crate::event::now_ms()).map_err(HuntError::Search)?;
    let reader = Reader::open(store).map_err(|e| HuntError::Store(e.to_string()))?;
    let sql = search.sql(DEFAULT_LIMIT);
    let result = reader.query(&sql, &search.params).map_err(|e| match e {
        QueryError::Sql(m) => HuntError::Store(m),
        QueryError::Io(e) => HuntError::Io(e),
    })?;
    format_rows(out, format, &result.columns, &result.rows, max_width).map_err(HuntError::Io)?;
    Ok(result.rows.len() as u64)
}

#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error("search: {0}")]
    Search(search::SearchError),
    #[error("{0}")]
    Store(String),
    #[error("{0}")]
    Io(std::io::Error),
}
