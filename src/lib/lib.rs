//! metron: Apache Metron's security-analytics pipeline as a library: the core (event,
//! io, net, text, expr, stage, driver), the stages (capture, parse, enrich, label,
//! alert), the store and the console (hunt), and what composes them (config, gen,
//! demo). `docs/architecture.md` is the map; the `metron` binary wires each stage
//! between a source and NDJSON output.

pub mod alert;
pub mod capture;
pub mod config;
pub mod demo;
pub mod driver;
pub mod enrich;
pub mod error;
pub mod event;
pub mod expr;
pub mod fuzz;
pub mod gen;
pub mod hunt;
pub mod io;
pub mod label;
pub mod listen;
pub mod net;
pub mod parse;
pub mod profile;
pub mod run;
pub mod stage;
pub mod store;
pub mod text;
