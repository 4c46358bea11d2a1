//! PLACEHOLDER: squid format (being written).

use super::{ParseError, Parser};
use crate::event::Event;

pub struct SquidParser;

impl SquidParser {
    pub fn new() -> SquidParser {
        SquidParser
    }
}

impl Parser for SquidParser {
    fn parse(&mut self, _line: &str, _out: &mut Vec<Event>) -> Result<(), ParseError> {
        Err(ParseError::error("squid: not implemented yet"))
    }
}
