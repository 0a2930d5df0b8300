//! Live watches: `watch <path>` prints a value of the state now and whenever it changes, until
//! `unwatch <path>`; `watches` lists them. The dev loop checks them after every tick and every
//! command ([`Watches::check`]).
//!
//! A watched value is printed as `<path> = <value>` on standard output, readably or, with
//! `--json`, as one line of JSON (the `state --json` form). It changed when its JSON changed.
//! A value that is missing for now (an index past the end, an option that is `None`, another
//! variant, a vacant slot) is said once on standard error, and printed again when it is back. A
//! path that no longer exists in the state's types (its resource or a field gone in a reload, or
//! a step that no longer applies) is said once, and the watch ends.

use std::io::{self, Write};

use coo_runtime::State;

use crate::state_io::path::{self, PathError};

/// The values watched, in the order they were added.
#[derive(Debug, Default)]
pub struct Watches {
    list: Vec<Watch>,
}

#[derive(Debug)]
struct Watch {
    /// The path as [`path::parse`] reads it back (`World.items[3].x`).
    path: String,
    json: bool,
    /// What was printed last: the value's JSON, or the message of why it is missing.
    seen: Seen,
}

#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Value(String),
    Missing(String),
}

/// What a path leads to now.
enum Look {
    /// The value: its JSON, and what to print.
    Value { json: String, shown: String },
    /// The value is missing for now; the path may lead to one again.
    Missing(PathError),
    /// The path no longer exists in the state's types: the watch ends.
    Gone(PathError),
}

fn look(state: &State, path: &str, json: bool) -> Look {
    match path::get(state, path) {
        Ok(found) => {
            let text = found.json();
            let shown = if json { text.clone() } else { found.pretty() };
            Look::Value { json: text, shown }
        }
        Err(
            e @ (PathError::NotThatVariant { .. }
            | PathError::OutOfRange { .. }
            | PathError::NoSlot { .. }
            | PathError::VacantSlot { .. }
            | PathError::IsNone { .. }),
        ) => Look::Missing(e),
        Err(e) => Look::Gone(e),
    }
}

impl Watches {
    /// Starts watching `path` (or changes how it is printed, if watched already) and prints its
    /// value now.
    pub fn add(
        &mut self,
        state: &State,
        path: &str,
        json: bool,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
        let path = match path::parse(path) {
            Ok(parsed) => parsed.to_string(),
            Err(e) => return writeln!(err, "error: {e}"),
        };
        let seen = match look(state, &path, json) {
            Look::Value { json, shown } => {
                writeln!(out, "{path} = {shown}")?;
                Seen::Value(json)
            }
            Look::Missing(e) => {
                writeln!(
                    err,
                    "warning: watching `{path}`, which has no value now: {e}"
                )?;
                Seen::Missing(e.to_string())
            }
            Look::Gone(e) => return writeln!(err, "error: {e}"),
        };
        let watch = Watch { path, json, seen };
        match self.list.iter_mut().find(|w| w.path == watch.path) {
            Some(old) => *old = watch,
            None => self.list.push(watch),
        }
        Ok(())
    }

    /// Stops watching `path`.
    pub fn remove(&mut self, path: &str, err: &mut dyn Write) -> io::Result<()> {
        let path = match path::parse(path) {
            Ok(parsed) => parsed.to_string(),
            Err(e) => return writeln!(err, "error: {e}"),
        };
        let before = self.list.len();
        self.list.retain(|w| w.path != path);
        if self.list.len() == before {
            writeln!(
                err,
                "error: `{path}` is not watched; `watches` lists the watched paths"
            )?;
        }
        Ok(())
    }

    /// Prints the watched paths, one a line (`World.tick --json` for one printed as JSON).
    pub fn list(&self, out: &mut dyn Write) -> io::Result<()> {
        for watch in &self.list {
            let flag = if watch.json { " --json" } else { "" };
            writeln!(out, "{}{flag}", watch.path)?;
        }
        Ok(())
    }

    /// The watched paths.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|w| w.path.as_str())
    }

    /// Prints every watched value that changed since it was printed last, says once of a value
    /// that went missing, and ends the watches whose path no longer exists.
    pub fn check(
        &mut self,
        state: &State,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
        let mut result = Ok(());
        self.list.retain_mut(|watch| {
            let (seen, keep, printed) = match look(state, &watch.path, watch.json) {
                Look::Value { json, shown } => {
                    let printed = (watch.seen != Seen::Value(json.clone()))
                        .then(|| writeln!(out, "{} = {shown}", watch.path));
                    (Seen::Value(json), true, printed)
                }
                Look::Missing(e) => {
                    let message = e.to_string();
                    let printed = (watch.seen != Seen::Missing(message.clone()))
                        .then(|| writeln!(err, "warning: `{}` has no value now: {e}", watch.path));
                    (Seen::Missing(message), true, printed)
                }
                Look::Gone(e) => {
                    let printed = writeln!(err, "warning: the watch of `{}` ends: {e}", watch.path);
                    (Seen::Missing(e.to_string()), false, Some(printed))
                }
            };
            watch.seen = seen;
            if let Some(Err(e)) = printed
                && result.is_ok()
            {
                result = Err(e);
            }
            keep
        });
        result
    }
}
