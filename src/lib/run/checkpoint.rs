//! Where `metron run` got to in its followed files: per file (by inode), the last
//! line whose events the sink has committed. Written after each sync of the sink,
//! atomically (a new file renamed over the old), so that a crash leaves the previous
//! checkpoint or the new one, never half of one.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Files not advanced for this long are forgotten (rotated away long ago).
const FORGET_AFTER_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub ino: u64,
    /// The name it had when last read (for people reading the file).
    pub name: String,
    pub line: u64,
    /// When it last advanced, epoch ms.
    pub updated: i64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub files: Vec<Position>,
}

impl Checkpoint {
    /// The checkpoint at `path`; none yet is an empty one. A damaged one is an error:
    /// starting over would store every line again.
    pub fn load(path: &Path) -> Result<Checkpoint, String> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                format!("{}: damaged checkpoint ({e}); move it away to read every file from its start", path.display())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Checkpoint::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Lines to pass over, by inode.
    pub fn skips(&self) -> HashMap<u64, u64> {
        self.files.iter().map(|p| (p.ino, p.line)).collect()
    }

    /// The file `ino` was read up to `line`.
    pub fn advance(&mut self, ino: u64, name: &str, line: u64) {
        let now = crate::event::now_ms();
        match self.files.iter_mut().find(|p| p.ino == ino) {
            Some(p) => {
                p.line = line;
                p.updated = now;
                if p.name != name {
                    p.name = name.to_owned();
                }
            }
            None => self.files.push(Position { ino, name: name.to_owned(), line, updated: now }),
        }
    }

    /// Writes it next to `path` and renames it over.
    pub fn save(&mut self, path: &Path) -> Result<(), String> {
        let now = crate::event::now_ms();
        self.files.retain(|p| now - p.updated < FORGET_AFTER_MS);
        let fail = |e: std::io::Error| format!("{}: cannot write the checkpoint: {e}", path.display());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(fail)?;
            f.write_all(&bytes).map_err(fail)?;
            f.sync_all().map_err(fail)?;
        }
        std::fs::rename(&tmp, path).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_checkpoints_load_back_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/checkpoint.json");
        let mut c = Checkpoint::load(&path).unwrap();
        assert!(c.files.is_empty());
        c.advance(7, "conn.log", 10);
        c.advance(7, "conn.log", 12);
        c.advance(9, "dns.log", 3);
        c.save(&path).unwrap();
        let back = Checkpoint::load(&path).unwrap();
        assert_eq!(back.skips(), HashMap::from([(7, 12), (9, 3)]));
        std::fs::write(&path, b"{\"files\": [").unwrap();
        let err = Checkpoint::load(&path).unwrap_err();
        assert!(err.contains("damaged checkpoint"), "{err}");
    }
}
