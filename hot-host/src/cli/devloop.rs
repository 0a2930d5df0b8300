//! The dev loop of `hot-host run`: the plugin ticks, commands are read from standard input, and
//! every save of the plugin's source is rebuilt in the background and reloaded, state kept.
//!
//! A thin client of [`Coo`] (see [`crate::embed`]), which watches, builds on a thread of its
//! own and coalesces saves. One thread owns the `Coo` and runs the loop; it receives, on one
//! channel, command lines (from a reader thread) and a wake-up whenever the background has
//! something (cargo's progress, a finished build). It then calls [`Coo::update`], between two
//! ticks: a safe point, since every call and every reload needs `&mut Host`. The loop prints
//! what `update` returns and the [`CooEvent`]s, saves snapshots, and runs the commands.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use crate::build::BuildEvent;
pub use crate::build::metadata::{IdentityError, plugin_id};
use crate::cli::autosave::{Autosaver, Job, Saved};
use crate::cli::completion::SharedIndex;
use crate::cli::repl::{Flow, Repl};
use crate::embed::{Coo, CooEvent};
use crate::reload::{Host, ReloadError, ReloadReport};
use crate::slots::{CallErrorKind, FnHandle};
use crate::state_io::capture::Capture;
use crate::state_io::snapshot::{Header, PluginId, RunInfo, SaveError, SnapshotDir};

/// How the loop runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The function to tick; `None` ticks `tick` when the plugin has one.
    pub tick: Option<String>,
    /// Time between two ticks; zero disables ticking.
    pub every: Duration,
    /// Watch the plugin's sources and reload on every save.
    pub watch: bool,
    /// One line per reload instead of a block.
    pub quiet: bool,
    /// Where the state is saved before every reload, every `autosave` and at exit, for
    /// `--restore`.
    pub snapshots: Option<SessionSnapshots>,
    /// Time between two saves of the state while it runs (zero: only before reloads and at
    /// exit), so that a host that dies loses at most that much.
    pub autosave: Duration,
}

/// Where a run of the dev loop saves the state: a file of its own in the plugin's snapshot
/// directory (see [`SnapshotDir`]), marked as the plugin's.
#[derive(Debug, Clone)]
pub struct SessionSnapshots {
    pub dir: SnapshotDir,
    /// This run's file: no other run writes it, and this one writes no other.
    pub file: PathBuf,
    pub plugin: PluginId,
    /// The snapshot `--restore` would restore when this run started, if the run that saved it
    /// did not end (it crashed), or the one this run failed to restore: this run does not
    /// replace it as the default for `--restore`, not even when it ends, and never removes it.
    /// Only restoring it (or another one, deliberately, with `--restore=FILE`) does.
    pub waiting: Option<PathBuf>,
    /// Whether this run's snapshots replace the older ones as the default for `--restore`.
    supersedes: bool,
}

impl SessionSnapshots {
    /// The snapshots of the run starting now, in this process, as one that does not restore
    /// (see [`SessionSnapshots::restored`]).
    pub fn start(dir: SnapshotDir, plugin: PluginId) -> io::Result<SessionSnapshots> {
        let file = dir.session_file(SystemTime::now(), std::process::id());
        let waiting = dir
            .restore_candidate()?
            .filter(|(_, header)| {
                header
                    .as_ref()
                    .and_then(|h| h.run)
                    .is_some_and(|run| !run.ended)
            })
            .map(|(file, _)| file);
        Ok(SessionSnapshots {
            dir,
            file,
            plugin,
            supersedes: waiting.is_none(),
            waiting,
        })
    }

    /// This run resumes from a restored snapshot: its own replace the older ones.
    pub fn restored(&mut self) {
        self.supersedes = true;
        self.waiting = None;
    }

    /// Restoring `file` failed: it stays the default for `--restore`, and is never removed.
    pub fn restore_failed(&mut self, file: &Path) {
        self.supersedes = false;
        self.waiting = Some(file.to_path_buf());
    }

