//! The `hot-host` command. Thin: it parses arguments and calls the `hot_host` library.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anstream::{AutoStream, ColorChoice};
use clap::{Parser, Subcommand};
use hot_host::cli::devloop::{self, Options, SessionSnapshots};
use hot_host::cli::snapshots::{self, Restore};
use hot_host::cli::{repl, session};
use hot_host::state_io::binary::Format;
use hot_host::state_io::snapshot::SnapshotDir;
use hot_host::{Builder, Host, Profile};

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
    #[command(after_help = repl::help())]
    Run {
        /// The plugin crate: any crate with `crate-type = ["cdylib", "rlib"]` that depends on
        /// `coo-runtime`. Several run together, each reloaded on its own (those a change to a crate
        /// they share affects: in one transaction), their functions named
        /// `crate::function` (see `hot_host::embed::plugins`); with several, snapshots are not
        /// kept yet and the commands are `fns`, `types`, `imports`, `call`, `state PLUGIN`, `quit`.
        #[arg(required = true, num_args = 1..)]
        plugin_dirs: Vec<PathBuf>,
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
        /// Resume from a saved state instead of calling `init`: from the last run's snapshot,
        /// or with `--restore=FILE` from that one (a path, or a name that `hot-host snapshots`
        /// lists). Every run of the host saves the state into a file of its own before every
        /// reload, every few seconds (`--autosave`) and at exit. A run that crashed stays the
        /// one `--restore` restores until it is restored, even if the host was started without
        /// `--restore` in between. If the snapshot cannot be
        /// restored, the host says why and starts with `init`.
        #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
        restore: Option<Option<PathBuf>>,
        /// Where the snapshots are kept [default: TARGET_DIR/coo-state/PACKAGE].
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// How many snapshots to keep (one per run of the host; the oldest are removed).
        #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
        keep_snapshots: u16,
        /// Seconds between two saves of the state while it runs; 0 saves only before reloads
        /// and at exit.
        #[arg(long, value_name = "SECS", default_value_t = 5)]
        autosave: u64,
        /// The format of this run's snapshots: `json` (for people and tools) or `coo` (compact
        /// binary, quick for large states). `--restore` and `load` read either.
        #[arg(long, value_name = "FORMAT", default_value = "json", value_parser = ["json", "coo"])]
        autosave_format: String,
        /// Where cargo builds the plugin [default: PLUGIN_DIR/target/coo]. Never the host's own
        /// target directory: the nested build must not wait on the outer build's lock.
        #[arg(long, value_name = "DIR")]
        target_dir: Option<PathBuf>,
        /// Build the plugin with `--release`.
        #[arg(long)]
        release: bool,
    },
    /// List the snapshots of the plugin crate in PLUGIN_DIR, newest first, for
    /// `hot-host run PLUGIN_DIR --restore=FILE`.
    Snapshots {
        plugin_dir: PathBuf,
        /// As for `run`.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// As for `run`: the default state directory is in it.
        #[arg(long, value_name = "DIR")]
        target_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The plugin's `log` records, on standard error (`RUST_LOG` filters them).
    hot_host::cli::logger::install();
    match cli.command {
        Command::Run {
            plugin_dirs,
            tick,
            every,
            no_watch,
            quiet,
            restore,
            state_dir,
            keep_snapshots,
            autosave,
            autosave_format,
            target_dir,
            release,
        } => {
            // Cargo's diagnostics are coloured as standard error takes colour.
            let color = AutoStream::choice(&io::stderr()) != ColorChoice::Never;
            if plugin_dirs.len() > 1 {
                if restore.is_some() {
                    return fail(
                        "`--restore` takes one plugin: several plugins keep no snapshots yet",
                    );
                }
                let builders = plugin_dirs
                    .iter()
                    .map(|dir| {
                        let mut builder = Builder::new(dir).color(color);
                        if let Some(target) = &target_dir {
                            builder = builder.with_target_dir(target);
                        }
                        if release {
                            builder = builder.profile(Profile::Release);
                        }
                        builder
                    })
                    .collect();
                let options = hot_host::cli::several::SeveralOptions {
                    tick,
                    every: Duration::from_millis(every),
                    watch: !no_watch,
                    quiet,
                };
                let stdin = io::BufReader::new(io::stdin());
                return match hot_host::cli::several::run(
                    builders,
                    &options,
                    stdin,
                    &mut io::stdout(),
                    &mut io::stderr(),
                ) {
                    Ok(true) => ExitCode::SUCCESS,
                    Ok(false) => ExitCode::FAILURE,
                    Err(e) => fail(e),
                };
            }
            let plugin_dir = plugin_dirs.into_iter().next().expect("clap requires one");
            let mut builder = Builder::new(&plugin_dir).color(color);
            if let Some(dir) = target_dir {
                builder = builder.with_target_dir(dir);
            }
            if release {
                builder = builder.profile(Profile::Release);
            }
            let plugin = match devloop::plugin_id(&plugin_dir) {
                Ok(plugin) => plugin,
                Err(e) => return fail(e),
            };
            let dir = state_dir
                .unwrap_or_else(|| snapshots::default_state_dir(builder.target_dir(), &plugin));
            let snapshots = match SessionSnapshots::start(
                SnapshotDir::new(&dir, keep_snapshots.into()).with_format(
                    if autosave_format == "coo" {
                        Format::Binary
                    } else {
                        Format::Json
                    },
                ),
                plugin,
            ) {
                Ok(snapshots) => snapshots,
                Err(e) => {
                    return fail(format_args!(
                        "could not read the snapshots in {}: {e}",
                        dir.display()
                    ));
                }
            };
            let mut options = Options {
                tick: Some(tick),
                every: Duration::from_millis(every),
                watch: !no_watch,
                quiet,
                snapshots: Some(snapshots),
                autosave: Duration::from_secs(autosave),
            };
            let restore = restore.map(|file| file.map_or(Restore::Default, Restore::File));
            let host = Host::with_builder(builder);
            if session::run_until_quit(host, &mut options, restore.as_ref()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Snapshots {
            plugin_dir,
            state_dir,
            target_dir,
        } => {
            let plugin = match devloop::plugin_id(&plugin_dir) {
                Ok(plugin) => plugin,
                Err(e) => return fail(e),
            };
            let mut builder = Builder::new(&plugin_dir);
            if let Some(dir) = target_dir {
                builder = builder.with_target_dir(dir);
            }
            let dir = state_dir
                .unwrap_or_else(|| snapshots::default_state_dir(builder.target_dir(), &plugin));
            match snapshots::list(&SnapshotDir::new(dir, 1), &plugin, &mut io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
    }
}

/// Prints `error: {e}` on standard error; the command failed.
fn fail(e: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(anstream::stderr(), "error: {e}");
    ExitCode::FAILURE
}
