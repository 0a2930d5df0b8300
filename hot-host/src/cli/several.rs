//! `hot-host run A B ..`: several plugin crates in one host ([`Plugins`]), each watched, built
//! and reloaded on its own, or together with the others that share a crate that changed (one
//! transaction, printed as one block headed by all their names). The loop calls each plugin's `init` (if it has one), ticks each
//! plugin's tick function, prints each reload's report under its plugin's name, and reads
//! commands from standard input, one per line: `fns` and `types` (with their owning plugin),
//! `imports`, `call NAME [ARGS..]` (`physics::step 1`, or unqualified when one plugin alone has
//! the function), `state PLUGIN`, `quit`.
//!
//! What the single-plugin dev loop has and this one has not (yet): snapshots (`--restore`,
//! autosave, `save`/`load`), `set`, `watch`, `preview`, line editing and completion.

use std::io::{self, BufRead, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::build::Builder;
use crate::embed::{CooOptions, DEBOUNCE, Plugins};
use crate::reload::{Host, ReloadError, ReloadReport};
use crate::slots::FnHandle;
use crate::state_io::show::state_pretty;

/// How `run` ticks and reports.
#[derive(Debug, Clone)]
pub struct SeveralOptions {
    /// The function each plugin ticks, if it has it.
    pub tick: String,
    /// Time between two ticks; zero: no ticking.
    pub every: Duration,
    pub watch: bool,
    pub quiet: bool,
}

/// Runs the plugins of `builders` until `quit` or the end of `input`; whether they all loaded.
pub fn run(
    builders: Vec<Builder>,
    options: &SeveralOptions,
    input: impl BufRead + Send + 'static,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<bool> {
    let mut plugins = Plugins::new();
    for builder in builders {
        let dir = builder.plugin_dir().display().to_string();
        let coo_options = CooOptions {
            watch: options.watch,
            debounce: DEBOUNCE,
            wake: None,
        };
        match plugins.add_dir(Host::with_builder(builder), coo_options) {
            Ok((name, report)) => {
                writeln!(out, "[{name}] loaded from {dir}: {}", report.summary(None))?
            }
            Err(e) => {
                writeln!(err, "error: {dir}: {e}")?;
                return Ok(false);
            }
        }
    }
    let names: Vec<String> = plugins.names().map(str::to_owned).collect();
    for name in &names {
        if plugins
            .host(name)
            .is_some_and(|h| h.resolve("init").is_ok())
        {
            let qualified = format!("{name}::init");
            if let Err(e) = plugins.call_by_name(&qualified, &[]) {
                writeln!(err, "error: {e}")?;
            }
        }
    }
    let (lines, incoming) = mpsc::channel();
    std::thread::spawn(move || {
        for line in input.lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut ticks = tick_handles(&plugins, &options.tick);
    let mut next_tick = Instant::now() + options.every;
    loop {
        let outcomes = plugins.update();
        if !outcomes.is_empty() {
            print_outcomes(outcomes, options.quiet, out, err)?;
            ticks = tick_handles(&plugins, &options.tick);
        }
        let wait = if options.every.is_zero() {
            Duration::from_millis(20)
        } else {
            next_tick
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(20))
        };
        match incoming.recv_timeout(wait) {
            Ok(line) => {
                if !command(&mut plugins, &line, out, err)? {
                    break;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if !options.every.is_zero() && Instant::now() >= next_tick {
            ticks.retain(|(name, f)| {
                let host = plugins.host_mut(name).expect("a plugin stays");
                match host.call(f, &[]) {
                    Ok(_) => true,
                    Err(e) => {
                        let _ = writeln!(
                            err,
                            "error: tick `{name}::{}`: {e}\nticking `{name}` is paused until its next reload",
                            f.path()
                        );
                        false
                    }
                }
            });
            next_tick = Instant::now() + options.every;
        }
        out.flush()?;
        err.flush()?;
    }
    Ok(true)
}

/// The plugins of the transaction an outcome belongs to, sorted (itself alone when it reloaded
/// alone); `all` are the outcomes of one update.
fn transaction_of(name: &str, outcome: &Outcome, all: &[(String, Outcome)]) -> Vec<String> {
    match outcome {
        Ok(report) if !report.together.is_empty() => {
            let mut names = report.together.clone();
            names.push(name.to_owned());
            names.sort();
            names
        }
        Err(ReloadError::Together { together, .. }) => together.clone(),
        Err(_) => all
            .iter()
            .find_map(|(_, o)| match o {
                Err(ReloadError::Together { failed, together }) if failed == name => {
                    Some(together.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| vec![name.to_owned()]),
        Ok(_) => vec![name.to_owned()],
    }
}

type Outcome = Result<ReloadReport, ReloadError>;

/// Prints what one update did: each plugin that reloaded alone under its name, and the plugins
/// of one transaction as one block, headed by all their names.
fn print_outcomes(
    outcomes: Vec<(String, Outcome)>,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let groups: Vec<Vec<String>> = outcomes
        .iter()
        .map(|(name, outcome)| transaction_of(name, outcome, &outcomes))
        .collect();
    let mut headed: Vec<&Vec<String>> = Vec::new();
    for ((name, outcome), group) in outcomes.iter().zip(&groups) {
        let alone = group.len() == 1;
        if !alone && !headed.contains(&group) {
            headed.push(group);
            let names = group.join(", ");
            if outcome.is_ok() {
                writeln!(
                    out,
                    "[{names}] reloaded together, in one transaction (they share a crate that changed):"
                )?;
            } else {
                writeln!(
                    err,
                    "[{names}] not reloaded: they share a crate that changed and reload in one transaction, which failed; the old versions keep running:"
                )?;
            }
        }
        let indent = if alone { "" } else { "  " };
        match outcome {
            Ok(report) if quiet => writeln!(out, "{indent}[{name}] {}", report.summary(None))?,
            Ok(report) => {
                let text = report.render(false, None);
                let text = text.replace('\n', &format!("\n{indent}"));
                writeln!(out, "{indent}[{name}] {}", text.trim_end())?;
            }
            Err(ReloadError::Together { failed, .. }) => {
                writeln!(
                    err,
                    "{indent}[{name}] not reloaded, because `{failed}` failed"
                )?;
            }
            Err(e) if alone => {
                writeln!(err, "[{name}] error: {e}; the old version keeps running")?;
            }
            Err(e) => writeln!(err, "{indent}[{name}] error: {e}")?,
        }
    }
    Ok(())
}

/// Each plugin's tick function, if it has one.
fn tick_handles(plugins: &Plugins, tick: &str) -> Vec<(String, FnHandle)> {
    plugins
        .names()
        .filter_map(|name| {
            let handle = plugins.host(name)?.resolve(tick).ok()?;
            Some((name.to_owned(), handle))
        })
        .collect()
}

/// Runs one command line; `false` for `quit`.
fn command(
    plugins: &mut Plugins,
    line: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<bool> {
    let words = match shlex::split(line) {
        Some(words) => words,
        None => {
            writeln!(err, "error: unbalanced quotes in `{line}`")?;
            return Ok(true);
        }
    };
    let Some((name, args)) = words.split_first() else {
        return Ok(true);
    };
    match (name.as_str(), args) {
        ("quit" | "exit", []) => return Ok(false),
        ("fns", []) => {
            for (name, desc) in plugins.fns() {
                writeln!(out, "{name}: {}", desc.signature())?;
            }
        }
        ("types", []) => {
            let names: Vec<String> = plugins.names().map(str::to_owned).collect();
            for plugin in names {
                let host = plugins.host(&plugin).expect("a plugin stays");
                for desc in host.catalog().iter() {
                    writeln!(out, "{plugin}::{}", desc.name())?;
                }
            }
        }
        ("imports", []) => {
            let names: Vec<String> = plugins.names().map(str::to_owned).collect();
            for plugin in names {
                for (import, bound) in plugins.imports(&plugin) {
                    let how = if bound { "bound" } else { "not bound" };
                    writeln!(out, "{plugin} imports {import}: {how}")?;
                }
            }
        }
        ("state", [plugin]) => match plugins.host(plugin) {
            Some(host) => write!(out, "{}", state_pretty(host.state()))?,
            None => writeln!(err, "error: no plugin `{plugin}`")?,
        },
        ("call", [name, args @ ..]) => match plugins.resolve(name) {
            Ok(f) => {
                let host = plugins.host_mut(f.plugin()).expect("a plugin stays");
                crate::cli::repl::call(host, f.handle().path(), args, out, err)?;
            }
            Err(e) => writeln!(err, "error: {e}")?,
        },
        _ => writeln!(
            err,
            "error: unknown command `{line}`; with several plugins: fns, types, imports, call NAME [ARGS..], state PLUGIN, quit"
        )?,
    }
    Ok(true)
}
