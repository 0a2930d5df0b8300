//! `hot-host run A B ..`: several plugin crates in one host ([`Plugins`]), each watched, built
//! and reloaded on its own. The loop calls each plugin's `init` (if it has one), ticks each
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
use crate::reload::Host;
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
        for (name, outcome) in plugins.update() {
            match outcome {
                Ok(report) if options.quiet => {
                    writeln!(out, "[{name}] {}", report.summary(None))?;
                }
                Ok(report) => writeln!(out, "[{name}] {}", report.render(false, None))?,
                Err(e) => writeln!(err, "[{name}] error: {e}; the old version keeps running")?,
            }
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
