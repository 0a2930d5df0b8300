//! Where `hot-host run` reads and writes: command lines from standard input (with line editing
//! and history when it is a terminal), and the two output streams.
//!
//! Colour is decided here and nowhere else: renderers write styled text (`anstyle`), and both
//! streams are [`anstream::AutoStream`]s, which pass the styles on to a terminal and strip them
//! for a pipe or a file, or when `NO_COLOR` is set (`CLICOLOR_FORCE` keeps them), as every cargo
//! tool does. Output to a pipe is plain text.
//!
//! While a command line is being typed on a terminal, what the dev loop prints (a reload report,
//! a tick's error) goes through rustyline's external printer: it is printed above the line being
//! typed, which is drawn again below it, instead of into the middle of it. The editor itself
//! (completion, hints, the prompt, history) is [`crate::cli::editor`]'s.

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::sync::mpsc;
use std::thread;

use anstream::AutoStream;
use rustyline::ExternalPrinter;

use crate::cli::devloop::Event;
use crate::cli::editor::{self, Editing, VersionPrompt};

/// One output stream of the host: styles kept or stripped as the real stream takes them.
pub type Stream = AutoStream<Box<dyn Write>>;

/// The host's standard output and standard error.
pub struct Output {
    pub out: Stream,
    pub err: Stream,
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("out", &self.out.current_choice())
            .field("err", &self.err.current_choice())
            .finish()
    }
}

impl Output {
    /// Standard output and standard error, written directly.
    pub fn std() -> Output {
        Output {
            out: AutoStream::new(Box::new(io::stdout()), AutoStream::choice(&io::stdout())),
            err: AutoStream::new(Box::new(io::stderr()), AutoStream::choice(&io::stderr())),
        }
    }

    /// Standard output and standard error, through the printers of the line editor where it has
    /// them (see [`spawn_stdin_reader`]), directly otherwise.
    pub fn through(printers: Printers) -> Output {
        let Output { out, err } = Output::std();
        Output {
            out: match printers.out {
                Some(p) => AutoStream::new(Box::new(p), out.current_choice()),
                None => out,
            },
            err: match printers.err {
                Some(p) => AutoStream::new(Box::new(p), err.current_choice()),
                None => err,
            },
        }
    }
}

/// The line editor's printers for standard output and standard error: `None` for a stream that
/// is not the terminal the line is typed on.
#[derive(Debug, Default)]
pub struct Printers {
    pub out: Option<Printed>,
    pub err: Option<Printed>,
}

/// Text written through rustyline's external printer: each write that completes a line prints
/// the complete lines above the line being typed; the rest waits for its newline (or a drop).
pub struct Printed {
    printer: Box<dyn ExternalPrinter + Send>,
    pending: Vec<u8>,
}

impl fmt::Debug for Printed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Printed")
            .field("pending", &String::from_utf8_lossy(&self.pending))
            .finish_non_exhaustive()
    }
}

impl Printed {
    pub fn new(printer: Box<dyn ExternalPrinter + Send>) -> Printed {
        Printed {
            printer,
            pending: Vec::new(),
        }
    }

    fn print(&mut self, end: usize) -> io::Result<()> {
        let text: Vec<u8> = self.pending.drain(..end).collect();
        self.printer
            .print(String::from_utf8_lossy(&text).into_owned())
            .map_err(io::Error::other)
    }
}

impl Write for Printed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last) = self.pending.iter().rposition(|&b| b == b'\n') {
            self.print(last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Printed {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.print(self.pending.len());
        }
    }
}

/// Feeds lines from standard input into the loop: with line editing (completion and hints from
/// `editing.index`, the version's prompt, history in `editing.history`) when standard input and
/// standard output are a terminal, plain lines otherwise (no prompt, no completion, no colour
/// of its own). Returns the editor's printers (see [`Output::through`]); none when there is no
/// editor.
pub fn spawn_stdin_reader(events: mpsc::Sender<Event>, editing: Editing) -> Printers {
    let (printers_tx, printers_rx) = mpsc::sync_channel(1);
    thread::Builder::new()
        .name("coo-stdin".into())
        .spawn(move || {
            let terminal = io::stdin().is_terminal() && io::stdout().is_terminal();
            let editor = if terminal {
                editor::editor(&editing).ok()
            } else {
                None
            };
            if let Some(mut editor) = editor {
                let mut printer = || {
                    editor
                        .create_external_printer()
                        .ok()
                        .map(|p| Printed::new(Box::new(p)))
                };
                let printers = Printers {
                    out: printer(),
                    // Standard error goes to the same screen only when it is a terminal too.
                    err: if io::stderr().is_terminal() {
                        printer()
                    } else {
                        None
                    },
                };
                let _ = printers_tx.send(printers);
                while let Ok(line) = editor.readline(&VersionPrompt::new(editing.index.clone())) {
                    editor::remember(&mut editor, &editing, &line);
                    if events.send(Event::Line(line)).is_err() {
                        return;
                    }
                }
            } else {
                let _ = printers_tx.send(Printers::default());
                for line in io::stdin().lines() {
                    let Ok(line) = line else { break };
                    if events.send(Event::Line(line)).is_err() {
                        return;
                    }
                }
            }
            let _ = events.send(Event::Eof);
        })
        .expect("spawn the stdin reader");
    printers_rx.recv().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Records what it was asked to print.
    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl ExternalPrinter for Recorder {
        fn print(&mut self, msg: String) -> rustyline::Result<()> {
            self.0.lock().unwrap().push(msg);
            Ok(())
        }
    }

    #[test]
    fn the_printer_gets_whole_lines_and_the_rest_at_drop() {
        let printed = Arc::new(Mutex::new(Vec::new()));
        let mut w = Printed::new(Box::new(Recorder(printed.clone())));
        write!(w, "version 1 -> 2").unwrap();
        w.flush().unwrap();
        assert!(printed.lock().unwrap().is_empty());
        write!(w, " (build 1 ms)\n  + fn spawn\n  1 func").unwrap();
        assert_eq!(
            *printed.lock().unwrap(),
            ["version 1 -> 2 (build 1 ms)\n  + fn spawn\n"]
        );
        drop(w);
        assert_eq!(printed.lock().unwrap()[1], "  1 func");
    }

    #[test]
    fn styles_reach_the_printer_only_when_colour_is_on() {
        let red = anstyle::AnsiColor::Red.on_default().bold();
        for (choice, expected) in [
            (anstream::ColorChoice::Never, "reload failed\n".to_owned()),
            (
                anstream::ColorChoice::AlwaysAnsi,
                format!("{red}reload failed{red:#}\n"),
            ),
        ] {
            let printed = Arc::new(Mutex::new(Vec::new()));
            let inner: Box<dyn Write> = Box::new(Printed::new(Box::new(Recorder(printed.clone()))));
            let mut stream: Stream = AutoStream::new(inner, choice);
            writeln!(stream, "{red}reload failed{red:#}").unwrap();
            assert_eq!(*printed.lock().unwrap(), [expected]);
        }
    }
}
