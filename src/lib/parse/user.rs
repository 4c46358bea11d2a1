//! PLACEHOLDER: user-defined parsers from metron.toml (being written).

use super::{ParseError, Parser};
use crate::event::Event;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserParserConfig {
    pub kind: String,
    pub pattern: Option<String>,
}

impl UserParserConfig {
    pub fn validate(&self) -> Vec<String> {
        Vec::new()
    }
}

pub struct CompiledUserParser;

impl CompiledUserParser {
    pub fn compile(_name: &str, _cfg: &UserParserConfig) -> Result<CompiledUserParser, Vec<String>> {
        Ok(CompiledUserParser)
    }
}

pub struct UserParser(Arc<CompiledUserParser>);

impl UserParser {
    pub fn new(p: Arc<CompiledUserParser>) -> UserParser {
        UserParser(p)
    }
}

impl Parser for UserParser {
    fn parse(&mut self, _line: &str, _out: &mut Vec<Event>) -> Result<(), ParseError> {
        let _ = &self.0;
        Err(ParseError::error("not implemented yet"))
    }
}