    /// Saves the state into this run's file; `ended` at exit.
    pub fn save(&self, state: &coo_runtime::State, ended: bool) -> Result<(), SaveError> {
        let run = RunInfo {
            supersedes: self.supersedes,
            ended,
        };
        let header = Header {
            plugin: Some(self.plugin.clone()),
            run: Some(run),
        };
        let format = crate::state_io::binary::Format::of_path(&self.file);
        let bytes = crate::state_io::snapshot::encode(&Capture::of(state)?, &header, format);
        self.dir.write(&self.file, bytes, self.waiting.as_deref())
    }

    /// A save of the state into this run's file, for the [`Autosaver`]: the state is copied
    /// now ([`Capture`]), and written on the autosave thread.
    pub fn job(&self, state: &coo_runtime::State, ended: bool) -> Job {
        Job {
            capture: Capture::of(state),
            header: Header {
                plugin: Some(self.plugin.clone()),
                run: Some(RunInfo {
                    supersedes: self.supersedes,
                    ended,
                }),
            },
            dir: self.dir.clone(),
            file: self.file.clone(),
            protect: self.waiting.clone(),
            written: None,
            announce: false,
        }
    }
}

/// Something the loop reacts to.
#[derive(Debug)]
pub enum Event {
    /// A command line from standard input.
    Line(String),
    /// Standard input ended.
    Eof,
    /// The [`Coo`] has something for [`Coo::update`]: cargo's progress, a finished build.
    Background,
}

struct Ticker {
    name: String,
    every: Duration,
    handle: Option<FnHandle>,
    next: Instant,
    /// Ticking stops after an error, until the next reload.
    paused: bool,
}

impl Ticker {
    fn new(host: &Host, options: &Options) -> Option<Ticker> {
        if options.every.is_zero() {
            return None;
        }
        let name = options.tick.clone().unwrap_or_else(|| "tick".to_owned());
        let mut ticker = Ticker {
            name,
            every: options.every,
            handle: None,
            next: Instant::now() + options.every,
            paused: false,
        };
        ticker.resolve(host);
        Some(ticker)
    }

    /// Resolves the tick function again (after a reload its signature may have changed).
    fn resolve(&mut self, host: &Host) {
        self.handle = host.resolve(&self.name).ok();
        self.paused = false;
    }

    fn timeout(&self) -> Duration {
        if self.handle.is_none() || self.paused {
            return Duration::from_secs(3600);
        }
        self.next.saturating_duration_since(Instant::now())
    }

    /// Ticks if it is time; whether the tick function was called.
    fn tick(&mut self, host: &mut Host, err: &mut dyn Write) -> io::Result<bool> {
        let now = Instant::now();
        if self.paused || now < self.next {
            return Ok(false);
        }
        let Some(handle) = &self.handle else {
            return Ok(false);
        };
        // Late ticks are not made up for: the next one is a period from now.
        self.next = (self.next + self.every).max(now);
        if let Err(e) = host.call(handle, &[]) {
            self.paused = true;
            let hint = match e.kind {
                CallErrorKind::ArgCount { .. } | CallErrorKind::BadArg { .. } => {
                    "the tick function must take only resources (`&T`/`&mut T`)"
                }
                _ => "ticking is paused until the next reload",
            };
            writeln!(err, "error: tick `{}`: {e}\n{hint}", self.name)?;
        }
        // A resource that the returned value replaced, or an argument given back, whose `Drop`
        // panicked: leaked, and ticking goes on.
        for panic in host.take_drop_panics() {
            writeln!(err, "warning: {panic}")?;
        }
        Ok(true)
    }
}

