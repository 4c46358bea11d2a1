//! PLACEHOLDER: leef format (being written).

use super::{ParseError, Parser};
use crate::event::Event;

pub struct LeefParser;

impl LeefParser {
    pub fn new() -> LeefParser {
        LeefParser
    }
}

impl Parser for LeefParser {
    fn parse(&mut self, _line: &str, _out: &mut Vec<Event>) -> Result<(), ParseError> {
        Err(ParseError::error("leef: not implemented yet"))
    }
}
