//! `metron.toml`: one file, a section per stage. Found by `--config`, then
//! `$METRON_CONFIG`, then `$XDG_CONFIG_HOME/metron/metron.toml` (or
//! `~/.config/metron/metron.toml`). Flags override it. Every problem in it is
//! reported at once, when it is loaded.

use crate::parse::ParseConfig;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub parse: ParseConfig,
    #[serde(default)]
    pub enrich: crate::enrich::EnrichConfig,
    /// User-defined parsers, selected with `--format NAME`.
    #[serde(default)]
    pub parsers: std::collections::BTreeMap<String, crate::parse::user::UserParserConfig>,
    #[serde(default)]
    pub capture: crate::capture::CaptureConfig,
    #[serde(default)]
    pub label: crate::label::LabelConfig,
    #[serde(default)]
    pub alert: crate::alert::AlertConfig,
    #[serde(default)]
    pub profile: crate::profile::ProfileConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub hunt: crate::hunt::HuntConfig,
    /// `metron run`: sources, the stage chain and the sink.
    #[serde(default)]
    pub run: crate::run::RunConfig,
    /// Where it was read from, if anywhere.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// `[store]`: where the store is and how ingest batches.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The store directory (after --store and $METRON_STORE).
    pub dir: Option<PathBuf>,
    pub batch_rows: Option<usize>,
    pub flush_interval: Option<String>,
}

/// Everything wrong with a config file, all at once.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} problem(s)", self.path.display(), self.problems.len())?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Finds and loads the config: `explicit` (from `--config`), else `$METRON_CONFIG`,
    /// else the XDG config file if it exists, else the defaults.
    pub fn discover(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        if let Some(p) = explicit {
            return Config::load(p);
        }
        if let Some(p) = std::env::var_os("METRON_CONFIG").filter(|v| !v.is_empty()) {
            return Config::load(Path::new(&p));
        }
        if let Some(p) = xdg_config_file().filter(|p| p.is_file()) {
            return Config::load(&p);
        }
        Ok(Config::default())
    }

    /// Loads and validates one file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let fail = |problems: Vec<String>| ConfigError { path: path.to_owned(), problems };
        let text = std::fs::read_to_string(path).map_err(|e| fail(vec![e.to_string()]))?;
        let mut config = Config::from_toml(&text).map_err(fail)?;
        config.path = Some(path.to_owned());
        Ok(config)
    }

    /// Parses and validates config text.
    pub fn from_toml(text: &str) -> Result<Config, Vec<String>> {
        let config: Config = toml::from_str(text).map_err(|e| vec![e.to_string().trim_end().to_owned()])?;
        let problems = config.validate();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// Every problem in the parser definitions, each naming its parser.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, parser) in &self.parsers {
            if name == "auto" || crate::parse::builtin(name).is_some() {
                problems.push(format!("[parsers.{name}]: the name is taken by a built-in format"));
            }
            for p in parser.validate() {
                problems.push(format!("[parsers.{name}]: {p}"));
            }
        }
        problems.extend(self.enrich.validate().into_iter().map(|p| format!("[enrich]: {p}")));
        problems.extend(self.label.validate());
        problems.extend(self.capture.validate().into_iter().map(|p| format!("[capture] {p}")));
        problems.extend(self.profile.validate());
        problems.extend(self.hunt.validate().into_iter().map(|p| format!("[hunt] {p}")));
        if let Some(i) = self.store.flush_interval.as_deref() {
            if let Err(e) = crate::event::parse_duration(i) {
                problems.push(format!("[store] flush_interval: {e}"));
            }
        }
        if self.store.batch_rows == Some(0) {
            problems.push("[store] batch_rows: must be at least 1".into());
        }
        if let Some(name) = self.parse.format.as_deref() {
            if name != "auto" && crate::parse::builtin(name).is_none() && !self.parsers.contains_key(name) {
                problems.push(format!("[parse] format = {name:?}: no such built-in format or [parsers.{name}]"));
            }
        }
        problems
    }
}