/// Runs the loop until `quit` or the end of input. `incoming` receives the command lines and
/// the wake-ups of `coo` (see [`CooOptions::wake`](crate::CooOptions::wake)). `index` is what
/// a line editor completes from, if there is one: the loop keeps it up to date.
pub fn run(
    coo: &mut Coo,
    options: &Options,
    incoming: mpsc::Receiver<Event>,
    index: Option<SharedIndex>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let mut ticker = Ticker::new(coo.host(), options);
    if let Some(t) = &ticker
        && t.handle.is_none()
        && options.tick.as_deref().is_some_and(|name| name != "tick")
    {
        writeln!(
            err,
            "warning: the plugin has no function `{}` to tick",
            t.name
        )?;
    }
    let plugin = options.snapshots.as_ref().map(|s| s.plugin.clone());
    let mut repl = Repl::new(plugin, index);
    // Snapshots are formatted and written on a thread of their own, from a copy of the state.
    let autosaver = options.snapshots.as_ref().map(|_| Autosaver::spawn());
    let mut next_autosave = Instant::now() + options.autosave;
    // Whether anything ran (a tick, a command, a reload) since the last snapshot was captured:
    // an autosave of a state nothing touched is skipped.
    let mut changed = true;
    loop {
        // What the background has: `Coo::new`'s events at the start, then whatever woke us.
        changed |= update(
            coo,
            options,
            autosaver.as_ref(),
            &mut ticker,
            &mut repl,
            out,
            err,
        )?;
        for saved in autosaver.iter().flat_map(Autosaver::saved) {
            saved_report(&saved, out, err)?;
        }
        let mut timeout = ticker
            .as_ref()
            .map_or(Duration::from_secs(3600), Ticker::timeout);
        if !options.autosave.is_zero() {
            timeout = timeout.min(next_autosave.saturating_duration_since(Instant::now()));
        }
        match incoming.recv_timeout(timeout) {
            Ok(Event::Line(line)) => {
                changed = true;
                let reloads = line.trim() == "reload";
                if reloads {
                    save_snapshot(coo.host(), options, autosaver.as_ref(), Save::Wait);
                    // The command builds every save so far: no background build is loaded
                    // after it.
                    coo.supersede();
                }
                let flow = repl.run(coo.host_mut(), &line, out, err)?;
                if reloads && let Some(t) = ticker.as_mut() {
                    t.resolve(coo.host());
                }
                if flow == Flow::Quit {
                    break;
                }
            }
            Ok(Event::Eof) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(Event::Background) | Err(RecvTimeoutError::Timeout) => {}
        }
        if let Some(t) = ticker.as_mut() {
            changed |= t.tick(coo.host_mut(), err)?;
        }
        // After every tick and every command: watched values that changed.
        repl.observe(coo.host(), out, err)?;
        if !options.autosave.is_zero() && Instant::now() >= next_autosave {
            // While the last one is still being written, this one waits for the next period
            // (which then holds everything that ran since).
            if changed && !autosaver.as_ref().is_some_and(Autosaver::busy) {
                save_snapshot(coo.host(), options, autosaver.as_ref(), Save::Background);
                changed = false;
            }
            next_autosave = Instant::now() + options.autosave;
        }
        out.flush()?;
        err.flush()?;
    }
    save_snapshot(coo.host(), options, autosaver.as_ref(), Save::AtExit);
    // The save at exit written, and what the autosave thread has to say.
    for saved in autosaver.map(Autosaver::finish).unwrap_or_default() {
        saved_report(&saved, out, err)?;
    }
    Ok(())
}

/// A failed save is a warning; a written one says its size and time when it was an autosave
/// or the save at exit (`autosaved snapshot-….json (16.0 MB, 41 ms)`; the save before a
/// reload is silent).
fn saved_report(saved: &Saved, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
    match &saved.result {
        Err(e) => writeln!(err, "warning: {e}")?,
        Ok(size) if saved.announce => writeln!(
            out,
            "autosaved {} ({})",
            saved.file.file_name().unwrap_or_default().to_string_lossy(),
            crate::state_io::snapshot::size_and_time(*size, saved.took)
        )?,
        Ok(_) => {}
    }
    Ok(())
}

