//! The `hot-host` command. Thin: it parses arguments and calls the `hot_host` library.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use hot_host::cli::devloop::{self, Options, SessionSnapshots};
use hot_host::cli::repl;
use hot_host::state_io::snapshot::{self, PluginId, SnapshotDir};
use hot_host::{Builder, Host, Profile, Value};

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
    match cli.command {
        Command::Run {
            plugin_dir,
            tick,
            every,
            no_watch,
            quiet,
            restore,
            state_dir,
            keep_snapshots,
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
            let plugin = match devloop::plugin_id(&plugin_dir) {
                Ok(plugin) => plugin,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let dir = state_dir.unwrap_or_else(|| default_state_dir(builder.target_dir(), &plugin));
            let snapshots = match SessionSnapshots::start(
                SnapshotDir::new(&dir, keep_snapshots.into()),
                plugin,
            ) {
                Ok(snapshots) => snapshots,
                Err(e) => {
                    eprintln!(
                        "error: could not read the snapshots in {}: {e}",
                        dir.display()
                    );
                    return ExitCode::FAILURE;
                }
            };
            let mut options = Options {
                tick: Some(tick),
                every: Duration::from_millis(every),
                watch: !no_watch,
                quiet,
                color,
                snapshots: Some(snapshots),
                autosave: Duration::from_secs(autosave),
            };
            run(Host::with_builder(builder), &mut options, restore)
        }
        Command::Snapshots {
            plugin_dir,
            state_dir,
            target_dir,
        } => {
            let plugin = match devloop::plugin_id(&plugin_dir) {
                Ok(plugin) => plugin,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let mut builder = Builder::new(&plugin_dir);
            if let Some(dir) = target_dir {
                builder = builder.with_target_dir(dir);
            }
            let dir = state_dir.unwrap_or_else(|| default_state_dir(builder.target_dir(), &plugin));
            list_snapshots(&SnapshotDir::new(dir, 1), &plugin)
        }
    }
}

/// `TARGET_DIR/coo-state/PACKAGE`: of this plugin only, even in a target dir shared by several.
fn default_state_dir(target_dir: &Path, plugin: &PluginId) -> PathBuf {
    target_dir.join("coo-state").join(&plugin.package)
}

fn list_snapshots(dir: &SnapshotDir, plugin: &PluginId) -> ExitCode {
    let files = match dir.list() {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: could not list {}: {e}", dir.dir.display());
            return ExitCode::FAILURE;
        }
    };
    if files.is_empty() {
        println!("no snapshots in {}", dir.dir.display());
        return ExitCode::SUCCESS;
    }
    let default = dir.restore_candidate().ok().flatten().map(|(file, _)| file);
    println!(
        "snapshots in {}, newest first (`--restore` restores the one marked *, `--restore=NAME` another):",
        dir.dir.display()
    );
    for file in files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let about = match std::fs::read_to_string(&file) {
            Err(e) => format!("unreadable: {e}"),
            Ok(text) => match snapshot::header_of(&text) {
                Err(e) => format!("not loadable: {e}"),
                Ok(header) => match (header.plugin, header.run) {
                    (Some(saved), _) if saved.package != plugin.package => {
                        format!("of another plugin, `{}`", saved.package)
                    }
                    (_, Some(run)) if !run.ended => {
                        format!("{}; the run did not end", resources_of(&text))
                    }
                    _ => resources_of(&text),
                },
            },
        };
        let mark = if Some(&file) == default.as_ref() {
            '*'
        } else {
            ' '
        };
        println!("{mark} {name}  {about}");
    }
    ExitCode::SUCCESS
}

/// `World, Score`: the resources a snapshot holds.
fn resources_of(text: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    match json["state"].as_object() {
        Some(state) if !state.is_empty() => state
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        _ => "no resources".to_owned(),
    }
}

fn run(mut host: Host, options: &mut Options, restore: Option<Option<PathBuf>>) -> ExitCode {
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
    let restored = restore.as_ref().is_some_and(|file| {
        restore_snapshot(&mut host, options, file.as_deref(), &mut out, &mut err)
    });
    if !restored
        && let Some(snapshots) = &options.snapshots
        && let Some(waiting) = &snapshots.waiting
    {
        let _ = if restore.is_some() {
            writeln!(
                err,
                "warning: {} was not restored; it stays, and `--restore` picks it again \
                 (`--restore=NAME` picks another, `hot-host snapshots` lists them)",
                waiting.display()
            )
        } else {
            writeln!(
                err,
                "warning: the last run did not end and its state was not restored: it stays in \
                 {}, and `--restore` restores it (`hot-host snapshots` lists the others)",
                waiting.display()
            )
        };
    }
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
        for panic in host.take_drop_panics() {
            let _ = writeln!(err, "warning: {panic}");
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

/// Loads a snapshot into the host, `file` or else the default one; whether it did. The
/// snapshot file is left as it is: this run saves into a file of its own.
fn restore_snapshot(
    host: &mut Host,
    options: &mut Options,
    file: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> bool {
    let Some(snapshots) = &mut options.snapshots else {
        return false;
    };
    let path = match file {
        // A name as `hot-host snapshots` lists it, or a path.
        Some(file) => {
            let listed = snapshots.dir.dir.join(file);
            if !file.exists() && file.components().count() == 1 && listed.exists() {
                listed
            } else {
                file.to_path_buf()
            }
        }
        None => match snapshots.dir.restore_candidate() {
            Ok(Some((file, _))) => file,
            Ok(None) => {
                let _ = writeln!(
                    err,
                    "warning: no snapshot to restore in {}; starting with `init`",
                    snapshots.dir.dir.display()
                );
                return false;
            }
            Err(e) => {
                let _ = writeln!(
                    err,
                    "error: could not list the snapshots in {} ({e}); starting with `init`",
                    snapshots.dir.dir.display()
                );
                return false;
            }
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            let _ = writeln!(
                err,
                "error: could not read the snapshot {} ({e}); starting with `init`",
                path.display()
            );
            return false;
        }
    };
    match snapshot::load_for(&text, host.catalog(), &snapshots.plugin) {
        Ok((state, report)) => {
            *host.state_mut() = state;
            snapshots.restored();
            let _ = writeln!(out, "restored the state from {}", path.display());
            let report = report.to_string();
            if !report.trim().is_empty() {
                let _ = writeln!(out, "{report}");
            }
            true
        }
        Err(e) => {
            if path.parent() == Some(snapshots.dir.dir.as_path()) {
                snapshots.restore_failed(&path);
            }
            let _ = writeln!(
                err,
                "error: could not restore {}: {e}; starting with `init`",
                path.display()
            );
            false
        }
    }
}
