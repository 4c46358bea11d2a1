//! `--state DIR`: the detections' windows and the profiles' histories, checkpointed
//! so that a next run continues this one's baselines. One file, `profile-state.cbor.
//! zst` (CBOR keeps every number exactly, infinities included), written beside and
//! renamed over (a crash leaves the previous checkpoint whole), with what it was made
//! with, so that a run with other windows or detections does not mix its state in.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

const FILE: &str = "profile-state.cbor.zst";
const VERSION: u32 = 1;

/// The settings a state depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Made {
    pub detect: Vec<String>,
    pub window_ms: i64,
    pub period_ms: i64,
    pub scan_window_ms: i64,
    pub profiles: Vec<(String, i64)>,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    version: u32,
    made: Made,
    state: T,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The saved state, if there is one; an error names the file and what is wrong
/// (another version, other settings, damage).
pub fn load<T: DeserializeOwned>(dir: &Path, made: &Made) -> Result<Option<T>, String> {
    let p = path(dir);
    let file = match std::fs::File::open(&p) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    let mut bytes = Vec::new();
    zstd::Decoder::new(file)
        .and_then(|mut d| d.read_to_end(&mut bytes))
        .map_err(|e| format!("{}: cannot be read ({e})", p.display()))?;
    let env: Envelope<T> = ciborium::from_reader(&bytes[..])
        .map_err(|e| format!("{}: not a profile state of this metron ({e})", p.display()))?;
    if env.version != VERSION {
        return Err(format!("{}: state version {}, this metron writes {VERSION}", p.display(), env.version));
    }
    if &env.made != made {
        return Err(format!(
            "{}: made with other settings ({:?}); now {:?}. Use another --state folder, or remove it to start afresh",
            p.display(),
            env.made,
            made
        ));
    }
    Ok(Some(env.state))
}

/// Writes the state (readable by its owner only), replacing the last checkpoint
/// whole or not at all.
pub fn save<T: Serialize>(dir: &Path, made: &Made, state: &T) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)?;
    let final_path = path(dir);
    let tmp = dir.join(format!("{FILE}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let file = o.open(&tmp)?;
    let mut enc = zstd::Encoder::new(std::io::BufWriter::new(file), 3)?;
    ciborium::into_writer(&Envelope { version: VERSION, made: made.clone(), state }, &mut enc)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let file = enc.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, &final_path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(window_ms: i64) -> Made {
        Made { detect: vec!["beacon".into()], window_ms, period_ms: 1, scan_window_ms: 1, profiles: vec![] }
    }

    #[test]
    fn saved_state_comes_back_and_other_settings_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load::<Vec<u32>>(dir.path(), &made(1)).unwrap(), None);
        save(dir.path(), &made(1), &vec![1u32, 2, 3]).unwrap();
        assert_eq!(load::<Vec<u32>>(dir.path(), &made(1)).unwrap(), Some(vec![1, 2, 3]));
        let e = load::<Vec<u32>>(dir.path(), &made(2)).unwrap_err();
        assert!(e.contains("other settings"), "{e}");
        std::fs::write(path(dir.path()), b"garbage").unwrap();
        assert!(load::<Vec<u32>>(dir.path(), &made(1)).unwrap_err().contains("cannot be read"));
    }
}
