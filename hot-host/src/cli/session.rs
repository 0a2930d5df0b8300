//! `hot-host run` from start to end: load the plugin, restore a snapshot or call `init`, then
//! the dev loop, reading the terminal and writing through it (see [`crate::cli::terminal`]).

use std::io::{self, Write};
use std::sync::{Arc, mpsc};

use crate::cli::completion::SharedIndex;
use crate::cli::devloop::{self, Event, Options};
use crate::cli::editor::{self, Editing};
use crate::cli::snapshots::{self, Restore};
use crate::cli::terminal::{self, Output};
use crate::cli::watches::Watches;
use crate::embed::{Coo, CooOptions, DEBOUNCE};
use crate::reload::{Host, Value};

/// Runs the plugin of `host` until `quit` or the end of standard input: loads it, restores the
/// snapshot `restore` names or else calls `init`, then runs the dev loop. Whether it ended well
/// (the plugin loaded and the loop ran to its end); what went wrong has been written to standard
/// error.
pub fn run_until_quit(mut host: Host, options: &mut Options, restore: Option<&Restore>) -> bool {
    let mut output = Output::std();
    match start(
        &mut host,
        options,
        restore,
        &mut output.out,
        &mut output.err,
    ) {
        Ok(true) => {}
        Ok(false) => return false,
        Err(e) => {
            let _ = writeln!(output.err, "error: {e}");
            return false;
        }
    }
    let (events, incoming) = mpsc::channel();
    // What the line editor completes, taken before its first prompt shows the version.
    let editing = Editing {
        index: SharedIndex::default(),
        history: options
            .snapshots
            .as_ref()
            .map(|s| editor::history_file(&s.dir.dir)),
    };
    editing.index.refresh(&host, &Watches::default());
    let index = editing.index.clone();
    // From here on, Coo watches the sources and builds every save in the background; the loop
    // wakes up for what it tells.
    let wake = events.clone();
    let mut coo = Coo::new(
        host,
        CooOptions {
            watch: options.watch,
            debounce: DEBOUNCE,
            wake: Some(Arc::new(move || drop(wake.send(Event::Background)))),
        },
    );
    // From here on, while a line is typed on a terminal, output is printed above it.
    let printers = terminal::spawn_stdin_reader(events, editing);
    // Only an editor reads the index.
    let index = printers.out.is_some().then_some(index);
    let mut output = Output::through(printers);
    match devloop::run(
        &mut coo,
        options,
        incoming,
        index,
        &mut output.out,
        &mut output.err,
    ) {
        Ok(()) => true,
        Err(e) => {
            let _ = writeln!(output.err, "error: {e}");
            false
        }
    }
}

/// Loads the plugin and gives it its first state: the restored snapshot, or what `init`
/// returns. Whether the plugin loaded.
pub fn start(
    host: &mut Host,
    options: &mut Options,
    restore: Option<&Restore>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<bool> {
    let dir = host.builder().plugin_dir().display().to_string();
    // Cargo's progress goes where cargo would print it; a failed write of it is not worth
    // failing the start for (the build's own error is reported below).
    match host.reload_with(&mut |event| drop(writeln!(err, "{event}"))) {
        Ok(report) => writeln!(out, "loaded {dir} (version {})", report.to_version)?,
        Err(e) => {
            writeln!(err, "error: could not load {dir}:\n{e}")?;
            return Ok(false);
        }
    }
    let restored = match (restore, &mut options.snapshots) {
        (Some(restore), Some(snapshots)) => snapshots::restore(host, snapshots, restore, out, err)?,
        _ => false,
    };
    if !restored
        && let Some(snapshots) = &options.snapshots
        && let Some(waiting) = &snapshots.waiting
    {
        if restore.is_some() {
            writeln!(
                err,
                "warning: {} was not restored; it stays, and `--restore` picks it again \
                 (`--restore=NAME` picks another, `hot-host snapshots` lists them)",
                waiting.display()
            )?;
        } else {
            writeln!(
                err,
                "warning: the last run did not end and its state was not restored: it stays in \
                 {}, and `--restore` restores it (`hot-host snapshots` lists the others)",
                waiting.display()
            )?;
        }
    }
    if !restored && host.resolve("init").is_ok() {
        match host.call_by_name("init", &[]) {
            Ok(Value::Unit) => {}
            Ok(v) => writeln!(out, "init: {v}")?,
            Err(e) => writeln!(err, "error: init: {e}")?,
        }
        for panic in host.take_drop_panics() {
            writeln!(err, "warning: {panic}")?;
        }
    }
    out.flush()?;
    err.flush()?;
    Ok(true)
}
