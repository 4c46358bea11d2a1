//! PLACEHOLDER: snort format (being written).

use super::{ParseError, Parser};
use crate::event::Event;

pub struct SnortParser;

impl SnortParser {
    pub fn new() -> SnortParser {
        SnortParser
    }
}

impl Parser for SnortParser {
    fn parse(&mut self, _line: &str, _out: &mut Vec<Event>) -> Result<(), ParseError> {
        Err(ParseError::error("snort: not implemented yet"))
    }
}
