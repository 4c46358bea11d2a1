//! metron: Apache Metron's security-analytics pipeline as a library of stages
//! (parse, and later capture, enrich, label, alert, store, hunt) that the `metron`
//! binary wires between NDJSON readers and writers.

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
pub mod net;
pub mod parse;
pub mod stage;
pub mod store;
pub mod text;
