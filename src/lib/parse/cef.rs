//! PLACEHOLDER: cef format (being written).

use super::{ParseError, Parser};
use crate::event::Event;

pub struct CefParser;

impl CefParser {
    pub fn new() -> CefParser {
        CefParser
    }
}

impl Parser for CefParser {
    fn parse(&mut self, _line: &str, _out: &mut Vec<Event>) -> Result<(), ParseError> {
        Err(ParseError::error("cef: not implemented yet"))
    }
}
