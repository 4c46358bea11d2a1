//! PLACEHOLDER: asa format (being written).

use super::{ParseError, Parser};
use crate::event::Event;

pub struct AsaParser;

impl AsaParser {
    pub fn new() -> AsaParser {
        AsaParser
    }
}

impl Parser for AsaParser {
    fn parse(&mut self, _line: &str, _out: &mut Vec<Event>) -> Result<(), ParseError> {
        Err(ParseError::error("asa: not implemented yet"))
    }
}
