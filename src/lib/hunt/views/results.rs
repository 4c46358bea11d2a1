//! Search results (the columns the search chose), and the saved and recent searches.

use super::{clean, dim, full_time, reversed, value_text};
use crate::hunt::app::App;
use crate::store::QueryResult;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, TableState};
use ratatui::Frame;
use serde_json::Value;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let [query, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let mut where_ = String::new();
    match &app.results.table {
        None if app.pending.search.is_some() => {
            frame.render_widget(Paragraph::new("searching… (esc cancels)").style(dim(app)), body)
        }
        None => frame.render_widget(Paragraph::new("no results").style(dim(app)), body),
        Some(r) if r.rows.is_empty() => frame.render_widget(Paragraph::new("nothing matches").style(dim(app)), body),
        Some(r) => {
            // Only the chosen columns, from the scroll offset on; the whole row stays
            // for detail and pivots.
            let chosen = app.results.shown_columns();
            let from = app.results.offset.min(chosen.len().saturating_sub(1));
            let keep: Vec<usize> =
                chosen[from..].iter().filter_map(|c| r.columns.iter().position(|n| n == c)).collect();
            let shown = QueryResult {
                columns: keep.iter().map(|i| r.columns[*i].clone()).collect(),
                rows: r.rows.iter().map(|row| keep.iter().map(|i| row[*i].clone()).collect()).collect(),
            };
            let fit = table(frame, body, &shown, app.results.selected, body.width);
            if from > 0 || fit < shown.columns.len() {
                where_ = format!(" columns {}-{} of {} (h/l) ", from + 1, from + fit, chosen.len());
            }
        }
    }
    // The search on the left, where the table has scrolled to on the right.
    let [left, right] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(where_.chars().count() as u16)]).areas(query);
    frame.render_widget(Paragraph::new(Line::from(format!("/ {}", clean(&app.results.text)))), left);
    frame.render_widget(Paragraph::new(Line::from(where_)).style(dim(app)), right);
}

/// A result table: columns as wide as their widest cell (up to a share of the
/// screen). Returns how many columns fit whole.
fn table(frame: &mut Frame, area: Rect, r: &QueryResult, selected: usize, width: u16) -> usize {
    let cell = |c: &str, v: &Value| -> String {
        match (c, v) {
            ("timestamp" | "first_timestamp" | "last_timestamp", Value::Number(n)) => {
                n.as_i64().map(full_time).unwrap_or_else(|| value_text(v))
            }
            _ => value_text(v),
        }
    };
    let cells: Vec<Vec<String>> =
        r.rows.iter().map(|row| r.columns.iter().zip(row).map(|(c, v)| cell(c, v)).collect()).collect();
    let max = usize::from(width / 3).max(8);
    let lengths: Vec<usize> = r
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let w = cells.iter().map(|row| row[i].chars().count()).chain([c.chars().count()]).max().unwrap_or(1);
            w.min(max)
        })
        .collect();
    let mut used = 0;
    let fit = lengths
        .iter()
        .take_while(|w| {
            used += *w + 2;
            used <= usize::from(width) + 2
        })
        .count()
        .clamp(1, lengths.len().max(1));
    // The columns that fit whole, and the next one clipped to what is left.
    let drawn = (fit + 1).min(lengths.len());
    let widths: Vec<Constraint> = lengths[..drawn]
        .iter()
        .enumerate()
        .map(|(i, w)| if i < fit { Constraint::Length(*w as u16) } else { Constraint::Fill(1) })
        .collect();
    let header = Row::new(r.columns[..drawn].iter().map(|c| clean(c)))
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let rows = cells.into_iter().map(|mut row| {
        row.truncate(drawn);
        Row::new(row)
    });
    let t = Table::new(rows, widths).header(header).column_spacing(2).row_highlight_style(reversed());
    let mut state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(t, area, &mut state);
    fit
}

pub fn draw_searches(frame: &mut Frame, area: Rect, app: &App) {
    match &app.searches.list {
        None => frame.render_widget(Paragraph::new("loading…").style(dim(app)), area),
        Some(r) if r.rows.is_empty() => frame.render_widget(
            Paragraph::new("no saved or recent searches yet (/ searches, w saves)").style(dim(app)),
            area,
        ),
        Some(r) => {
            table(frame, area, r, app.searches.selected, area.width);
        }
    }
}
