//! The interactive screen of the counter demo: the count, the implementation that runs, the
//! keys, and the last status, on the terminal's alternate screen (crossterm). The terminal is
//! restored when the screen drops, on every way out.

use std::io::{self, Write};
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::style::{Attribute, Print, SetAttribute};
use crossterm::{cursor, execute, queue, terminal};

use crate::{Demo, KEYS};

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

    pub fn show(&mut self, demo: &mut Demo) -> io::Result<()> {
        let count = match demo.count() {
            Ok(count) => count.to_string(),
            Err(e) => format!("? ({e})"),
        };
        let chosen = demo.chosen();
        let keys: Vec<String> = KEYS
            .iter()
            .map(|(key, name, what)| {
                let mark = if *name == chosen { "*" } else { " " };
                format!("{mark}{key}: {what} ({name})")
            })
            .collect();
        let out = &mut self.out;
        queue!(
            out,
            cursor::MoveTo(0, 0),
            terminal::Clear(terminal::ClearType::All),
            Print("Coo counter demo\r\n\r\n"),
            SetAttribute(Attribute::Bold),
            Print(format!("  count {count}\r\n\r\n")),
            SetAttribute(Attribute::Reset),
            Print(format!(
                "  tick {}  v{}  change() runs `{chosen}`\r\n\r\n",
                demo.ticks(),
                demo.version()
            )),
            Print(format!("  {}\r\n\r\n", keys.join("  "))),
            Print(format!("  {}\r\n\r\n", demo.status)),
            Print(
                "  keys 1-5 choose change()'s implementation; edit examples/counter-demo-plugin/src/lib.rs and save to reload; q quits\r\n"
            ),
        )?;
        out.flush()
    }

    /// Waits up to `wait` for a key: `Some('q')` to quit (q, Esc, Ctrl-C), another character,
    /// or `None`.
    pub fn key_within(&mut self, wait: Duration) -> io::Result<Option<char>> {
        if !event::poll(wait)? {
            return Ok(None);
        }
        Ok(match event::read()? {
            Event::Key(key) if key.kind == KeyEventKind::Press => match key.code {
                KeyCode::Esc => Some('q'),
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Some('q'),
                KeyCode::Char(c) => Some(c),
                _ => None,
            },
            _ => None,
        })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(self.out, cursor::Show, terminal::LeaveAlternateScreen);
        let _ = terminal::disable_raw_mode();
    }
}
