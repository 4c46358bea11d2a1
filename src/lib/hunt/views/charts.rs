//! Pictures where they read faster than text: a timeline of the current list and
//! its top values as bars.

use super::{clean, dim, heading};
use crate::hunt::app::App;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(c) = &app.charts.charts else {
        frame.render_widget(Paragraph::new("counting…").style(dim(app)), area);
        return;
    };
    let [about, spark, axis, bars] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(4), Constraint::Length(1), Constraint::Min(1)])
            .areas(area);
    let total: u64 = c.timeline.iter().map(|(_, n)| n).sum();
    frame.render_widget(
        Paragraph::new(Line::styled(format!("timeline of {} ({total} in all)", clean(&c.about)), heading(app))),
        about,
    );
    let data: Vec<u64> = c.timeline.iter().map(|(_, n)| *n).collect();
    frame.render_widget(Sparkline::default().data(&data), spark);
    let first = c.timeline.first().map(|t| t.0.clone()).unwrap_or_default();
    let last = c.timeline.last().map(|t| t.0.clone()).unwrap_or_default();
    // The last label ends under the last bar.
    let pad = data.len().min(usize::from(axis.width)).saturating_sub(first.len() + last.len()).max(1);
    let axis_text = if data.len() > 1 { format!("{first}{}{last}", " ".repeat(pad)) } else { first };
    frame.render_widget(Paragraph::new(axis_text).style(dim(app)), axis);

    let mut lines = Vec::new();
    for (title, bars) in &c.bars {
        lines.push(Line::styled(title.clone(), heading(app)));
        let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1);
        let label_w = bars.iter().map(|b| clean(&b.0).chars().count()).max().unwrap_or(0).min(28);
        let room = usize::from(area.width).saturating_sub(label_w + 12).max(1);
        for (label, n) in bars {
            let len = ((*n as f64 / max as f64) * room as f64).ceil() as usize;
            let label = crate::store::clip(&clean(if label.is_empty() { "(none)" } else { label }), label_w);
            lines.push(Line::raw(format!("  {label:<label_w$} {:>7} {}", n, "█".repeat(len.max(1)))));
        }
    }
    frame.render_widget(Paragraph::new(lines), bars);
}
