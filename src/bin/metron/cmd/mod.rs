//! One file per subcommand: each turns its flags and the config into a library call
//! and returns the exit code.

pub mod alert;
pub mod capture;
pub mod demo;
pub mod enrich;
pub mod extract;
pub mod generate;
pub mod hunt;
pub mod label;
pub mod listen;
pub mod parse;
pub mod profile;
pub mod run;
pub mod store;

/// What every subcommand gets besides its own flags.
pub struct Global {
    pub config: Option<std::path::PathBuf>,
    pub quiet: bool,
    pub color: bool,
    /// `--color always` or `never`; None for auto (each command decides).
    pub color_choice: Option<bool>,
}

/// Reports a fatal error the one way every command does (`metron: error: ...`, made
/// safe for a terminal) and gives the exit code for it.
pub fn fail(message: &str) -> u8 {
    eprintln!("metron: error: {}", metron::text::sanitize_lines(message));
    2
}

impl Global {
    /// Colour for a full-screen terminal program: `--color`, else unless `NO_COLOR`.
    pub fn color_for_terminal(&self) -> bool {
        self.color_choice.unwrap_or(!metron::text::no_color())
    }

    /// The driver's options from a stage's I/O flags; the line cap from the flag, then
    /// the config's value, then 1 MiB.
    pub fn run_options(
        &self,
        files: Vec<std::path::PathBuf>,
        io: crate::cli::StageIo,
        config_max_line: Option<usize>,
    ) -> anyhow::Result<(metron::driver::RunOptions, usize)> {
        if io.follow && files.is_empty() {
            anyhow::bail!("--follow needs files or directories to follow (stdin is followed already)");
        }
        let max_line = io.max_line_bytes.or(config_max_line).unwrap_or(metron::io::DEFAULT_MAX_LINE);
        if max_line == 0 {
            anyhow::bail!("--max-line-bytes must be at least 1");
        }
        let opts = metron::driver::RunOptions {
            inputs: files,
            output: io.output,
            errors: io.errors,
            follow: io.follow,
            quiet: self.quiet,
        };
        Ok((opts, max_line))
    }
}
