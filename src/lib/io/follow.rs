//! `--follow`: keep reading files as they grow and new files as they appear in a
//! directory (Zeek rotates its logs), the way `tail -F` does. notify wakes us when
//! something changes; a short poll is the fallback for filesystems without events.

use super::lines::{LineData, LineSplitter};
use super::Flow;
use notify::{RecursiveMode, Watcher};
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

const POLL: Duration = Duration::from_millis(250);
const CHUNK: usize = 256 * 1024;

struct Tailed {
    path: PathBuf,
    name: String,
    file: File,
    ino: u64,
    pos: u64,
    lines: LineSplitter,
    /// Lines already handed over before a restart (`metron run`'s checkpoint): read,
    /// not handed over again.
    skip: u64,
    /// Whether the handler was told of this file (`FollowHandler::opened`).
    announced: bool,
}

impl Tailed {
    fn open(path: &Path, max_len: usize) -> io::Result<Tailed> {
        let file = File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let ino = file.metadata()?.ino();
        Ok(Tailed {
            path: path.to_owned(),
            name: path.display().to_string(),
            file,
            ino,
            pos: 0,
            lines: LineSplitter::new(max_len),
            skip: 0,
            announced: false,
        })
    }
}

/// What a follower calls.
pub trait FollowHandler {
    /// One line of the input `name`.
    fn line(&mut self, name: &str, line_no: u64, data: LineData<'_>) -> Flow;
    /// Every input is caught up; about to wait for more.
    fn idle(&mut self) -> io::Result<Flow>;
    /// A file is about to be read (first seen, or replaced by rotation): its name and
    /// inode, which with a line number identify a line across restarts.
    fn opened(&mut self, _name: &str, _ino: u64) {}
}

/// Follows files and directories until the callback says stop.
pub struct Follower {
    dirs: Vec<PathBuf>,
    files: Vec<Tailed>,
    known: HashSet<PathBuf>,
    /// Inodes already followed: a rotated file renamed beside its successor is not
    /// read twice.
    inodes: HashSet<u64>,
    max_len: usize,
    /// Lines to pass over, by inode, in files opened from now on.
    skip: std::collections::HashMap<u64, u64>,
    _watcher: Option<notify::RecommendedWatcher>,
    events: mpsc::Receiver<()>,
    buf: Vec<u8>,
}

impl Follower {
    /// Files are read from their start; directories are scanned for files, now and
    /// whenever one appears.
    pub fn new(paths: &[PathBuf], max_len: usize) -> io::Result<Follower> {
        Follower::resuming(paths, max_len, std::collections::HashMap::new())
    }

