//! The `hot-host` command line: the command language read from standard input ([`repl`]) and
//! the dev loop of `hot-host run` that ticks the plugin, reads commands and reloads on every
//! save ([`devloop`]).

pub mod devloop;
pub mod repl;
