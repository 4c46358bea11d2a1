//! `metron hunt`: alert triage and hunting over a store. The search language
//! ([`search`]) serves both the console and `metron hunt --query`.
//!
//! The console is split the way gitui is: [`app`] holds the state and what each
//! action does (no terminal), with each screen's own state in [`state`]; [`keys`] is
//! the one key table; [`views`] draws; [`worker`] runs queries off the UI thread;
//! [`term`] owns the terminal. The app and the worker talk only through
//! [`protocol`] (neither imports the other), and every SQL statement is in
//! [`queries`].

pub mod app;
pub mod keys;
pub mod protocol;
pub mod queries;
pub mod search;
pub mod state;
pub mod term;
pub mod views;
pub mod worker;

/// `[hunt]` in `metron.toml`; the flags of `metron hunt` override it.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuntConfig {
    /// How often the queue is read again (`0` never) [default: 2s].
    pub refresh: Option<String>,
    /// Where `metron capture --write` put the packets, for extraction (relative to
    /// the config file).
    pub pcap_dir: Option<PathBuf>,
    /// The name triage actions are recorded under [default: the user].
    pub who: Option<String>,
    /// Widest column of `--query`'s table [default: 48].
    pub max_width: Option<usize>,
}

impl HuntConfig {
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(r) = self.refresh.as_deref().filter(|r| r.trim() != "0") {
            if let Err(e) = crate::event::parse_duration(r) {
                problems.push(format!("refresh: {e}"));
            }
        }
        if self.max_width.is_some_and(|w| w < 4) {
            problems.push("max_width must be at least 4".into());
        }
        problems
    }
}

use crate::store::{format_rows, OutputFormat, QueryError, Reader, Store};
use app::App;
use protocol::{Answer, Job, Request};
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use worker::Worker;

/// Rows a search returns when it sets no `limit:`.
pub const DEFAULT_LIMIT: u64 = 1000;

/// The search language, written once for `?` help and `--help` (the man page).
macro_rules! search_syntax {
    () => {
        "\
Terms are ANDed:
  field=value  field!=value       compared as text (ip_dst_port=53 works)
  field>n  field>=n  field<n  field<=n   compared as numbers
  field~regex  field!~regex       RE2, anywhere in the value
  ip_src_addr in 10.0.0.0/8       CIDR, IPv4 or IPv6
  ip_dst_port in 53,853           any of the values
  last 24h   since 2026-11-01   until 2026-11-02T12:00:00Z   (or epoch ms)
  in:events (default), in:alerts, or a source type's view
    (in:zeek_conn, in:suricata_dns): that source's own column types
  cols:timestamp,ip_src_addr,uri      columns to show
  sort:field  sort:-field  limit:N
  anything else                   free text in original_string (events), or
                                  description, rule and host (alerts)
Quote values and names with spaces or dots: \"source.type\"=zeek.dns,
query~'evil\\.(com|net)'. Values are always bound parameters, never SQL."
    };
}

/// The search language, for `?` help.
pub const SEARCH_HELP: &str = search_syntax!();

/// `metron hunt --help` text after the flags: reaches the man page.
pub const AFTER_HELP: &str = concat!(
    "\
The console opens on the alert queue (resolved and dismissed hidden). Keys: arrows or
j/k move, enter opens an alert or event, esc goes back (and cancels a running query),
s sets status (NEW OPEN ESCALATE DISMISS RESOLVE) with an optional comment, c comments,
a assigns, space marks alerts, m groups marked alerts into a meta-alert, M ungroups,
f on an alert's detail lists its meta-alert, f filters the queue, z shows closed
alerts, o changes the sort (score, time, priority), / searches, c chooses the result
columns, h/l scroll them sideways, L lists saved and recent searches, w saves a
search, p pivots (community_id, uid/flow_id, source or destination IP within an
hour), C draws charts, x extracts a flow's packets with `metron extract` (needs
--pcap-dir), ? shows every key, q quits. In the search and columns prompts, tab completes
views (after in:), columns (after cols: or sort:) and field names from the store. Every action is written to the store with
who and when.

Search syntax (the query bar, the queue filter and --query):
",
    search_syntax!(),
    "

Examples:
  metron hunt --store metron-demo-store
  metron hunt --query 'in:alerts priority=HIGH status!=RESOLVE last 7d'
  metron hunt --query 'ip_src_addr in 10.0.0.0/8 ip_dst_port=4444' --format csv
  metron hunt --pcap-dir /var/lib/metron/pcap --who alice"
);

