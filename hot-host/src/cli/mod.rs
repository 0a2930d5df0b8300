//! The `hot-host` command line.
//!
//! | module | what it holds |
//! |---|---|
//! | [`commands`] | the table of the command language: each command's arguments, what it does, an example; `help`; word splitting |
//! | [`repl`] | the command language read from standard input: running a line, what lives from line to line ([`repl::Repl`]) |
//! | [`watches`] | live watches: values printed whenever they change |
//! | [`completion`] | what the line editor knows of the living program, and completing and hinting a line from it |
//! | [`logger`] | the plugin's `log` records on standard error, filtered by `RUST_LOG` |
//! | [`editor`] | the line editor on a terminal: rustyline's helper, the version's prompt, history per plugin |
//! | [`devloop`] | the dev loop of `hot-host run`, a thin client of [`crate::embed`]: ticks, commands, printing what a reload did |
//! | [`autosave`] | the dev loop's snapshots formatted and written on a thread of their own, from a copy of the state |
//! | [`session`] | `hot-host run` from start to end: load, restore a snapshot or call `init`, then the dev loop |
//! | [`several`] | `hot-host run A B ..`: several plugins in one host ([`crate::embed::Plugins`]), their ticks, reports and a few commands (`fns`, `types`, `imports`, `call`, `state`) |
//! | [`snapshots`] | the default snapshot directory, what `--restore` picks, and `hot-host snapshots` |
//! | [`terminal`] | standard input and output: line editing or plain lines, colour through `anstream`, printing above the typed line |

pub mod autosave;
pub mod commands;
pub mod completion;
pub mod devloop;
pub mod editor;
pub mod logger;
pub mod repl;
pub mod session;
pub mod several;
pub mod snapshots;
pub mod terminal;
pub mod watches;
