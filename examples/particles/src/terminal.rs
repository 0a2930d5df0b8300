//! The interactive screen: the canvas in colour on the terminal's alternate screen (crossterm),
//! a status line, and `q` / Esc / Ctrl-C to quit. The terminal is restored when the screen
//! drops, on every way out.

use std::io::{self, Write};
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::style::{self, Print, ResetColor, SetForegroundColor};
use crossterm::{cursor, execute, queue, terminal};
use particles_canvas::Color;

use crate::Frame;

pub struct Screen {
    out: io::Stdout,
}

impl Screen {
    pub fn enter() -> io::Result<Screen> {
        let mut out = io::stdout();
        terminal::enable_raw_mode()?;
        execute!(out, terminal::EnterAlternateScreen, cursor::Hide)?;
        Ok(Screen { out })
    }

    pub fn show(&mut self, frame: &Frame<'_>) -> io::Result<()> {
        let out = &mut self.out;
        queue!(out, cursor::MoveTo(0, 0))?;
        for y in 0..frame.canvas.height() {
            for x in 0..frame.canvas.width() {
                let cell = frame.canvas.get(x, y);
                queue!(out, SetForegroundColor(color(cell.color)), Print(cell.ch))?;
            }
            queue!(out, ResetColor, Print("\r\n"))?;
        }
        queue!(
            out,
            terminal::Clear(terminal::ClearType::FromCursorDown),
            Print(format!(
                "v{}  tick {}  {} particles\r\n{}\r\n",
                frame.version,
                frame.tick,
                frame.positions.len(),
                frame.status.lines().next().unwrap_or(""),
            )),
            Print(
                "edit examples/particles-plugin/src/lib.rs and save (GLYPH, COLOR, gravity, a new field); q quits\r\n"
            ),
        )?;
        out.flush()
    }

    /// Waits up to `every` for a key; whether it asked to quit.
    pub fn quit_within(&mut self, every: Duration) -> io::Result<bool> {
        if !event::poll(every)? {
            return Ok(false);
        }
        Ok(match event::read()? {
            Event::Key(key) if key.kind == KeyEventKind::Press => {
                matches!(key.code, KeyCode::Char('q') | KeyCode::Esc)
                    || (key.code == KeyCode::Char('c')
                        && key.modifiers.contains(KeyModifiers::CONTROL))
            }
            _ => false,
        })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(
            self.out,
            ResetColor,
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }
}

fn color(color: Color) -> style::Color {
    match color {
        Color::Default => style::Color::Reset,
        Color::Red => style::Color::Red,
        Color::Green => style::Color::Green,
        Color::Yellow => style::Color::Yellow,
        Color::Blue => style::Color::Blue,
        Color::Magenta => style::Color::Magenta,
        Color::Cyan => style::Color::Cyan,
        Color::White => style::Color::White,
        Color::Grey => style::Color::DarkGrey,
    }
}
