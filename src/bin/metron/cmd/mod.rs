//! One file per subcommand: each turns its flags and the config into a library call
//! and returns the exit code.

pub mod demo;
pub mod generate;
pub mod parse;

/// What every subcommand gets besides its own flags.
pub struct Global {
    pub config: Option<std::path::PathBuf>,
    pub quiet: bool,
    pub color: bool,
}
