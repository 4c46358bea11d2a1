//! The alert queue: the first screen.

use super::{clean, dim, priority_style, reversed, score_style, score_text};
use crate::hunt::app::App;
use crate::hunt::protocol::{short_time, AlertRow};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let q = &app.queue;
    if q.alerts.is_empty() {
        let text = if !app.loaded {
            "loading alerts…".to_owned()
        } else if q.spec.show_closed && q.spec.filter.is_empty() {
            "no alerts in this store".to_owned()
        } else {
            "no alerts match (z shows resolved and dismissed, f changes the filter)".to_owned()
        };
        frame.render_widget(Paragraph::new(Line::from(text)).style(dim(app)), area);
        return;
    }
    // Narrow screens (80 columns) give each alert two lines: what it is, then the
    // flow; wide screens one line with every column.
    let wide = area.width >= super::WIDE;
    let bold = Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let header = if wide {
        Row::new(["", "time", "scr", "pri", "status", "n", "rule: description", "src -> dst", "type"]).style(bold)
    } else {
        Row::new(["", "time", "scr", "pri", "status", "n", "rule: description / src -> dst  type"]).style(bold)
    };
    let rows = q.alerts.iter().map(|a| row(app, a, wide));
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(11),
        Constraint::Length(3),
        Constraint::Length(4),
        Constraint::Length(9),
        Constraint::Length(4),
    ];
    if wide {
        widths.extend([Constraint::Fill(3), Constraint::Fill(2), Constraint::Length(12)]);
    } else {
        widths.push(Constraint::Fill(1));
    }
    let table = Table::new(rows, widths).header(header).column_spacing(1).row_highlight_style(reversed());
    let mut state = TableState::default().with_selected(Some(q.selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// One alert's row: one line when `wide`, else two.
fn row<'a>(app: &App, a: &AlertRow, wide: bool) -> Row<'a> {
    let mark = if app.queue.marked.contains(&a.alert_id) { "*" } else { " " };
    let rule = match (a.rule.is_empty(), a.description.is_empty()) {
        (false, false) if a.rule != a.description => format!("{}: {}", a.rule, a.description),
        (false, _) => a.rule.clone(),
        _ => a.description.clone(),
    };
    let cc = |c: &str| if c.is_empty() { String::new() } else { format!(" ({c})") };
    let flow = format!("{}{} -> {}{}", a.src, cc(&a.src_country), a.dst, cc(&a.dst_country));
    let mut status = a.status.clone();
    if !a.meta_alert.is_empty() {
        status.push('+');
    }
    let mut cells = vec![
        Cell::from(mark),
        Cell::from(a.time.map(short_time).unwrap_or_default()),
        Cell::from(score_text(a.score)).style(score_style(app, a.score)),
        Cell::from(clean(&a.priority)).style(priority_style(app, &a.priority)),
        Cell::from(clean(&status)),
        Cell::from(a.count.to_string()),
    ];
    if wide {
        cells.push(Cell::from(clean(&rule)));
        cells.push(Cell::from(clean(&flow)));
        cells.push(Cell::from(clean(&a.source_type)));
        Row::new(cells)
    } else {
        let second = format!("{}  {}", clean(&flow), clean(&a.source_type));
        cells.push(Cell::from(Text::from(vec![Line::from(clean(&rule)), Line::styled(second, dim(app))])));
        Row::new(cells).height(2)
    }
}