    /// As [`Follower::new`], but the first `skip[inode]` lines of the file with that
    /// inode are read and not handed over (they were before a restart).
    pub fn resuming(
        paths: &[PathBuf],
        max_len: usize,
        skip: std::collections::HashMap<u64, u64>,
    ) -> io::Result<Follower> {
        let (tx, events) = mpsc::channel();
        let watcher = notify::recommended_watcher(move |_res: notify::Result<notify::Event>| {
            let _ = tx.send(());
        });
        let mut watcher = watcher.ok();
        let mut follower = Follower {
            dirs: Vec::new(),
            files: Vec::new(),
            known: HashSet::new(),
            inodes: HashSet::new(),
            max_len,
            skip,
            _watcher: None,
            events,
            buf: vec![0; CHUNK],
        };
        for path in paths {
            let meta = fs::metadata(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            if meta.is_dir() {
                follower.dirs.push(path.clone());
            } else {
                follower.add_file(path)?;
            }
            if let Some(w) = watcher.as_mut() {
                // The parent of a file too, so that a rotated-in replacement is seen.
                let watch = if meta.is_dir() { path.as_path() } else { path.parent().unwrap_or(Path::new(".")) };
                let watch = if watch.as_os_str().is_empty() { Path::new(".") } else { watch };
                let _ = w.watch(watch, RecursiveMode::NonRecursive);
            }
        }
        follower._watcher = watcher;
        follower.scan_dirs();
        Ok(follower)
    }

    fn add_file(&mut self, path: &Path) -> io::Result<()> {
        self.known.insert(path.to_owned());
        let mut tailed = Tailed::open(path, self.max_len)?;
        tailed.skip = self.skip.get(&tailed.ino).copied().unwrap_or(0);
        self.inodes.insert(tailed.ino);
        self.files.push(tailed);
        Ok(())
    }

    fn scan_dirs(&mut self) {
        let mut found = Vec::new();
        for dir in &self.dirs {
            let Ok(entries) = fs::read_dir(dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                if !path.is_file() || self.known.contains(&path) || is_hidden(&path) {
                    continue;
                }
                match fs::metadata(&path) {
                    Ok(meta) if self.inodes.contains(&meta.ino()) => {
                        self.known.insert(path);
                    }
                    Ok(_) => found.push(path),
                    Err(_) => {}
                }
            }
        }
        found.sort();
        for path in found {
            // A file that vanished between listing and opening is simply not followed.
            let _ = self.add_file(&path);
        }
    }

    /// Reads until the handler says stop: `line` for each line, `idle` each time every
    /// input is caught up (flush outputs there).
    pub fn run(&mut self, handler: &mut dyn FollowHandler) -> io::Result<()> {
        loop {
            let mut progressed = false;
            for i in 0..self.files.len() {
                if !self.files[i].announced {
                    self.files[i].announced = true;
                    let t = &self.files[i];
                    handler.opened(&t.name, t.ino);
                }
                let mut f = |name: &str, n: u64, d: LineData<'_>| handler.line(name, n, d);
                let (got, flow) = self.read_available(i, &mut f)?;
                progressed |= got;
                if flow == Flow::Stop {
                    return Ok(());
                }
                if self.check_rotation(i, &mut f)? == Flow::Stop {
                    return Ok(());
                }
            }
            self.scan_dirs();
            if !progressed {
                if handler.idle()? == Flow::Stop {
                    return Ok(());
                }
                let _ = self.events.recv_timeout(POLL);
                while self.events.try_recv().is_ok() {}
            }
        }
    }

    fn read_available(
        &mut self,
        i: usize,
        f: &mut impl FnMut(&str, u64, LineData<'_>) -> Flow,
    ) -> io::Result<(bool, Flow)> {
        let t = &mut self.files[i];
        let mut got = false;
        loop {
            let n = match t.file.read(&mut self.buf) {
                Ok(0) => return Ok((got, Flow::Continue)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            got = true;
            t.pos += n as u64;
            let (name, skip) = (&t.name, t.skip);
            let (_, flow) =
                t.lines.feed(&self.buf[..n], &mut |no, d| if no <= skip { Flow::Continue } else { f(name, no, d) });
            if flow == Flow::Stop {
                return Ok((got, Flow::Stop));
            }
        }
    }

    /// A file replaced (new inode) or truncated is read again from its start, after
    /// what remained of the old one.
    fn check_rotation(&mut self, i: usize, f: &mut impl FnMut(&str, u64, LineData<'_>) -> Flow) -> io::Result<Flow> {
        let t = &mut self.files[i];
        let Ok(meta) = fs::metadata(&t.path) else { return Ok(Flow::Continue) };
        let replaced = meta.ino() != t.ino;
        let truncated = !replaced && meta.len() < t.pos;
        if !replaced && !truncated {
            return Ok(Flow::Continue);
        }
        let (name, skip) = (t.name.clone(), t.skip);
        if t.lines.finish(&mut |no, d| if no <= skip { Flow::Continue } else { f(&name, no, d) }) == Flow::Stop {
            return Ok(Flow::Stop);
        }
        if replaced {
            if let Ok(mut new) = Tailed::open(&t.path, self.max_len) {
                new.skip = self.skip.get(&new.ino).copied().unwrap_or(0);
                self.inodes.insert(new.ino);
                *t = new;
            }
        } else {
            t.file.seek(SeekFrom::Start(0))?;
            t.pos = 0;
            t.skip = 0;
            t.lines = LineSplitter::new(self.max_len);
        }
        Ok(Flow::Continue)
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Instant;

    /// Follows `paths` on a thread until `want` lines arrived or 10 s passed.
    fn follow_until(paths: Vec<PathBuf>, want: usize, during: impl FnOnce()) -> Vec<String> {
        let (tx, rx) = mpsc::channel();
        struct Collect {
            tx: mpsc::Sender<String>,
            seen: usize,
            want: usize,
            deadline: Instant,
        }
        impl FollowHandler for Collect {
            fn line(&mut self, _: &str, _: u64, d: LineData<'_>) -> Flow {
                if let LineData::Line(l) = d {
                    let _ = self.tx.send(String::from_utf8_lossy(l).into_owned());
                }
                self.seen += 1;
                if self.seen >= self.want {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            }
            fn idle(&mut self) -> io::Result<Flow> {
                Ok(if Instant::now() > self.deadline { Flow::Stop } else { Flow::Continue })
            }
        }
        std::thread::spawn(move || {
            let mut follower = Follower::new(&paths, 1024).unwrap();
            let mut handler = Collect { tx, seen: 0, want, deadline: Instant::now() + Duration::from_secs(10) };
            follower.run(&mut handler).unwrap();
        });
        std::thread::sleep(Duration::from_millis(300));
        during();
        let mut got = Vec::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
            got.push(line);
            if got.len() == want {
                break;
            }
        }
        got
    }

    #[test]
    fn follows_growth_rotation_and_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("conn.log");
        std::fs::write(&log, "one\ntw").unwrap();
        let d = dir.path().to_owned();
        let got = follow_until(vec![dir.path().to_owned()], 5, move || {
            let mut f = std::fs::OpenOptions::new().append(true).open(d.join("conn.log")).unwrap();
            f.write_all(b"o\nthree\n").unwrap();
            drop(f);
            std::thread::sleep(Duration::from_millis(400));
            // Rotation: the old file moves away, a new one takes its name.
            std::fs::rename(d.join("conn.log"), d.join("conn.12-00.log")).unwrap();
            std::fs::write(d.join("conn.log"), "four\n").unwrap();
            std::thread::sleep(Duration::from_millis(400));
            std::fs::write(d.join("dns.log"), "five\n").unwrap();
        });
        assert_eq!(got, vec!["one", "two", "three", "four", "five"]);
    }
}