/// Runs `text` (the search language) against `store` and prints the rows. Returns
/// the rows printed and the segments left out because they cannot be read (each
/// named on stderr).
pub fn print_search(
    store: &Store,
    text: &str,
    format: OutputFormat,
    out: &mut dyn Write,
    terminal: bool,
    max_width: usize,
) -> Result<(u64, usize), HuntError> {
    let search = search::parse(text, crate::event::now_ms()).map_err(HuntError::Search)?;
    let reader = Reader::open(store).map_err(|e| HuntError::Store(e.to_string()))?;
    let mut damaged = 0;
    for (file, why) in reader.damaged() {
        damaged += 1;
        eprintln!(
            "metron: warning: {}: cannot be read ({}); left out of the search",
            store.dir().join(file).display(),
            crate::text::sanitize(why)
        );
    }
    let result = queries::run_search(&reader, &search, DEFAULT_LIMIT).map_err(|e| match e {
        QueryError::Sql(m) => HuntError::Store(m),
        QueryError::Io(e) => HuntError::Io(e),
    })?;
    format_rows(out, format, terminal, &result.columns, &result.rows, max_width).map_err(HuntError::Io)?;
    Ok((result.rows.len() as u64, damaged))
}

#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error("search: {0}")]
    Search(search::SearchError),
    #[error("{0}")]
    Store(String),
    #[error("{0}")]
    Io(std::io::Error),
}

/// How the console runs.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    pub who: String,
    pub refresh: Duration,
    pub pcap_dir: Option<PathBuf>,
    pub color: bool,
}

/// The two workers and which one each request went to.
struct Workers {
    lanes: [Worker; 2],
    sent: std::collections::HashMap<u64, usize>,
    answers: mpsc::Receiver<(u64, Answer)>,
}