impl Config {
    /// A path named in the config: relative to the config file's directory (as every
    /// path in it is), unchanged when absolute or when there is no config file.
    pub fn near(&self, path: impl Into<PathBuf>) -> PathBuf {
        let path = path.into();
        match self.path.as_deref().and_then(Path::parent) {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path,
        }
    }
}

fn xdg_config_file() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(base.join("metron").join("metron.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_default() {
        let c = Config::from_toml("").unwrap();
        assert!(c.parsers.is_empty());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
[parsers.one]
kind = "regex"
pattern = "(unclosed"

[parsers.two]
kind = "grok"
pattern = "%{NOSUCHPATTERN:x}"

[parsers.zeek]
kind = "json"
"#;
        let problems = Config::from_toml(text).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains("[parsers.one]")));
        assert!(problems.iter().any(|p| p.contains("[parsers.two]")));
        assert!(problems.iter().any(|p| p.contains("[parsers.zeek]") && p.contains("built-in")));
    }

    #[test]
    fn enrich_section_is_typed_and_checked() {
        let c = Config::from_toml(
            "[enrich]\ngeoip = \"City.mmdb\"\ninternal = [\"10.0.0.0/8\"]\n\
             [[enrich.tables]]\nname = \"users\"\nfile = \"users.csv\"\nfields = [\"user\"]\n",
        )
        .unwrap();
        assert_eq!(c.enrich.geoip.as_deref(), Some(Path::new("City.mmdb")));
        assert_eq!(c.enrich.tables[0].fields, ["user"]);
        let problems = Config::from_toml("[enrich]\ninternal = [\"10.0.0.0/40\", \"x\"]\n").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.starts_with("[enrich]")), "{problems:?}");
    }

    #[test]
    fn label_section_is_typed_and_checked() {
        let c = Config::from_toml(
            "[label]\nintel = [\"feeds/\"]\n[label.fields]\nip = [\"peer\"]\n\
             [label.feeds.mine]\nformat = \"csv\"\ncolumns = [\"ip\", \"note\"]\nindicator_column = \"ip\"\n",
        )
        .unwrap();
        assert_eq!(c.label.intel, ["feeds/"]);
        assert_eq!(c.label.fields.ip.as_deref(), Some(&["peer".to_owned()][..]));
        let problems = Config::from_toml(
            "[label.feeds.urlhaus]\nformat = \"nope\"\n[[label.triage.rules]]\nname = \"r\"\nrule = \"e.x ==\"\nscore = 1\n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("[label.feeds.urlhaus]: format \"nope\"")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("[label.triage]") && p.contains("\"r\"")), "{problems:?}");
    }

    #[test]
    fn capture_and_hunt_sections_are_typed_and_checked() {
        let c = Config::from_toml("[capture]\nemit = \"packets\"\ntcp_timeout = \"2m\"\n[hunt]\nrefresh = \"5s\"\n")
            .unwrap();
        assert_eq!(c.capture.emit.as_deref(), Some("packets"));
        assert_eq!(c.hunt.refresh.as_deref(), Some("5s"));
        let problems = Config::from_toml(
            "[capture]\nemit = \"frames\"\nudp_timeout = \"soon\"\nrotate_size = \"big\"\n[hunt]\nrefresh = \"x\"\n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("[capture] emit")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("[hunt] refresh")), "{problems:?}");
        let misspelt = Config::from_toml("[capture]\nintreface = \"eth0\"\n").unwrap_err();
        assert!(misspelt[0].contains("intreface"), "{misspelt:?}");
    }

    #[test]
    fn a_misspelt_key_is_an_error() {
        let problems = Config::from_toml("[parse]\nformatt = \"zeek\"\n").unwrap_err();
        assert!(problems[0].contains("formatt"), "{problems:?}");
    }
}
