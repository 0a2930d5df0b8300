//! The host's command language: one command per line, read from standard input by
//! `hot-host run`. Results go to `out`, errors to `err`, and the host carries on after an error.
//!
//! A line is split into words as a POSIX shell does ([`split_words`], by `shlex`); the first word
//! names a command of [`COMMANDS`], the table that both the parser (which arguments a command
//! takes) and `help` (the text it prints, [`help`]) read, so the two cannot drift apart.
//!
//! The commands are not parsed by clap: every error here is one `error: ...` line that says what
//! to type (scripts and tests read them), where clap's are usage blocks; and `set` takes a JSON
//! value that may start with `-` (`set World.gravity.y -2.5`) or span several words.

use std::fmt::Write as _;
use std::io::{self, BufRead, Write};

use coo_runtime::descriptors::schema::{LayoutKind, TypeLayout};

use crate::reload::{Host, Value};
use crate::state_io::show::{state_json, state_pretty};
use crate::state_io::snapshot::PluginId;

/// One command of the language: what the parser accepts and what `help` says about it.
#[derive(Debug)]
pub struct Command {
    /// The word that names it.
    pub name: &'static str,
    /// Another word for it (`exit` for `quit`).
    pub alias: Option<&'static str>,
    /// The words after the name, in order.
    pub args: &'static [Arg],
    /// One line on what it does.
    pub about: &'static str,
    /// A line that uses it.
    pub example: &'static str,
    action: Action,
}