impl Workers {
    fn start(store: &Store, opts: &ConsoleOptions) -> Result<Workers, HuntError> {
        let settings = worker::Settings {
            pcap_dir: opts.pcap_dir.clone(),
            exe: None,
            out_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        let (tx, answers) = mpsc::channel();
        let a = Worker::spawn(store, settings.clone(), tx.clone()).map_err(HuntError::Io)?;
        let b = Worker::spawn(store, settings, tx).map_err(HuntError::Io)?;
        Ok(Workers { lanes: [a, b], sent: Default::default(), answers })
    }

    /// Searches, charts, event pages and extraction go to the second worker, so a
    /// slow search never holds up the queue or a triage action.
    fn send(&mut self, reqs: Vec<Request>) {
        for r in reqs {
            let lane = match r.job {
                Job::Search { .. } | Job::Charts { .. } | Job::EventDetail { .. } | Job::Extract { .. } => 1,
                _ => 0,
            };
            self.sent.insert(r.id, lane);
            self.lanes[lane].send(r);
        }
    }

    fn received(&mut self, id: u64) {
        if let Some(lane) = self.sent.remove(&id) {
            self.lanes[lane].outstanding = self.lanes[lane].outstanding.saturating_sub(1);
        }
    }

    /// Interrupts the queries the app no longer waits for.
    fn cancel(&self, app_before: (bool, bool), app: &App) {
        let (search_lane, detail) = app_before;
        if search_lane && app.pending.search.is_none() && app.pending.charts.is_none() {
            self.lanes[1].cancel();
        }
        if detail && app.pending.detail.is_none() {
            self.lanes[0].cancel();
            self.lanes[1].cancel();
        }
    }
}

/// The interactive console over `store`, until the user quits.
pub fn run_console(store: &Store, opts: &ConsoleOptions) -> Result<(), HuntError> {
    let mut workers = Workers::start(store, opts)?;
    let mut app = App::new(&opts.who, opts.color);
    let first = app.start();
    workers.send(first);
    let mut terminal = term::enter().map_err(HuntError::Io)?;
    let result = event_loop(&mut terminal, &mut app, &mut workers, opts);
    let left = term::leave();
    result?;
    left.map_err(HuntError::Io)
}

fn event_loop(
    terminal: &mut term::Term,
    app: &mut App,
    workers: &mut Workers,
    opts: &ConsoleOptions,
) -> Result<(), HuntError> {
    let mut last_refresh = Instant::now();
    let mut dirty = true;
    while !app.quit {
        while let Ok((id, answer)) = workers.answers.try_recv() {
            workers.received(id);
            let more = app.apply(id, answer);
            workers.send(more);
            dirty = true;
        }
        if dirty {
            let size = terminal.size().map_err(HuntError::Io)?;
            app.page = views::page_rows(size.height, size.width);
            terminal.draw(|f| views::draw(f, app)).map_err(HuntError::Io)?;
            dirty = false;
        }
        if opts.refresh > Duration::ZERO && last_refresh.elapsed() >= opts.refresh {
            last_refresh = Instant::now();
            let reqs = app.tick_refresh();
            workers.send(reqs);
        }
        // Short polls: answers are picked up within 50 ms, keys at once.
        if event::poll(Duration::from_millis(50)).map_err(HuntError::Io)? {
            match event::read().map_err(HuntError::Io)? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    let p = &app.pending;
                    let before = (p.search.is_some() || p.charts.is_some(), p.detail.is_some());
                    let reqs = app.key(k);
                    workers.cancel(before, app);
                    workers.send(reqs);
                    dirty = true;
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
    }
    Ok(())
}

/// Figures for `scripts/bench-hunt.sh`: time to the first screen with data (drawn
/// into an 80x24 buffer), a search, the longest keypress while it runs, and a
/// pivot from its first row.
pub fn bench(store: &Store, search_text: &str, out: &mut dyn Write) -> Result<(), HuntError> {
    use ratatui::backend::TestBackend;
    let start = Instant::now();
    let opts = ConsoleOptions { who: "bench".into(), refresh: Duration::ZERO, pcap_dir: None, color: false };
    let mut workers = Workers::start(store, &opts)?;
    let mut app = App::new("bench", false);
    let mut term = ratatui::Terminal::new(TestBackend::new(80, 24)).map_err(|e| HuntError::Store(e.to_string()))?;
    let first = app.start();
    workers.send(first);
    bench_wait(&mut workers, &mut app)?;
    term.draw(|f| views::draw(f, &app)).map_err(|e| HuntError::Store(e.to_string()))?;
    let first_ms = start.elapsed().as_secs_f64() * 1000.0;
    writeln!(out, "first_screen_ms={first_ms:.0} alerts_listed={}", app.queue.alerts.len()).map_err(HuntError::Io)?;
    bench_search(&mut workers, &mut app, &mut term, search_text, out)?;
    bench_pivot(&mut workers, &mut app, out)
}

/// Waits for one answer and applies it; a failed one ends the bench.
fn bench_wait(workers: &mut Workers, app: &mut App) -> Result<(), HuntError> {
    let (id, answer) = workers.answers.recv().map_err(|e| HuntError::Store(e.to_string()))?;
    workers.received(id);
    if let Answer::Failed(m) = &answer {
        return Err(HuntError::Store(m.clone()));
    }
    let more = app.apply(id, answer);
    workers.send(more);
    Ok(())
}

/// A search, with keys pressed (and the screen drawn) while it runs.
fn bench_search(
    workers: &mut Workers,
    app: &mut App,
    term: &mut ratatui::Terminal<ratatui::backend::TestBackend>,
    search_text: &str,
    out: &mut dyn Write,
) -> Result<(), HuntError> {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let t = Instant::now();
    let reqs = app.run_search(search_text);
    workers.send(reqs);
    let (mut keys, mut worst) = (0u32, Duration::ZERO);
    loop {
        match workers.answers.try_recv() {
            Ok((id, answer)) => {
                workers.received(id);
                if let Answer::Failed(m) = &answer {
                    return Err(HuntError::Store(m.clone()));
                }
                app.apply(id, answer);
                if app.pending.search.is_none() {
                    break;
                }
            }
            Err(_) => {
                let k = Instant::now();
                let code = if keys % 2 == 0 { KeyCode::Char('j') } else { KeyCode::Char('k') };
                let reqs = app.key(KeyEvent::new(code, KeyModifiers::NONE));
                workers.send(reqs);
                term.draw(|f| views::draw(f, app)).map_err(|e| HuntError::Store(e.to_string()))?;
                worst = worst.max(k.elapsed());
                keys += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    let search_ms = t.elapsed().as_secs_f64() * 1000.0;
    let rows = app.results.table.as_ref().map_or(0, |r| r.rows.len());
    writeln!(
        out,
        "search_ms={search_ms:.0} rows={rows} keys_while_running={keys} slowest_key_ms={:.2}",
        worst.as_secs_f64() * 1000.0
    )
    .map_err(HuntError::Io)
}

/// A pivot from the first row: its source address within an hour.
fn bench_pivot(workers: &mut Workers, app: &mut App, out: &mut dyn Write) -> Result<(), HuntError> {
    app.results.selected = 0;
    match app.pivot_search(keys::PivotKind::Source) {
        Ok(q) => {
            let t = Instant::now();
            let reqs = app.run_search(&q);
            workers.send(reqs);
            while app.pending.search.is_some() {
                bench_wait(workers, app)?;
            }
            let rows = app.results.table.as_ref().map_or(0, |r| r.rows.len());
            writeln!(out, "pivot_ms={:.0} rows={rows} pivot={q}", t.elapsed().as_secs_f64() * 1000.0)
                .map_err(HuntError::Io)?;
        }
        Err(m) => writeln!(out, "pivot: {m}").map_err(HuntError::Io)?,
    }
    Ok(())
}
