//! Noticing that a file a stage loaded (an mmdb, an asset table, an intel feed) was
//! changed on disk, so the stage can reload it while the stream goes on. notify sets a
//! flag from its own thread; the stage asks between events, which costs an atomic load,
//! and a stat of each file at most once a second covers filesystems without events.

use notify::{RecursiveMode, Watcher};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const STAT_EVERY: Duration = Duration::from_secs(1);

/// Identity and version of a file: a replacement (new inode) or a rewrite (new mtime
/// or length) both count as a change.
type Stamp = Option<(u64, i64, i64, u64)>;

fn stamp(path: &Path) -> Stamp {
    fs::metadata(path).ok().map(|m| (m.ino(), m.mtime(), m.mtime_nsec(), m.len()))
}

/// Watches a set of files for changes.
pub struct ChangeWatch {
    paths: Vec<PathBuf>,
    stamps: Vec<Stamp>,
    flag: Arc<AtomicBool>,
    _watcher: Option<notify::RecommendedWatcher>,
    calls: u32,
    last_stat: Instant,
}

impl ChangeWatch {
    /// Starts watching `paths` (files or directories) as they are now.
    pub fn new(paths: &[PathBuf]) -> ChangeWatch {
        let flag = Arc::new(AtomicBool::new(false));
        let raised = Arc::clone(&flag);
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if res.is_ok() {
                raised.store(true, Ordering::Release);
            }
        })
        .ok();
        if let Some(w) = watcher.as_mut() {
            for p in paths {
                // The directory too: files are usually replaced by renaming a new one in.
                let dir = if p.is_dir() { p.as_path() } else { p.parent().unwrap_or(Path::new(".")) };
                let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
                let _ = w.watch(dir, RecursiveMode::NonRecursive);
            }
        }
        let paths: Vec<PathBuf> = paths.iter().flat_map(|p| expand(p)).collect();
        let stamps = paths.iter().map(|p| stamp(p)).collect();
        ChangeWatch { paths, stamps, flag, _watcher: watcher, calls: 0, last_stat: Instant::now() }
    }

    /// True once after any watched file changed (new, replaced, rewritten or removed).
    pub fn changed(&mut self) -> bool {
        self.calls = self.calls.wrapping_add(1);
        let notified = self.flag.swap(false, Ordering::AcqRel);
        let due = self.calls.is_multiple_of(1024) && self.last_stat.elapsed() >= STAT_EVERY;
        if !notified && !due {
            return false;
        }
        self.last_stat = Instant::now();
        self.restat()
    }

    fn restat(&mut self) -> bool {
        let roots: Vec<PathBuf> = self.paths.clone();
        let now: Vec<Stamp> = roots.iter().map(|p| stamp(p)).collect();
        if now != self.stamps {
            self.stamps = now;
            return true;
        }
        false
    }
}

/// A directory stands for the files in it.
fn expand(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_owned()];
    }
    let mut files: Vec<PathBuf> = fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_is_noticed_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.csv");
        std::fs::write(&path, "ip,name\n10.0.0.1,a\n").unwrap();
        let mut watch = ChangeWatch::new(std::slice::from_ref(&path));
        assert!(!watch.changed());
        let tmp = dir.path().join(".assets.csv.new");
        std::fs::write(&tmp, "ip,name\n10.0.0.1,b\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = false;
        while Instant::now() < deadline && !seen {
            seen = watch.changed();
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(seen, "replacement not noticed");
        assert!(!watch.changed(), "noticed twice");
    }
}
