//! The terminal: raw mode and the alternate screen on the way in, both undone on
//! the way out — also when the console panics, so a crash never leaves a shell
//! without echo.

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use std::io::{self, Stdout};
use std::sync::Once;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Raw mode, alternate screen, and a panic hook that restores both first.
pub fn enter() -> io::Result<Term> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = leave();
            previous(info);
        }));
    });
    terminal::enable_raw_mode()?;
    if let Err(e) = execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide) {
        let _ = leave();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(io::stdout())).inspect_err(|_| {
        let _ = leave();
    })
}

/// Back to the shell's screen, cooked mode, cursor shown. Safe to call twice.
pub fn leave() -> io::Result<()> {
    let raw = terminal::disable_raw_mode();
    let screen = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
    raw.and(screen)
}