/// How [`save_snapshot`] waits for the save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Save {
    /// A periodic autosave: the state is copied and the loop goes on while it is written.
    Background,
    /// Before a reload: written before the reload starts, so a reload that takes the host down
    /// leaves the state on disk.
    Wait,
    /// At exit: the run's last save (the caller waits for the autosave thread to finish).
    AtExit,
}

/// Loads a finished build, if there is one (the state saved first), and prints what the
/// background told: cargo's progress, then the reload's report and its build's warnings.
/// Whether a reload was tried.
fn update(
    coo: &mut Coo,
    options: &Options,
    autosaver: Option<&Autosaver>,
    ticker: &mut Option<Ticker>,
    repl: &mut Repl,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<bool> {
    let outcome = coo.update_with(|host| save_snapshot(host, options, autosaver, Save::Wait));
    let mut built = None;
    for event in coo.events() {
        match event {
            CooEvent::Building(event) => print_build_event(&event, err)?,
            CooEvent::Built {
                since, warnings, ..
            } => built = Some((since, warnings)),
            CooEvent::Watch(e) => writeln!(err, "warning: {e}")?,
            CooEvent::NotWatching(e) => {
                writeln!(err, "warning: not watching the sources ({e}); use `reload`")?;
            }
        }
    }
    let Some(outcome) = outcome else {
        return Ok(false);
    };
    let since = built.as_ref().map(|(since, _)| *since);
    let version = coo.host().version();
    // The line drawn again below the report has the new version's prompt.
    repl.publish(coo.host());
    report(options, outcome.as_ref(), since, version, out, err)?;
    if let Ok(report) = &outcome {
        if let Some((_, warnings)) = &built {
            print_warnings(report.to_version, warnings, err)?;
        }
        if let Some(t) = ticker.as_mut() {
            t.resolve(coo.host());
        }
    }
    Ok(true)
}

/// Prints the outcome of a reload: a block, or one line with `quiet`. The text is styled; `out`
/// and `err` keep the styles or strip them (see [`crate::cli::terminal`]).
pub fn report(
    options: &Options,
    outcome: Result<&ReloadReport, &ReloadError>,
    since: Option<Instant>,
    version: u64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let latency = since.map(|s| s.elapsed());
    match outcome {
        Ok(report) if options.quiet => writeln!(out, "{}", report.summary(latency)),
        Ok(report) => writeln!(out, "{}", report.render(true, latency)),
        Err(e) => {
            let red = anstyle::AnsiColor::Red.on_default().bold();
            writeln!(
                err,
                "{red}reload failed{red:#}; version {version} keeps running with its state\n{e}"
            )
        }
    }
}

/// Prints what a background build tells while it runs: cargo's status lines, as cargo shows
/// them on its standard error.
fn print_build_event(event: &BuildEvent, err: &mut dyn Write) -> io::Result<()> {
    writeln!(err, "{event}")
}

/// Says how many warnings the build of the version now running had, and how to see them (the
/// `warnings` command), as one line after the reload's report.
fn print_warnings(version: u64, warnings: &[String], err: &mut dyn Write) -> io::Result<()> {
    match warnings.len() {
        0 => Ok(()),
        1 => writeln!(
            err,
            "warning: version {version} was built with 1 warning; `warnings` shows it"
        ),
        n => writeln!(
            err,
            "warning: version {version} was built with {n} warnings; `warnings` shows them"
        ),
    }
}

/// Saves the state into this run's snapshot file: copied now, written by the autosave thread.
fn save_snapshot(host: &Host, options: &Options, autosaver: Option<&Autosaver>, save: Save) {
    let (Some(snapshots), Some(autosaver)) = (&options.snapshots, autosaver) else {
        return;
    };
    if host.state().is_empty() {
        return;
    }
    let mut job = snapshots.job(host.state(), save == Save::AtExit);
    job.announce = save != Save::Wait;
    match save {
        Save::Background | Save::AtExit => autosaver.send(job),
        Save::Wait => autosaver.save_now(job),
    }
}
