//! Drawing: each screen renders the [`App`] state into a frame and nothing else (the
//! views read the app, its screens' state and the data it holds, never the worker
//! or the queries).
//! Every string that came from the store passes through [`crate::text::sanitize`]
//! here (log data is hostile), and colour is only used when the app allows it.

mod charts;
mod detail;
mod help;
mod prompt;
mod queue;
mod results;

use super::app::{App, Screen};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use serde_json::Value;

/// Draws the whole console.
pub fn draw(frame: &mut Frame, app: &App) {
    let [top, body, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(frame.area());
    title_bar(frame, top, app);
    match app.screen {
        Screen::Queue => queue::draw(frame, body, app),
        Screen::Detail => detail::draw(frame, body, app),
        Screen::Results => results::draw(frame, body, app),
        Screen::Searches => results::draw_searches(frame, body, app),
        Screen::Charts => charts::draw(frame, body, app),
        Screen::Help => help::draw(frame, body, app),
    }
    prompt::draw_menu(frame, body, app);
    prompt::draw_bottom(frame, bottom, app);
}

/// Rows a list shows on a screen of `height` (title, header and status take 3);
/// narrow screens give each alert two lines.
pub fn page_rows(height: u16, width: u16) -> usize {
    let rows = usize::from(height.saturating_sub(4)).max(1);
    if width < WIDE {
        (rows / 2).max(1)
    } else {
        rows
    }
}

/// From this width on, the queue shows one line per alert.
pub const WIDE: u16 = 120;

fn title_bar(frame: &mut Frame, area: Rect, app: &App) {
    let screen = match app.screen {
        Screen::Queue => "alerts",
        Screen::Detail => "detail",
        Screen::Results => "search",
        Screen::Searches => "searches",
        Screen::Charts => "charts",
        Screen::Help => "help",
    };
    let busy = if app.busy() { "  working…" } else { "" };
    let mut spans = vec![Span::styled(" metron hunt ", bold(app)), Span::raw(format!("─ {screen}{busy}"))];
    if !app.queue.damaged.is_empty() {
        // Part of the store cannot be read: every list may be partial.
        let n = app.queue.damaged.len();
        let text = format!("  {n} damaged segment{} left out (store stats)", if n == 1 { "" } else { "s" });
        let style = if app.color { Style::default().fg(Color::Red) } else { Style::default() };
        spans.push(Span::styled(text, style.add_modifier(Modifier::BOLD)));
    }
    if app.screen == Screen::Queue {
        let q = &app.queue;
        let mut filt = format!("  sort:{}", q.spec.sort.name());
        if !q.spec.show_closed {
            filt.push_str("  open only");
        }
        if !q.spec.filter.is_empty() {
            filt.push_str(&format!("  filter: {}", clean(&q.spec.filter)));
        }
        if !q.marked.is_empty() {
            filt.push_str(&format!("  {} marked", q.marked.len()));
        }
        spans.push(Span::raw(filt));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(reversed()), area);
}

/// Store text made safe to draw: control characters replaced, tabs as spaces.
pub fn clean(s: &str) -> String {
    crate::text::sanitize(s).replace('\t', " ")
}

/// A value from the store as safe text.
pub fn value_text(v: &Value) -> String {
    clean(&crate::store::cell_text(v))
}

pub fn reversed() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}

pub fn bold(_app: &App) -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

pub fn dim(app: &App) -> Style {
    if app.color {
        Style::default().fg(Color::DarkGray)
    } else {
        Style::default()
    }
}

pub fn heading(app: &App) -> Style {
    let s = Style::default().add_modifier(Modifier::BOLD);
    if app.color {
        s.fg(Color::Cyan)
    } else {
        s
    }
}

/// Apache Metron's score colours: above 69 red, above 39 orange.
pub fn score_style(app: &App, score: Option<f64>) -> Style {
    match score {
        Some(s) if app.color && s > 69.0 => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        Some(s) if app.color && s > 39.0 => Style::default().fg(Color::Indexed(208)),
        _ => Style::default(),
    }
}

pub fn priority_style(app: &App, priority: &str) -> Style {
    match priority {
        "HIGH" if app.color => Style::default().fg(Color::Red),
        "MED" if app.color => Style::default().fg(Color::Indexed(208)),
        _ => Style::default(),
    }
}

/// A score as the queue shows it: whole numbers without a point.
pub fn score_text(score: Option<f64>) -> String {
    match score {
        Some(s) if s.fract() == 0.0 && s.abs() < 1e9 => format!("{}", s as i64),
        Some(s) => format!("{s:.1}"),
        None => "-".into(),
    }
}

/// `YYYY-MM-DD HH:MM:SS` UTC.
pub fn full_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

/// The text content of a buffer, one line per row, trailing spaces cut: what a
/// snapshot compares.
pub fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
