//! The bottom line (a prompt, or the last message and a hint) and the small
//! choosers drawn over the screen.

use super::{clean, dim, reversed};
use crate::hunt::app::{App, Menu, PromptKind};
use crate::hunt::keys::{key_name, Context, KEYS};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn draw_bottom(frame: &mut Frame, area: Rect, app: &App) {
    if let Some(p) = &app.prompt {
        let label = match &p.kind {
            PromptKind::Search => "search: ".to_owned(),
            PromptKind::Filter => "filter: ".to_owned(),
            PromptKind::Comment(Some(s)) => format!("{} — comment (optional): ", s.as_str()),
            PromptKind::Comment(None) => "comment: ".to_owned(),
            PromptKind::Assign => "assign to: ".to_owned(),
            PromptKind::Group => "meta-alert id: ".to_owned(),
            PromptKind::SaveSearch => "save search as: ".to_owned(),
            PromptKind::Columns => "columns (empty: all): ".to_owned(),
        };
        let text = clean(&p.text);
        // Keep the end of long input in view.
        let room = usize::from(area.width).saturating_sub(label.chars().count() + 1);
        let shown: String = {
            let n = text.chars().count();
            text.chars().skip(n.saturating_sub(room)).collect()
        };
        let x = area.x + (label.chars().count() + shown.chars().count()) as u16;
        frame.render_widget(Paragraph::new(Line::from(vec![Span::raw(label), Span::raw(shown)])), area);
        frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
        return;
    }
    let line = if app.message.is_empty() { Line::styled(hint(app), dim(app)) } else { Line::raw(clean(&app.message)) };
    frame.render_widget(Paragraph::new(line), area);
}

fn hint(app: &App) -> String {
    use crate::hunt::app::Screen;
    let n = app.queue.alerts.len();
    match app.screen {
        Screen::Queue if app.queue.more => {
            format!("first {n} alerts (f narrows)  enter detail  s status  / search  ? help")
        }
        Screen::Queue => format!("{n} alerts  enter detail  s status  / search  f filter  ? help  q quit"),
        Screen::Detail => "s status  c comment  p pivot  x pcap  esc back  ? help".into(),
        Screen::Results => "enter detail  p pivot  c columns  h/l scroll  w save  C charts  ? help".into(),
        _ => "esc back  ? help  q quit".into(),
    }
}

pub fn draw_menu(frame: &mut Frame, body: Rect, app: &App) {
    let (title, ctx) = match app.menu {
        Some(Menu::Status) => (" status ", Context::Status),
        Some(Menu::Pivot) => (" pivot to events with ", Context::Pivot),
        None => return,
    };
    let lines: Vec<Line> = KEYS
        .iter()
        .filter(|b| b.context == ctx)
        .map(|b| {
            let k: Vec<String> = b.keys.iter().map(|(c, m)| key_name(*c, *m)).collect();
            Line::raw(format!(" {}  {}", k.join(" "), b.help))
        })
        .collect();
    let w = lines.iter().map(|l| l.width()).max().unwrap_or(10).max(title.len()) as u16 + 3;
    let h = lines.len() as u16 + 2;
    let area = Rect { x: body.x + 2, y: body.y + 1, width: w.min(body.width), height: h.min(body.height) };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title).border_style(reversed())),
        area,
    );
}
