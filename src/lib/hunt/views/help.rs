//! `?`: the key table, drawn from the same table dispatch reads, then the search
//! syntax.

use super::heading;
use crate::hunt::app::App;
use crate::hunt::keys::help_lines;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let mut lines = Vec::new();
    let mut last = None;
    for (ctx, keys, help) in help_lines() {
        if last != Some(ctx) {
            if last.is_some() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(ctx.title(), heading(app)));
            last = Some(ctx);
        }
        lines.push(Line::raw(format!("  {keys:<16} {help}")));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("search syntax", heading(app)));
    for l in crate::hunt::SEARCH_HELP.lines() {
        lines.push(Line::raw(format!("  {l}")));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((app.help.scroll, 0)), area);
}
