//! The host's command language: one command per line, read from standard input by
//! `hot-host run`. Results go to `out`, errors to `err`, and the host carries on after an error.
//!
//! A line is split into words as a POSIX shell does ([`split_words`], by `shlex`); the first word
//! names a command of [`COMMANDS`] (in [`crate::cli::commands`]), the table that the parser (which
//! arguments a command takes), `help` (the text it prints, [`help`]) and the line editor (what it
//! completes) all read, so they cannot drift apart.
//!
//! The commands are not parsed by clap: every error here is one `error: ...` line that says what
//! to type (scripts and tests read them), where clap's are usage blocks; and `set` takes a JSON
//! value that may start with `-` (`set World.gravity.y -2.5`) or span several words.
//!
//! What lives from one line to the next (the plugin's identity, the watches, and what the line
//! editor completes) is a [`Repl`]'s.

use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

use coo_runtime::descriptors::schema::{LayoutKind, TypeLayout};

use crate::cli::commands::{Action, find, help_of};
pub use crate::cli::commands::{COMMANDS, SplitError, help, split_words};
use crate::cli::completion::SharedIndex;
use crate::cli::watches::Watches;
use crate::reload::{Host, Value};
use crate::state_io::show::{state_json, state_pretty};
use crate::state_io::snapshot::PluginId;

/// What the loop should do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// How often [`Repl::observe`] refreshes the line editor's index while only ticks change the
/// state: often enough that a new element completes at once for a person, seldom enough to cost
/// nothing.
const REFRESH_EVERY: Duration = Duration::from_millis(200);

/// The command language of one run: the plugin's identity (for snapshots), the live watches, and
/// the index the line editor completes from, if there is an editor.
#[derive(Debug, Default)]
pub struct Repl {
    plugin: Option<PluginId>,
    watches: Watches,
    index: Option<SharedIndex>,
    /// When the index was last refreshed.
    refreshed: Option<Instant>,
}

impl Repl {
    /// The language for the plugin `plugin`: `save` records it in the snapshot, and `load`
    /// refuses a snapshot of another plugin ([`SnapshotError::OtherPlugin`], as `--restore`
    /// does); `None` when it is not known. `index` is what a line editor completes from: the
    /// [`Repl`] keeps it up to date.
    ///
    /// [`SnapshotError::OtherPlugin`]: crate::state_io::snapshot::SnapshotError::OtherPlugin
    pub fn new(plugin: Option<PluginId>, index: Option<SharedIndex>) -> Repl {
        Repl {
            plugin,
            watches: Watches::default(),
            index,
            refreshed: None,
        }
    }

    /// The watches.
    pub fn watches(&self) -> &Watches {
        &self.watches
    }

