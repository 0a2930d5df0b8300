//! The `hot-host` command. Thin: it parses arguments and calls the `hot_host` library.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use hot_host::devloop::{self, Options};
use hot_host::{Builder, Host, Profile, Value, repl};

/// Runs a Coo plugin crate and reloads it while it runs: change any code, including struct
/// layouts, and the live state is migrated to the new types, or nothing changes at all.
#[derive(Debug, Parser)]
#[command(name = "hot-host", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build and load the plugin crate in PLUGIN_DIR and run it: call its `init` function if it
    /// has one (the value it returns becomes a resource), call its tick function every few
    /// milliseconds, rebuild and reload it on every save of its sources, and read commands from
    /// standard input, one per line, until `quit` or the end of input.
    #[command(after_help = repl::HELP)]
    Run {
        /// The plugin crate: any crate with `crate-type = ["cdylib", "rlib"]` that depends on
        /// `coo-runtime`.
        plugin_dir: PathBuf,
        /// The function to call on every tick.
        #[arg(long, value_name = "FN", default_value = "tick")]
        tick: String,
        /// Milliseconds between two ticks; 0 disables ticking.
        #[arg(long, value_name = "MS", default_value_t = 100)]
        every: u64,
        /// Do not watch the sources; reload only on the `reload` command.
        #[arg(long)]
        no_watch: bool,
        /// One line per reload instead of a block.
        #[arg(long)]
        quiet: bool,
        /// Resume from the last saved state instead of calling `init`: the state is saved before
        /// every reload, every few seconds (`--autosave`) and at exit, so nothing is lost even
        /// when the host process died.
        #[arg(long)]
        restore: bool,
        /// Seconds between two saves of the state while it runs; 0 saves only before reloads
        /// and at exit.
        #[arg(long, value_name = "SECS", default_value_t = 5)]
        autosave: u64,
        /// Where cargo builds the plugin [default: PLUGIN_DIR/target/coo]. Never the host's own
        /// target directory: the nested build must not wait on the outer build's lock.
        #[arg(long, value_name = "DIR")]
        target_dir: Option<PathBuf>,
        /// Build the plugin with `--release`.
        #[arg(long)]
        release: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            plugin_dir,
            tick,
            every,
            no_watch,
            quiet,
            restore,
            autosave,
            target_dir,
            release,
        } => {
            let color = io::stdout().is_terminal();
            let mut builder = Builder::new(&plugin_dir).color(io::stderr().is_terminal());
            if let Some(dir) = target_dir {
                builder = builder.with_target_dir(dir);
            }
            if release {
                builder = builder.profile(Profile::Release);
            }
            let options = Options {
                tick: Some(tick),
                every: Duration::from_millis(every),
                watch: !no_watch,
                quiet,
                color,
                snapshot: Some(builder.target_dir().join("coo-snapshot.json")),
                autosave: Duration::from_secs(autosave),
            };
            run(Host::with_builder(builder), &options, restore)
        }
    }
}

fn run(mut host: Host, options: &Options, restore: bool) -> ExitCode {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let dir = host.builder().plugin_dir().display().to_string();
    match host.reload() {
        Ok(report) => {
            let _ = writeln!(out, "loaded {dir} (version {})", report.to_version);
        }
        Err(e) => {
            let _ = writeln!(err, "error: could not load {dir}:\n{e}");
            return ExitCode::FAILURE;
        }
    }
    let restored = restore && restore_snapshot(&mut host, options, &mut out, &mut err);
    if !restored && host.resolve("init").is_ok() {
        match host.call_by_name("init", &[]) {
            Ok(Value::Unit) => {}
            Ok(v) => {
                let _ = writeln!(out, "init: {v}");
            }
            Err(e) => {
                let _ = writeln!(err, "error: init: {e}");
            }
        }
    }
    let _ = out.flush();
    let (events, incoming) = mpsc::channel();
    devloop::spawn_stdin_reader(events.clone());
    match devloop::run(&mut host, options, events, incoming, &mut out, &mut err) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the last snapshot into the host; whether it did.
fn restore_snapshot(
    host: &mut Host,
    options: &Options,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> bool {
    let Some(path) = &options.snapshot else {
        return false;
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            let _ = writeln!(
                err,
                "warning: no snapshot to restore at {} ({e}); starting with `init`",
                path.display()
            );
            return false;
        }
    };
    match hot_host::snapshot::load(&text, host.catalog()) {
        Ok((state, report)) => {
            *host.state_mut() = state;
            let _ = writeln!(out, "restored the state from {}", path.display());
            let report = report.to_string();
            if !report.trim().is_empty() {
                let _ = writeln!(out, "{report}");
            }
            true
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "error: could not restore {}: {e}; starting with `init`",
                path.display()
            );
            false
        }
    }
}
