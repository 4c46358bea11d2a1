//! PLACEHOLDER: syslog format (being written).

use super::{ParseError, Parser};
use crate::event::Event;

pub struct SyslogParser;

impl SyslogParser {
    pub fn new() -> SyslogParser {
        SyslogParser
    }
}

impl Parser for SyslogParser {
    fn parse(&mut self, _line: &str, _out: &mut Vec<Event>) -> Result<(), ParseError> {
        Err(ParseError::error("syslog: not implemented yet"))
    }
}
