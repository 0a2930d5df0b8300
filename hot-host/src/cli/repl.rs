//! The host's command language: one command per line, read from standard input by
//! `hot-host run`. Results go to `out`, errors to `err`, and the host carries on after an error.

use std::io::{self, BufRead, Write};

use coo_runtime::descriptors::schema::{LayoutKind, TypeLayout};

use crate::reload::{Host, Value};
use crate::state_io::show::{state_json, state_pretty};
use crate::state_io::snapshot::PluginId;

/// The text of `help`.
pub const HELP: &str = "\
commands:
  call <fn> [args...]   call a hot function; `&T`/`&mut T` parameters take the live resources,
                        the others take the arguments in order (quote strings with spaces: \"a b\")
  state                 print the live state readably
  state --json          print the live state as one line of JSON
  state <path> [--json] print one value: `state World.particles[0].pos`
  set <path> <json>     replace one value: `set World.gravity.y -2.5`, `set World.weather Calm`
  save <file>           save the state as JSON (the `state --json` shape, with its layouts
                        and the plugin's package name)
  load <file>           load a saved state; one saved under older layouts is migrated by
                        field name with the same rules as a reload; another plugin's is refused
  reload                rebuild the plugin and reload it, keeping the state
  plan                  build the current source and show the migration it would need,
                        without applying it
  warnings              print the warnings of the last successful build
  fns                   list the hot functions and their signatures
  types                 list the plugin's types and their fields
  help                  this text
  quit                  leave (end of input does too)";

/// What the loop should do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Splits a command line into words: double quotes group words (with `\"` and `\\` escapes
/// inside), single quotes group them literally (for JSON: `'{"name": "orc"}'`).
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' if !quoted => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err("a single quote is not closed".into()),
                    }
                }
            }
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            '\\' if quoted => match chars.next() {
                Some(e) => current.push(e),
                None => return Err("a `\\` ends the line".into()),
            },
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err("a quote is not closed".into());
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
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
    let Some((command, args)) = words.split_first() else {
        return Ok(Flow::Continue);
    };
    match (command.as_str(), args) {
        ("quit" | "exit", _) => return Ok(Flow::Quit),
        ("help", _) => writeln!(out, "{HELP}")?,
        ("call", [name, args @ ..]) => call(host, name, args, out, err)?,
        ("call", []) => writeln!(err, "error: `call` needs a function name; `fns` lists them")?,
        ("state", []) => write!(out, "{}", state_pretty(host.state()))?,
        ("state", [flag]) if flag == "--json" => writeln!(out, "{}", state_json(host.state()))?,
        ("state", [path]) | ("state", [path, _]) => {
            let json = args.get(1).map(String::as_str) == Some("--json");
            if args.len() == 2 && !json {
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
        ("set", [path, value @ ..]) if !value.is_empty() => {
            let value = value.join(" ");
            match crate::state_io::path::set(host.state_mut(), path, &value) {
                Ok(()) => {}
                Err(e) => writeln!(err, "error: {e}")?,
            }
        }
        ("save", [file]) => {
            let text = match plugin {
                Some(plugin) => crate::state_io::snapshot::save_of(host.state(), plugin),
                None => crate::state_io::snapshot::save(host.state()),
            };
            match std::fs::write(file, text) {
                Ok(()) => writeln!(out, "saved the state to {file}")?,
                Err(e) => writeln!(err, "error: could not write {file}: {e}")?,
            }
        }
        ("load", [file]) => match std::fs::read_to_string(file) {
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
        ("reload", []) => match host.reload() {
            Ok(report) => writeln!(out, "{report}")?,
            Err(e) => writeln!(
                err,
                "error: reload failed; version {} keeps running with its state\n{e}",
                host.version()
            )?,
        },
        ("plan", []) => match host.preview() {
            Ok(text) => write!(out, "{text}")?,
            Err(e) => writeln!(err, "error: {e}")?,
        },
        ("warnings", []) => {
            let warnings = host.builder().last_warnings();
            if warnings.is_empty() {
                writeln!(out, "the last build had no warnings")?;
            }
            for warning in warnings {
                write!(out, "{warning}")?;
            }
        }
        ("fns", []) => {
            for (name, desc) in host.fns() {
                writeln!(out, "{name}: {}", desc.signature())?;
            }
        }
        ("types", []) => {
            for desc in host.catalog().iter() {
                write_type(out, &TypeLayout::from_desc(desc))?;
            }
        }
        (other, _) => writeln!(
            err,
            "error: unknown command or arguments: `{}`; type `help` for the commands",
            if args.is_empty() {
                other.to_owned()
            } else {
                line.trim().to_owned()
            }
        )?,
    }
    Ok(Flow::Continue)
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