/// One argument of a [`Command`]: how `help` shows it and how many words the parser takes for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// `<name>`: one word.
    Word(&'static str),
    /// `[<name>]`: one word or none.
    OptionalWord(&'static str),
    /// `[--flag]`: the flag or nothing.
    Flag(&'static str),
    /// `<name>`: one word or more, to the end of the line, joined by single spaces (JSON such as
    /// `[1.0, 2.0]` may be typed unquoted).
    Text(&'static str),
    /// `[<name>...]`: any number of words.
    Words(&'static str),
    /// Nothing is shown; words after the name are ignored.
    Ignored,
}

impl Arg {
    /// The least and the most words this argument takes (`None`: no limit).
    fn words(self) -> (usize, Option<usize>) {
        match self {
            Arg::Word(_) => (1, Some(1)),
            Arg::OptionalWord(_) | Arg::Flag(_) => (0, Some(1)),
            Arg::Text(_) => (1, None),
            Arg::Words(_) | Arg::Ignored => (0, None),
        }
    }

    fn usage(self) -> String {
        match self {
            Arg::Word(name) | Arg::Text(name) => format!("<{name}>"),
            Arg::OptionalWord(name) => format!("[<{name}>]"),
            Arg::Flag(flag) => format!("[{flag}]"),
            Arg::Words(name) => format!("[<{name}>...]"),
            Arg::Ignored => String::new(),
        }
    }
}

impl Command {
    /// `state [<path>] [--json]`: the name and the arguments, as `help` shows them.
    pub fn usage(&self) -> String {
        let mut usage = self.name.to_owned();
        for arg in self.args {
            let arg = arg.usage();
            if !arg.is_empty() {
                usage.push(' ');
                usage.push_str(&arg);
            }
        }
        usage
    }

    /// Whether `count` words after the name are what the arguments take.
    fn takes(&self, count: usize) -> bool {
        let (min, max) = self.args.iter().fold((0, Some(0)), |(min, max), arg| {
            let (least, most) = arg.words();
            (min + least, max.zip(most).map(|(a, b)| a + b))
        });
        count >= min && max.is_none_or(|max| count <= max)
    }
}

/// What a command does; the parser maps a line to one of these through [`COMMANDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Call,
    State,
    Set,
    Save,
    Load,
    Reload,
    Plan,
    Warnings,
    Fns,
    Types,
    Help,
    Quit,
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "call",
        alias: None,
        args: &[Arg::Word("fn"), Arg::Words("arg")],
        about: "call a hot function: `&T`/`&mut T` parameters take the live resources, the others the arguments in order",
        example: "call spawn 5 9",
        action: Action::Call,
    },
    Command {
        name: "state",
        alias: None,
        args: &[Arg::OptionalWord("path"), Arg::Flag("--json")],
        about: "print the live state, or one value in it, readably or (`--json`) as one line of JSON",
        example: "state World.particles[0].pos",
        action: Action::State,
    },
    Command {
        name: "set",
        alias: None,
        args: &[Arg::Word("path"), Arg::Text("json")],
        about: "replace one value with JSON (a bare word is a string or a unit variant)",
        example: "set World.gravity.y -2.5",
        action: Action::Set,
    },
    Command {
        name: "save",
        alias: None,
        args: &[Arg::Word("file")],
        about: "save the state as JSON (the `state --json` shape, with its layouts and the plugin's package name)",
        example: "save snap.json",
        action: Action::Save,
    },
    Command {
        name: "load",
        alias: None,
        args: &[Arg::Word("file")],
        about: "load a saved state, migrated by field name if saved under older layouts; another plugin's is refused",
        example: "load snap.json",
        action: Action::Load,
    },
    Command {
        name: "reload",
        alias: None,
        args: &[],
        about: "rebuild the plugin and reload it, keeping the state",
        example: "reload",
        action: Action::Reload,
    },
    Command {
        name: "plan",
        alias: None,
        args: &[],
        about: "build the current source and show the migration it would need, without applying it",
        example: "plan",
        action: Action::Plan,
    },
    Command {
        name: "warnings",
        alias: None,
        args: &[],
        about: "print the warnings of the last successful build",
        example: "warnings",
        action: Action::Warnings,
    },
    Command {
        name: "fns",
        alias: None,
        args: &[],
        about: "list the hot functions and their signatures",
        example: "fns",
        action: Action::Fns,
    },
    Command {
        name: "types",
        alias: None,
        args: &[],
        about: "list the plugin's types and their fields",
        example: "types",
        action: Action::Types,
    },
    Command {
        name: "help",
        alias: None,
        args: &[Arg::Ignored],
        about: "this text",
        example: "help",
        action: Action::Help,
    },
    Command {
        name: "quit",
        alias: Some("exit"),
        args: &[Arg::Ignored],
        about: "leave (end of input does too)",
        example: "quit",
        action: Action::Quit,
    },
];

/// The text of `help` (and of `hot-host run --help` after the options): every command of
/// [`COMMANDS`] with its arguments, what it does and an example, then how words are quoted.
pub fn help() -> String {
    let width = COMMANDS.iter().map(|c| c.usage().len()).max().unwrap_or(0);
    let mut text = String::from("commands:\n");
    for command in COMMANDS {
        let usage = command.usage();
        let _ = write!(text, "  {usage:width$}  {}", command.about);
        if let Some(alias) = command.alias {
            let _ = write!(text, "; also `{alias}`");
        }
        text.push('\n');
        if command.example != usage {
            let _ = writeln!(text, "  {:width$}  e.g. `{}`", "", command.example);
        }
    }
    text.push_str(
        "words are split as in a shell: quote a word with spaces (\"a b\"); single quotes keep \
         JSON's double quotes: set World.gravity '{\"x\": 0, \"y\": -3}'",
    );
    text
}

/// The line could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a quote is not closed, or the line ends in `\\`; close the quote (`'...'` or `\"...\"`)")]
pub struct SplitError;

/// Splits a command line into words as a POSIX shell does: double quotes group words (with
/// `\"` and `\\` escapes inside), single quotes group them literally (for JSON:
/// `'{"name": "orc"}'`), a backslash outside quotes escapes the next character, and a `#` at the
/// start of a word begins a comment.
pub fn split_words(line: &str) -> Result<Vec<String>, SplitError> {
    shlex::split(line).ok_or(SplitError)
}

/// What the loop should do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Runs one command line, for a plugin whose identity is not known: `save` writes no
/// `plugin` member and `load` takes any plugin's snapshot (see [`run_command_of`]).
pub fn run_command(
    host: &mut Host,
    line: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Flow> {
    run_command_of(host, None, line, out, err)
}

/// Runs one command line for the plugin `plugin`: `save` records it in the snapshot, and `load`
/// refuses a snapshot of another plugin ([`SnapshotError::OtherPlugin`], as `--restore` does).
/// Drops whose `Drop` panicked during the command are printed as warnings after it.
///
/// [`SnapshotError::OtherPlugin`]: crate::state_io::snapshot::SnapshotError::OtherPlugin
pub fn run_command_of(
    host: &mut Host,
    plugin: Option<&PluginId>,
    line: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Flow> {
    let flow = command(host, plugin, line, out, err)?;
    // A resource that a returned value replaced, an argument given back, a value `set` or
    // `load` replaced, whose `Drop` panicked.
    for panic in host.take_drop_panics() {
        writeln!(err, "warning: {panic}")?;
    }
    Ok(flow)
}

fn command(
    host: &mut Host,
    plugin: Option<&PluginId>,
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
    let found = COMMANDS
        .iter()
        .find(|c| c.name == name || c.alias == Some(name.as_str()));
    let action = match found {
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
    match (action, args) {
        (Action::Quit, _) => return Ok(Flow::Quit),
        (Action::Help, _) => writeln!(out, "{}", help())?,
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
        (Action::Save, [file]) => {
            let text = match plugin {
                Some(plugin) => crate::state_io::snapshot::save_of(host.state(), plugin),
                None => crate::state_io::snapshot::save(host.state()),
            };
            match std::fs::write(file, text) {
                Ok(()) => writeln!(out, "saved the state to {file}")?,
                Err(e) => writeln!(err, "error: could not write {file}: {e}")?,
            }
        }
        (Action::Load, [file]) => match std::fs::read_to_string(file) {
            Err(e) => writeln!(err, "error: could not read {file}: {e}")?,
            Ok(text) => match match plugin {
                Some(plugin) => crate::state_io::snapshot::load_for(&text, host.catalog(), plugin),
                None => crate::state_io::snapshot::load(&text, host.catalog()),
            } {
                Ok((state, report)) => {
                    *host.state_mut() = state;
                    writeln!(out, "{report}")?;
                }
                Err(e) => writeln!(
                    err,
                    "error: could not load {file}, the state is unchanged: {e}"
                )?,
            },
        },
        (Action::Reload, _) => match host.reload() {
            Ok(report) => writeln!(out, "{report}")?,
            Err(e) => writeln!(
                err,
                "error: reload failed; version {} keeps running with its state\n{e}",
                host.version()
            )?,
        },
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
        (Action::Types, _) => {
            for desc in host.catalog().iter() {
                write_type(out, &TypeLayout::from_desc(desc))?;
            }
        }
        // `Command::takes` let through only the words these commands take.
        (Action::Call | Action::Set | Action::Save | Action::Load, _) => {
            unknown(line, args, name, err)?;
        }
    }
    Ok(Flow::Continue)
}

/// The error of a line whose first word is no command, or whose words the command does not take.
fn unknown(line: &str, args: &[String], name: &str, err: &mut dyn Write) -> io::Result<()> {
    writeln!(
        err,
        "error: unknown command or arguments: `{}`; type `help` for the commands",
        if args.is_empty() { name } else { line.trim() }
    )
}

fn call(
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
    let params = f
        .desc()
        .params
        .iter()
        .filter(|p| {
            !matches!(
                p.kind,
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
        match Value::parse(&param.kind, text) {
            Ok(v) => values.push(v),
            Err(e) => return writeln!(err, "error: argument `{}` of `{name}`: {e}", param.name),
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
    for line in input.lines() {
        let line = line?;
        let flow = run_command(host, &line, out, err)?;
        out.flush()?;
        err.flush()?;
        if flow == Flow::Quit {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_of_the_table_is_a_line_its_command_takes() {
        for command in COMMANDS {
            let words = split_words(command.example).unwrap();
            assert_eq!(words[0], command.name, "{command:?}");
            assert!(command.takes(words.len() - 1), "{command:?}");
        }
    }

    #[test]
    fn the_table_says_how_many_words_each_command_takes() {
        let takes = |name: &str, count: usize| {
            COMMANDS
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .takes(count)
        };
        assert_eq!(
            (0..4).map(|n| takes("state", n)).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        assert_eq!(
            (0..4).map(|n| takes("set", n)).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        assert_eq!(
            (0..3).map(|n| takes("save", n)).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert_eq!(
            (0..3).map(|n| takes("reload", n)).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert!(takes("call", 1) && takes("call", 9) && !takes("call", 0));
        assert!(takes("help", 0) && takes("help", 5) && takes("quit", 3));
    }

    #[test]
    fn help_shows_every_command_of_the_table_with_its_arguments() {
        let help = help();
        let lines: Vec<&str> = help.lines().collect();
        assert_eq!(lines[0], "commands:");
        assert_eq!(
            lines[1],
            "  call <fn> [<arg>...]     call a hot function: `&T`/`&mut T` parameters take the live \
             resources, the others the arguments in order"
        );
        assert_eq!(lines[2], "                           e.g. `call spawn 5 9`");
        assert!(lines.contains(&"  set <path> <json>        replace one value with JSON (a bare word is a string or a unit variant)"));
        assert!(
            lines
                .contains(&"  quit                     leave (end of input does too); also `exit`")
        );
        for command in COMMANDS {
            let usage = format!("  {} ", command.usage());
            assert!(help.contains(&usage), "{usage:?} in {help}");
        }
    }

    #[test]
    fn a_backslash_outside_quotes_escapes_as_in_a_shell() {
        assert_eq!(
            split_words(r"set Game.title dark\ elf").unwrap(),
            vec!["set", "Game.title", "dark elf"]
        );
        assert_eq!(
            split_words("call f '{'"),
            Ok(vec!["call".into(), "f".into(), "{".into()])
        );
        assert_eq!(split_words("call f '{"), Err(SplitError));
    }

    #[test]
    fn words_split_on_spaces_and_group_in_quotes() {
        assert_eq!(
            split_words(r#"call greet "Ada Lovelace" 3 "say \"hi\"""#).unwrap(),
            vec!["call", "greet", "Ada Lovelace", "3", r#"say "hi""#]
        );
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_words(r#"call f """#).unwrap(), vec!["call", "f", ""]);
        assert_eq!(
            split_words(r#"call add '{"name": "orc", "hp": 3}' 2"#).unwrap(),
            vec!["call", "add", r#"{"name": "orc", "hp": 3}"#, "2"]
        );
        assert!(split_words("call f '{").is_err());
        assert!(split_words(r#"call "open"#).is_err());
    }
}
