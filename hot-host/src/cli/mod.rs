//! The `hot-host` command line.
//!
//! | module | what it holds |
//! |---|---|
//! | [`repl`] | the command language read from standard input: its table of commands, parser and `help` |
//! | [`devloop`] | the dev loop of `hot-host run`: ticks, commands, and a reload on every save |
//! | [`autosave`] | the dev loop's snapshots formatted and written on a thread of their own, from a copy of the state |
//! | [`session`] | `hot-host run` from start to end: load, restore a snapshot or call `init`, then the dev loop |
//! | [`snapshots`] | the default snapshot directory, what `--restore` picks, and `hot-host snapshots` |
//! | [`terminal`] | standard input and output: line editing, colour through `anstream`, printing above the typed line |

pub mod autosave;
pub mod devloop;
pub mod repl;
pub mod session;
pub mod snapshots;
pub mod terminal;