    /// Runs one command line. Drops whose `Drop` panicked during the command are printed as
    /// warnings after it; the line editor's index is refreshed.
    pub fn run(
        &mut self,
        host: &mut Host,
        line: &str,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<Flow> {
        let flow = self.command(host, line, out, err)?;
        // A resource that a returned value replaced, an argument given back, a value `set` or
        // `load` replaced, whose `Drop` panicked.
        for panic in host.take_drop_panics() {
            writeln!(err, "warning: {panic}")?;
        }
        self.publish(host);
        Ok(flow)
    }

    /// After a tick or a command: prints the watched values that changed, and refreshes the
    /// line editor's index when it is older than 200 ms or of another version.
    pub fn observe(
        &mut self,
        host: &Host,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
        self.watches.check(host.state(), out, err)?;
        let stale = self.index.as_ref().is_some_and(|index| {
            index.version() != host.version()
                || self
                    .refreshed
                    .is_none_or(|at| at.elapsed() >= REFRESH_EVERY)
        });
        if stale {
            self.publish(host);
        }
        Ok(())
    }

    /// Refreshes the line editor's index from the host now: after a reload, before its report is
    /// printed, so that the line drawn again below the report has the new version's prompt.
    pub fn publish(&mut self, host: &Host) {
        if let Some(index) = &self.index {
            index.refresh(host, &self.watches);
            self.refreshed = Some(Instant::now());
        }
    }

    fn command(
        &mut self,
        host: &mut Host,
        line: &str,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<Flow> {
        let words = match split_words(line) {
            Ok(words) => words,
            Err(e) => {
                writeln!(err, "error: {e}")?;
                return Ok(Flow::Continue);
            }
        };
        let Some((name, args)) = words.split_first() else {
            return Ok(Flow::Continue);
        };
        let action = match find(name) {
            Some(c) if c.action == Action::Call && args.is_empty() => {
                writeln!(err, "error: `call` needs a function name; `fns` lists them")?;
                return Ok(Flow::Continue);
            }
            Some(c) if c.takes(args.len()) => c.action,
            _ => {
                unknown(line, args, name, err)?;
                return Ok(Flow::Continue);
            }
        };
        let plugin = self.plugin.as_ref();
        match (action, args) {
            (Action::Quit, _) => return Ok(Flow::Quit),
            (Action::Help, []) => writeln!(out, "{}", help())?,
            (Action::Help, names) => {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                match help_of(&names) {
                    Ok(text) => writeln!(out, "{text}")?,
                    // The error, and every command to choose from.
                    Err(e) => {
                        writeln!(err, "error: {e}")?;
                        writeln!(out, "{}", help())?;
                    }
                }
            }
            (Action::Call, [name, args @ ..]) => call(host, name, args, out, err)?,
            (Action::State, []) => write!(out, "{}", state_pretty(host.state()))?,
            (Action::State, [flag]) if flag == "--json" => {
                writeln!(out, "{}", state_json(host.state()))?;
            }
            (Action::State, [path, rest @ ..]) => {
                let json = rest.first().map(String::as_str) == Some("--json");
                if !rest.is_empty() && !json {
                    writeln!(
                        err,
                        "error: `state <path>` takes only `--json` after the path"
                    )?;
                } else {
                    match crate::state_io::path::get(host.state(), path) {
                        Ok(found) if json => writeln!(out, "{}", found.json())?,
                        Ok(found) => writeln!(out, "{}", found.pretty())?,
                        Err(e) => writeln!(err, "error: {e}")?,
                    }
                }
            }
            (Action::Set, [path, value @ ..]) => {
                let value = value.join(" ");
                match crate::state_io::path::set(host.state_mut(), path, &value) {
                    Ok(()) => {}
                    Err(e) => writeln!(err, "error: {e}")?,
                }
            }
            (Action::Convert, [path, to]) => {
                match crate::state_io::path::convert(host.state_mut(), path, to) {
                    Ok(()) => writeln!(out, "converted `{path}` to `{to}`")?,
                    Err(e) => writeln!(err, "error: {e}")?,
                }
            }
            (Action::Watch, [path, rest @ ..]) => match rest {
                [] => self.watches.add(host.state(), path, false, out, err)?,
                [flag] if flag == "--json" => {
                    self.watches.add(host.state(), path, true, out, err)?;
                }
                _ => writeln!(
                    err,
                    "error: `watch <path>` takes only `--json` after the path"
                )?,
            },
            (Action::Unwatch, [path]) => self.watches.remove(path, err)?,
            (Action::Watches, _) => self.watches.list(out)?,
            (Action::Save, [file]) => {
                // The format is the file's: binary for `.coo`, JSON for any other.
                let start = std::time::Instant::now();
                let header = crate::state_io::snapshot::Header {
                    plugin: plugin.cloned(),
                    run: None,
                };
                let format = crate::state_io::binary::Format::of_path(file.as_ref());
                let capture = match crate::state_io::capture::Capture::of(host.state()) {
                    Ok(capture) => capture,
                    Err(refused) => {
                        writeln!(err, "error: {refused}; nothing was saved")?;
                        return Ok(Flow::Continue);
                    }
                };
                let bytes = crate::state_io::snapshot::encode(&capture, &header, format);
                drop(capture);
                match crate::state_io::snapshot::write_replacing(file.as_ref(), &bytes) {
                    Ok(()) => writeln!(
                        out,
                        "saved the state to {file} ({})",
                        crate::state_io::snapshot::size_and_time(
                            bytes.len() as u64,
                            start.elapsed()
                        )
                    )?,
                    Err(e) => writeln!(err, "error: could not write {file}: {e}")?,
                }
            }
            (Action::Load, [file]) => match std::fs::read(file) {
                Err(e) => writeln!(err, "error: could not read {file}: {e}")?,
                Ok(bytes) => {
                    match crate::state_io::snapshot::load_bytes(&bytes, host.catalog(), plugin) {
                        Ok((state, report)) => {
                            *host.state_mut() = state;
                            writeln!(out, "{report}")?;
                        }
                        Err(e) => writeln!(
                            err,
                            "error: could not load {file}, the state is unchanged: {e}"
                        )?,
                    }
                }
            },
            (Action::Reload, _) => {
                match host.reload_with(&mut |event| drop(writeln!(err, "{event}"))) {
                    Ok(report) => {
                        // The prompt drawn again below the report shows the new version.
                        self.publish(host);
                        writeln!(out, "{report}")?;
                    }
                    Err(e) => writeln!(
                        err,
                        "error: reload failed; version {} keeps running with its state\n{e}",
                        host.version()
                    )?,
                }
            }
            (Action::Plan, _) => match host.preview() {
                Ok(text) => write!(out, "{text}")?,
                Err(e) => writeln!(err, "error: {e}")?,
            },
            (Action::Warnings, _) => {
                let warnings = host.builder().last_warnings();
                if warnings.is_empty() {
                    writeln!(out, "the last build had no warnings")?;
                }
                for warning in warnings {
                    write!(out, "{warning}")?;
                }
            }
            (Action::Fns, _) => {
                for (name, desc) in host.fns() {
                    writeln!(out, "{name}: {}", desc.signature())?;
                }
            }
            (Action::Use, [name]) => match host.alternatives(name) {
                Ok(list) => {
                    writeln!(out, "implementations of `{name}` (* runs):")?;
                    for alternative in list {
                        let mark = if alternative.chosen { '*' } else { ' ' };
                        writeln!(out, "{mark} {}", alternative.name)?;
                    }
                }
                Err(e) => writeln!(err, "error: {e}")?,
            },
            (Action::Use, [name, alternative]) => match host.choose(name, alternative) {
                Ok(()) => writeln!(out, "`{name}` runs `{alternative}`")?,
                Err(e) => writeln!(err, "error: {e}")?,
            },
            (Action::Types, []) => {
                for desc in host.catalog().iter() {
                    write_type(out, &TypeLayout::from_desc(desc))?;
                }
            }
            (Action::Types, [name]) => match host.catalog().iter().find(|d| d.name() == name) {
                Some(desc) => write_type(out, &TypeLayout::from_desc(desc))?,
                None => writeln!(
                    err,
                    "error: the plugin has no type `{name}`; `types` lists them"
                )?,
            },
            // `Command::takes` let through only the words these commands take.
            (
                Action::Call
                | Action::Set
                | Action::Convert
                | Action::Save
                | Action::Load
                | Action::Watch
                | Action::Unwatch
                | Action::Use
                | Action::Types,
                _,
            ) => {
                unknown(line, args, name, err)?;
            }
        }
        Ok(Flow::Continue)
    }
}

/// Runs one command line, for a plugin whose identity is not known: `save` writes no
/// `plugin` member and `load` takes any plugin's snapshot (see [`run_command_of`]). Watches
/// last for the line only: the dev loop keeps a [`Repl`] for them.
pub fn run_command(
    host: &mut Host,
    line: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Flow> {
    run_command_of(host, None, line, out, err)
}

/// Runs one command line for the plugin `plugin` (see [`Repl::new`] and [`Repl::run`]).
pub fn run_command_of(
    host: &mut Host,
    plugin: Option<&PluginId>,
    line: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Flow> {
    Repl::new(plugin.cloned(), None).run(host, line, out, err)
}

/// The error of a line whose first word is no command, or whose words the command does not take.
fn unknown(line: &str, args: &[String], name: &str, err: &mut dyn Write) -> io::Result<()> {
    writeln!(
        err,
        "error: unknown command or arguments: `{}`; type `help` for the commands",
        if args.is_empty() { name } else { line.trim() }
    )
}

/// `call NAME ARGS..` of the function `name` of `host`: its arguments parsed from text, its
/// value or error printed.
pub(crate) fn call(
    host: &mut Host,
    name: &str,
    args: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let f = match host.resolve(name) {
        Ok(f) => f,
        Err(e) => return writeln!(err, "error: {e}"),
    };
    // Only the program that embeds Coo can pass its objects: the same error as `Host::call`.
    if let Some(param) = f
        .desc()
        .params()
        .iter()
        .find(|p| matches!(p.kind(), coo_runtime::plugin::ValueKind::Host { .. }))
    {
        let e = crate::CallError::of(
            name,
            crate::CallErrorKind::HostObject {
                param: param.name().to_owned(),
                ty: param.kind().text(),
            },
        );
        return writeln!(err, "error: {e}");
    }
    let params = f
        .desc()
        .params()
        .iter()
        .filter(|p| {
            !matches!(
                p.kind(),
                coo_runtime::plugin::ValueKind::Ref(_) | coo_runtime::plugin::ValueKind::RefMut(_)
            )
        })
        .collect::<Vec<_>>();
    if params.len() != args.len() {
        return writeln!(
            err,
            "error: `{name}` takes {} argument{} ({}), {} given",
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            f.desc().signature(),
            args.len()
        );
    }
    let mut values = Vec::with_capacity(args.len());
    for (param, text) in params.iter().zip(args) {
        match Value::parse(param.kind(), text) {
            Ok(v) => values.push(v),
            Err(e) => return writeln!(err, "error: argument `{}` of `{name}`: {e}", param.name()),
        }
    }
    match host.call(&f, &values) {
        Ok(Value::Unit) => {}
        Ok(v) => writeln!(out, "{v}")?,
        Err(e) => writeln!(err, "error: {e}")?,
    }
    Ok(())
}

fn write_type(out: &mut dyn Write, t: &TypeLayout) -> io::Result<()> {
    match &t.kind {
        LayoutKind::Struct { fields, .. } => {
            writeln!(out, "struct {} ({} bytes)", t.name, t.size)?;
            for f in fields {
                writeln!(out, "    {}: {}", f.name, f.ty)?;
            }
        }
        LayoutKind::Enum { variants, .. } => {
            writeln!(out, "enum {} ({} bytes)", t.name, t.size)?;
            for v in variants {
                let fields: Vec<String> = v
                    .fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, f.ty))
                    .collect();
                if fields.is_empty() {
                    writeln!(out, "    {}", v.name)?;
                } else {
                    writeln!(out, "    {} {{ {} }}", v.name, fields.join(", "))?;
                }
            }
        }
    }
    Ok(())
}

/// Reads commands until `quit` or the end of input.
pub fn run_lines(
    host: &mut Host,
    input: impl BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let mut repl = Repl::new(None, None);
    for line in input.lines() {
        let line = line?;
        let flow = repl.run(host, &line, out, err)?;
        repl.observe(host, out, err)?;
        out.flush()?;
        err.flush()?;
        if flow == Flow::Quit {
            break;
        }
    }
    Ok(())
}
