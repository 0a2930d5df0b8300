//! The `hot-host` command. Thin: it parses arguments and calls the `hot_host` library.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
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
    /// Build and load the plugin crate in PLUGIN_DIR, call its `init` function if it has one
    /// (the value it returns becomes a resource), then read commands from standard input, one
    /// per line, until `quit` or the end of input.
    #[command(after_help = repl::HELP)]
    Run {
        /// The plugin crate: any crate with `crate-type = ["cdylib", "rlib"]` that depends on
        /// `coo-runtime`.
        plugin_dir: PathBuf,
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
            target_dir,
            release,
        } => run(plugin_dir, target_dir, release),
    }
}

fn run(plugin_dir: PathBuf, target_dir: Option<PathBuf>, release: bool) -> ExitCode {
    let mut builder = Builder::new(&plugin_dir).color(io::IsTerminal::is_terminal(&io::stderr()));
    if let Some(dir) = target_dir {
        builder = builder.with_target_dir(dir);
    }
    if release {
        builder = builder.profile(Profile::Release);
    }
    let mut host = Host::with_builder(builder);
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    match host.reload() {
        Ok(report) => {
            let _ = writeln!(
                out,
                "loaded {} (version {})",
                plugin_dir.display(),
                report.to_version
            );
        }
        Err(e) => {
            let _ = writeln!(err, "error: could not load {}:\n{e}", plugin_dir.display());
            return ExitCode::FAILURE;
        }
    }
    if host.resolve("init").is_ok() {
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
    let stdin = io::stdin();
    match repl::run_lines(&mut host, stdin.lock(), &mut out, &mut err) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            ExitCode::FAILURE
        }
    }
}
