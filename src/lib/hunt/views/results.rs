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
    frame.render_widget(Paragraph::new(Line::from(format!("/ {}", clean(&app.search_text)))), query);
    match &app.results {
        None if app.want_search.is_some() => {
            frame.render_widget(Paragraph::new("searching… (esc cancels)").style(dim(app)), body)
        }
        None => frame.render_widget(Paragraph::new("no results").style(dim(app)), body),
        Some(r) if r.rows.is_empty() => frame.render_widget(Paragraph::new("nothing matches").style(dim(app)), body),
        Some(r) => {
            // Only the chosen columns; the whole row stays for detail and pivots.
            let keep: Vec<usize> =
                app.result_columns.iter().filter_map(|c| r.columns.iter().position(|n| n == c)).collect();
            if keep.is_empty() {
                table(frame, body, r, app.result_selected, body.width);
            } else {
                let shown = QueryResult {
                    columns: keep.iter().map(|i| r.columns[*i].clone()).collect(),
                    rows: r.rows.iter().map(|row| keep.iter().map(|i| row[*i].clone()).collect()).collect(),
                };
                table(frame, body, &shown, app.result_selected, body.width);
            }
        }
    }
}

/// A result table: columns as wide as their widest cell (up to a share of the
/// screen), the last one takes what is left.
fn table(frame: &mut Frame, area: Rect, r: &QueryResult, selected: usize, width: u16) {
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
    let widths: Vec<Constraint> = r
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let w = cells.iter().map(|row| row[i].chars().count()).chain([c.chars().count()]).max().unwrap_or(1);
            Constraint::Length(w.min(max) as u16)
        })
        .collect();
    let header = Row::new(r.columns.iter().map(|c| clean(c)))
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let rows = cells.into_iter().map(Row::new);
    let t = Table::new(rows, widths).header(header).column_spacing(2).row_highlight_style(reversed());
    let mut state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(t, area, &mut state);
}

pub fn draw_searches(frame: &mut Frame, area: Rect, app: &App) {
    match &app.searches {
        None => frame.render_widget(Paragraph::new("loading…").style(dim(app)), area),
        Some(r) if r.rows.is_empty() => frame.render_widget(
            Paragraph::new("no saved or recent searches yet (/ searches, w saves)").style(dim(app)),
            area,
        ),
        Some(r) => table(frame, area, r, app.searches_selected, area.width),
    }
}
