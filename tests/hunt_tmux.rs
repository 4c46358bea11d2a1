//! `metron hunt` end to end, in a real terminal: tmux runs the real binary over a
//! store the demo pipeline made (plus one alert full of escape sequences); keys find
//! an alert, escalate it with a comment and quit; `metron store query` then shows
//! the action in the store. `.ci/run` installs tmux when it is missing.

mod common;

use common::{lines, metron};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of its own, killed at the end whatever happens.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "hunt"])
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "hunt", k]);
        }
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "hunt", "-l", text]);
    }

    /// Waits until the screen shows `what`; the screen on failure.
    fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "waited for {what:?}; the screen:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

#[test]
fn escalate_an_alert_with_a_comment_in_a_real_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux is not installed: skipped (.ci/run installs it)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let out = metron().current_dir(tmp.path()).arg("demo").arg("--store").arg(&store).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hostile = json!({"guid": "hostile-1-r1", "source.type": "alert", "alert_id": "hostile-1",
        "timestamp": 1_763_900_000_000i64, "priority": "HIGH", "rule": "x", "rule.name": "Hostile",
        "description": "title \x1b]2;pwned\x07 clear \x1b[2J\x1b[31m red \u{9b}1m", "designated_host": "10.1.1.1",
        "ip_src_addr": "10.1.1.1", "ip_dst_addr": "10.2.2.2", "threat.triage.score": 99.0, "count": 1});
    let out = metron()
        .args(["store", "ingest", "-q", "--store"])
        .arg(&store)
        .write_stdin(hostile.to_string() + "\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let tmux = Tmux { socket: format!("metron-hunt-test-{}", std::process::id()) };
    let exe = assert_cmd::cargo::cargo_bin("metron");
    let shell = format!(
        "env -u NO_COLOR XDG_CONFIG_HOME=/nonexistent {} hunt --store {} --who e2e-tester --refresh 1s",
        exe.display(),
        store.display()
    );
    let started = tmux.cmd().args(["new-session", "-d", "-s", "hunt", "-x", "100", "-y", "30", &shell]).status();
    assert!(started.unwrap().success());
    tmux.run(&["set-option", "-t", "hunt", "remain-on-exit", "off"]);

    // The queue, with the hostile alert drawn harmlessly at the top (score 99).
    let s = tmux.wait_for("pwned");
    assert!(s.contains("title \u{FFFD}]2;pwned\u{FFFD} clear \u{FFFD}[2J\u{FFFD}[31m red \u{FFFD}1m"), "{s}");
    let title = tmux.run(&["display-message", "-p", "-t", "hunt", "#{pane_title}"]);
    assert!(!title.contains("pwned"), "the window title was changed: {title}");

    // Find it with the queue filter, open it, escalate it with a comment.
    tmux.keys(&["f"]);
    tmux.wait_for("filter:");
    tmux.text("alert_id=hostile-1");
    tmux.keys(&["Enter"]);
    tmux.wait_for("1 alerts");
    tmux.keys(&["Enter"]);
    tmux.wait_for("alert hostile-1");
    tmux.keys(&["s"]);
    tmux.wait_for("r  RESOLVE");
    tmux.keys(&["e"]);
    tmux.wait_for("comment (optional)");
    tmux.text("seen from tmux; q is text here");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("ESCALATE, comment on 1 alert(s) by e2e-tester");
    // The history on the page shows it after the store is read again.
    let s = if s.contains("seen from tmux") { s } else { tmux.wait_for("seen from tmux") };
    assert!(s.contains("e2e-tester"), "{s}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("alerts  sort:score");
    tmux.keys(&["q"]);
    let start = Instant::now();
    while tmux.cmd().args(["has-session", "-t", "hunt"]).output().is_ok_and(|o| o.status.success()) {
        assert!(start.elapsed() < Duration::from_secs(10), "hunt did not quit:\n{}", tmux.screen());
        std::thread::sleep(Duration::from_millis(100));
    }

    // The action is in the store, with who and when.
    let out = metron()
        .args(["store", "query", "--format", "ndjson", "--store"])
        .arg(&store)
        .arg(
            "SELECT t.status, t.comment, t.who, t.\"timestamp\" > 0 AS timed, a.status AS now \
              FROM triage t JOIN alerts a USING (alert_id) WHERE alert_id = 'hostile-1'",
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        lines(&out.stdout),
        vec![json!({"status": "ESCALATE", "comment": "seen from tmux; q is text here", "who": "e2e-tester",
                    "timed": true, "now": "ESCALATE"})]
    );
}
