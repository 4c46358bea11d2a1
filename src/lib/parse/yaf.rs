//! PLACEHOLDER: yaf format (being written).

use super::{ParseError, Parser};
use crate::event::Event;

pub struct YafParser;

impl YafParser {
    pub fn new() -> YafParser {
        YafParser
    }
}

impl Parser for YafParser {
    fn parse(&mut self, _line: &str, _out: &mut Vec<Event>) -> Result<(), ParseError> {
        Err(ParseError::error("yaf: not implemented yet"))
    }
}
