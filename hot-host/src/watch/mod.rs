//! Watching a plugin crate's sources, for the edit-save-reload loop of [`Coo`](crate::Coo).
//!
//! [`watched_paths`] asks `cargo metadata` what the plugin's library build reads: the source
//! directories and manifests of the plugin and of every path package it depends on. A
//! [`Watcher`] watches them with [`notify`] and turns the raw events into debounced batches of
//! changed paths, [`Change`]s, sent to the caller's channel.
//!
//! # What counts as a change
//! Creating, writing, removing or renaming a file, and a change of its metadata (cargo compares
//! modification times, so a `touch` rebuilds). Opening, reading and closing do not: cargo's
//! own build reads every source file and must not trigger the next one. Ignored, under a
//! watched directory: anything under a `target/` directory (build output) and anything whose
//! name [`is_ignored_name`] says an editor or a tool owns (`.git/`, swap, backup and lock files).
//!
//! # Saves that replace the file
//! Many editors save by writing a temporary file and renaming it over the original, or by
//! deleting and recreating the file. A watch on the file itself would follow the old inode and
//! miss the new one, so nothing is watched as a file: source directories are watched
//! recursively, and single files (`Cargo.toml`, `build.rs`) through a non-recursive watch on their
//! directory, filtered down to the file's name. A `build.rs` created after the watch started is
//! seen the same way.
//!
//! # Debouncing
//! One save is several raw events (truncate, write, close, rename), and some editors and tools
//! write many files at once. Events are collected into a batch, which is sent once no event has
//! come for the debounce window ([`DEFAULT_DEBOUNCE`], 50 ms): at most a window after the last
//! event of a burst. A burst that never pauses (a tool rewriting files in a loop) would delay the
//! batch forever, so a batch is also sent at the latest [`MAX_BATCH_DELAY`] after its first
//! event, and the events that follow start the next one.

use std::collections::{BTreeSet, HashSet};
use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use cargo_metadata::{DependencyKind, Metadata, TargetKind};
use notify::event::{MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher as _};

use crate::build::metadata::{MetadataError, Packages, cargo_metadata, default_cargo};

/// A debounce window for a watcher of your own: a batch is sent this long after the last event
/// of a burst. ([`Coo`](crate::Coo) and `hot-host run` use the shorter
/// [`embed::DEBOUNCE`](crate::embed::DEBOUNCE).)
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(50);

/// The longest a batch waits after its first event, however long a burst goes on (or the
/// debounce window, if that is longer).
pub const MAX_BATCH_DELAY: Duration = Duration::from_millis(500);

/// The kinds of cargo targets a library build compiles: the library itself, under any of its
/// crate types, and its build script. Binaries, tests, examples and benches are not built.
const LIB_BUILD_KINDS: &[TargetKind] = &[
    TargetKind::Lib,
    TargetKind::RLib,
    TargetKind::DyLib,
    TargetKind::CDyLib,
    TargetKind::StaticLib,
    TargetKind::ProcMacro,
    TargetKind::CustomBuild,
];

/// What to watch: directories, recursively, and single files.
///
/// [`watched_paths`] builds it for a plugin crate; a hand-made one works as well.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSet {
    /// Directories watched recursively: a change to any file under them counts, unless it is
    /// ignored (see the [module docs](self)). They must exist when the watch starts.
    pub dirs: Vec<PathBuf>,
    /// Files watched through a non-recursive watch on their parent directory, so that a file
    /// replaced by a rename, or created after the watch started, is seen. The file need not
    /// exist; its directory must.
    pub files: Vec<PathBuf>,
}

/// A debounced batch of changes.
#[derive(Debug)]
pub struct Change {
    /// The paths that changed, sorted, each once. Empty only when events were lost (see
    /// `errors`): something may have changed, and rebuilding is the safe answer.
    pub paths: Vec<PathBuf>,
    /// When the watcher received the first raw event of the batch: the save, give or take the
    /// operating system's delivery, so `first_event_at.elapsed()` once the new code is live is
    /// the save-to-live latency.
    pub first_event_at: Instant,
    /// What went wrong while watching, during this batch: a watch that could not be added to a
    /// new directory, events the operating system dropped. Usually empty.
    pub errors: Vec<WatchError>,
}

/// Why paths could not be found or watched.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("could not watch `{}`: {source}", path.display())]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("the file watcher failed: {0}")]
    Notify(#[source] notify::Error),
    #[error("the operating system dropped file events: changes may have been missed")]
    EventsLost,
    #[error("could not start the watcher's thread: {0}")]
    Thread(#[source] io::Error),
}

/// What to watch for the plugin crate in `plugin_dir`: the sources its library build reads.
///
/// For the plugin and every path package its library depends on, directly or not (normal and
/// build dependencies, not dev ones), as `cargo metadata` resolves them: the package's `src/`,
/// the directory of its library's and build script's source files when they live elsewhere, its
/// `Cargo.toml` and its `build.rs` (watched even if absent, to see it created). And the
/// workspace's root `Cargo.toml` when the plugin is a member of a workspace. Packages from a
/// registry or a git repository do not change under the plugin's feet and are not watched.
///
/// Cargo runs in `plugin_dir` with the same cleaned environment as [`Builder::command`]
/// (see [`is_removed_env`]), from `$CARGO` or else `cargo` on `PATH`.
///
/// [`Builder::command`]: crate::Builder::command
/// [`is_removed_env`]: crate::build::is_removed_env
pub fn watched_paths(plugin_dir: &Path) -> Result<WatchSet, WatchError> {
    watched_paths_with_cargo(&default_cargo(), plugin_dir)
}

/// [`watched_paths`], running this cargo binary.
pub fn watched_paths_with_cargo(cargo: &Path, plugin_dir: &Path) -> Result<WatchSet, WatchError> {
    let (metadata, _) = cargo_metadata(cargo, plugin_dir, Packages::Resolved)?;
    Ok(watch_set_from_metadata(&metadata))
}

/// The [`WatchSet`] of `cargo metadata`'s output: see [`watched_paths`].
fn watch_set_from_metadata(metadata: &Metadata) -> WatchSet {
    let mut set = WatchSet::default();
    let nodes = metadata.resolve.as_ref().map_or(&[][..], |r| &r.nodes[..]);
    let root = metadata.resolve.as_ref().and_then(|r| r.root.as_ref());

    // The packages the root's library build compiles: walk the resolve graph from the root,
    // through normal and build dependencies.
    let mut reached = HashSet::new();
    let mut stack: Vec<_> = root.into_iter().collect();
    while let Some(id) = stack.pop() {
        if !reached.insert(id) {
            continue;
        }
        let Some(node) = nodes.iter().find(|n| n.id == *id) else {
            continue;
        };
        for dep in &node.deps {
            // `dep_kinds` lists each way the dependency is used. Empty (cargo before 1.41):
            // count it.
            let dev_only = !dep.dep_kinds.is_empty()
                && dep
                    .dep_kinds
                    .iter()
                    .all(|k| k.kind == DependencyKind::Development);
            if !dev_only {
                stack.push(&dep.pkg);
            }
        }
    }

    for package in &metadata.packages {
        // A path package has no source; registry and git packages do not change.
        if !reached.contains(&package.id) || package.source.is_some() {
            continue;
        }
        let Some(dir) = package.manifest_path.parent().map(|d| d.as_std_path()) else {
            continue;
        };
        set.files.push(dir.join("Cargo.toml"));
        set.files.push(dir.join("build.rs"));
        let src = dir.join("src");
        if src.is_dir() {
            set.dirs.push(src);
        }
        for target in &package.targets {
            let builds = target
                .kind
                .iter()
                .any(|kind| LIB_BUILD_KINDS.contains(kind));
            if !builds {
                continue;
            }
            let src_path = target.src_path.as_std_path();
            match src_path.parent() {
                // A source file at the package root, or above it (`path = "../lib.rs"`): the
                // file alone, not the directory, which holds `target/` and everything else.
                Some(parent) if dir.starts_with(parent) => set.files.push(src_path.into()),
                Some(parent) => set.dirs.push(parent.into()),
                None => {}
            }
        }
    }

    // A workspace member builds with the workspace's `[workspace.dependencies]`, profiles and
    // lints.
    set.files
        .push(metadata.workspace_root.as_std_path().join("Cargo.toml"));
    set.normalize();
    set
}

impl WatchSet {
    /// Sorts and deduplicates, and drops what a recursive directory already covers.
    pub fn normalize(&mut self) {
        self.dirs.sort();
        self.dirs.dedup();
        // Sorted, a directory comes right before those it contains.
        let mut dirs: Vec<PathBuf> = Vec::with_capacity(self.dirs.len());
        for dir in self.dirs.drain(..) {
            if !dirs.iter().any(|kept| dir.starts_with(kept)) {
                dirs.push(dir);
            }
        }
        self.dirs = dirs;
        self.files.sort();
        self.files.dedup();
        let dirs = &self.dirs;
        self.files
            .retain(|file| !dirs.iter().any(|dir| file.starts_with(dir)));
    }

    /// Whether a change to `path` counts: it is one of the [`files`](Self::files), or under one
    /// of the [`dirs`](Self::dirs) and not ignored (see [`is_ignored`]).
    pub fn accepts(&self, path: &Path) -> bool {
        if self.files.iter().any(|file| file == path) {
            return true;
        }
        self.dirs.iter().any(|dir| match path.strip_prefix(dir) {
            Ok(relative) => !is_ignored(relative),
            Err(_) => false,
        })
    }

    /// The directories to watch non-recursively for the files: their parents, but those a
    /// recursive watch already covers.
    fn file_parents(&self) -> Vec<&Path> {
        let mut parents: Vec<&Path> = self
            .files
            .iter()
            .filter_map(|file| file.parent())
            .filter(|parent| !self.dirs.iter().any(|dir| parent.starts_with(dir)))
            .collect();
        parents.sort();
        parents.dedup();
        parents
    }
}

/// Whether a change to `relative`, a path relative to a watched directory, is ignored: it is
/// under a `target/` directory (build output, cargo's or rust-analyzer's), or it or a directory
/// it is under has a name [`is_ignored_name`] ignores.
///
/// A `target` directory inside a source directory is taken for build output, as it almost
/// always is; a module directory of that name would not be watched.
pub fn is_ignored(relative: &Path) -> bool {
    relative.components().any(|component| match component {
        Component::Normal(name) => name == "target" || is_ignored_name(name),
        _ => false,
    })
}

/// Whether a file or directory of this name is ignored wherever it is: it is hidden (`.git`,
/// `.idea`, Emacs's `.#lock` files, Vim's `.lib.rs.swp`), or a temporary or backup file of an
/// editor: `#autosave#` (Emacs), `backup~`, Vim's swap files (`.swp`, `.swo`, `.swn`, `.swx`,
/// `.swpx`) and `4913` (the file Vim writes to test a directory), `.tmp` and `.bak` files, and
/// JetBrains' `___jb_tmp___` and `___jb_old___`.
pub fn is_ignored_name(name: &OsStr) -> bool {
    // Not UTF-8: not a Rust source file, nor a manifest.
    let Some(name) = name.to_str() else {
        return true;
    };
    if name.starts_with('.')
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
        || name.ends_with('~')
        || name == "4913"
        || name.contains("___jb_tmp___")
        || name.contains("___jb_old___")
    {
        return true;
    }
    let extension = Path::new(name).extension().and_then(OsStr::to_str);
    extension.is_some_and(|ext| {
        ["swp", "swo", "swn", "swx", "swpx", "tmp", "bak"]
            .iter()
            .any(|ignored| ext.eq_ignore_ascii_case(ignored))
    })
}

/// Whether an event of this kind can change what cargo builds (see the [module docs](self)).
fn changes_files(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        // A folder created counts too: files written into it before the recursive watch
        // reaches it send no event of their own.
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        // Unknown: count it, a rebuild of unchanged sources is cheap.
        EventKind::Any | EventKind::Other => true,
    }
}

/// A raw event, filtered and stamped on notify's thread.
#[derive(Debug)]
struct Raw {
    at: Instant,
    paths: Vec<PathBuf>,
    error: Option<WatchError>,
}

/// What a raw notify event contributes to a batch, if anything.
fn filter_event(set: &WatchSet, event: notify::Result<notify::Event>, at: Instant) -> Option<Raw> {
    match event {
        Ok(event) if event.need_rescan() => Some(Raw {
            at,
            paths: Vec::new(),
            error: Some(WatchError::EventsLost),
        }),
        Ok(event) => {
            if !changes_files(&event.kind) {
                return None;
            }
            // A rename carries both ends; keep those that count.
            let paths: Vec<PathBuf> = event
                .paths
                .into_iter()
                .filter(|path| set.accepts(path))
                .collect();
            (!paths.is_empty()).then_some(Raw {
                at,
                paths,
                error: None,
            })
        }
        Err(error) => Some(Raw {
            at,
            paths: Vec::new(),
            error: Some(WatchError::Notify(error)),
        }),
    }
}

/// The debounce state machine, apart from threads and clocks so that it can be tested with
/// made-up instants.
#[derive(Debug)]
struct Debouncer {
    window: Duration,
    max_delay: Duration,
    pending: Option<Batch>,
}

#[derive(Debug)]
struct Batch {
    first: Instant,
    last: Instant,
    paths: BTreeSet<PathBuf>,
    errors: Vec<WatchError>,
}

impl Debouncer {
    fn new(window: Duration) -> Debouncer {
        Debouncer {
            window,
            max_delay: MAX_BATCH_DELAY.max(window),
            pending: None,
        }
    }

    fn push(&mut self, raw: Raw) {
        let batch = self.pending.get_or_insert_with(|| Batch {
            first: raw.at,
            last: raw.at,
            paths: BTreeSet::new(),
            errors: Vec::new(),
        });
        batch.last = batch.last.max(raw.at);
        batch.paths.extend(raw.paths);
        batch.errors.extend(raw.error);
    }

    /// When the pending batch is due: a window after its last event, or the maximum delay after
    /// its first, whichever comes first.
    fn deadline(&self) -> Option<Instant> {
        let batch = self.pending.as_ref()?;
        Some((batch.last + self.window).min(batch.first + self.max_delay))
    }

    /// The pending batch, if it is due at `now`.
    fn take_due(&mut self, now: Instant) -> Option<Change> {
        if self.deadline()? > now {
            return None;
        }
        let batch = self.pending.take()?;
        Some(Change {
            paths: batch.paths.into_iter().collect(),
            first_event_at: batch.first,
            errors: batch.errors,
        })
    }
}

/// Watches a [`WatchSet`] and sends debounced [`Change`]s.
///
/// Dropping it stops the watch and its thread; a batch still pending is not sent.
#[derive(Debug)]
pub struct Watcher {
    /// The operating system's watches. Dropping it drops the event handler, which holds the only
    /// sender of the debounce thread's channel: the thread then ends.
    _watcher: notify::RecommendedWatcher,
    /// The changes, when [`Watcher::new`] made the channel.
    changes: Option<mpsc::Receiver<Change>>,
}

impl Watcher {
    /// Watches `set`, debouncing with the window `debounce` ([`DEFAULT_DEBOUNCE`] is a good
    /// one); read the changes with [`recv_timeout`](Self::recv_timeout).
    pub fn new(set: WatchSet, debounce: Duration) -> Result<Watcher, WatchError> {
        let (sender, receiver) = mpsc::channel();
        let mut watcher = Watcher::spawn(set, debounce, sender, |change| change)?;
        watcher.changes = Some(receiver);
        Ok(watcher)
    }

    /// Watches `set`, debouncing with the window `debounce`, and sends `make(change)` for each
    /// batch to `sender`: an event loop receiving on one channel gets the changes among its
    /// other events. The watch stops when the `Watcher` is dropped, or when `sender`'s receiver
    /// is.
    ///
    /// Changes that come while the caller is busy (rebuilding after the last one) queue up as
    /// batches of their own; a caller can drain the channel and rebuild once for all of them.
    pub fn spawn<T: Send + 'static>(
        set: WatchSet,
        debounce: Duration,
        sender: mpsc::Sender<T>,
        make: impl Fn(Change) -> T + Send + 'static,
    ) -> Result<Watcher, WatchError> {
        let mut set = set;
        set.normalize();
        let (raw_sender, raw_receiver) = mpsc::channel::<Raw>();
        let filter = set.clone();
        let mut watcher = notify::recommended_watcher(move |event| {
            let at = Instant::now();
            if let Some(raw) = filter_event(&filter, event, at) {
                let _ = raw_sender.send(raw);
            }
        })
        .map_err(WatchError::Notify)?;
        for dir in &set.dirs {
            watcher
                .watch(dir, RecursiveMode::Recursive)
                .map_err(|source| WatchError::Watch {
                    path: dir.clone(),
                    source,
                })?;
        }
        for parent in set.file_parents() {
            watcher
                .watch(parent, RecursiveMode::NonRecursive)
                .map_err(|source| WatchError::Watch {
                    path: parent.to_path_buf(),
                    source,
                })?;
        }
        std::thread::Builder::new()
            .name("coo-watch".into())
            .spawn(move || debounce_loop(Debouncer::new(debounce), &raw_receiver, &sender, make))
            .map_err(WatchError::Thread)?;
        Ok(Watcher {
            _watcher: watcher,
            changes: None,
        })
    }

    /// The next batch, waiting at most `timeout` for it. Always `None` for a watcher made with
    /// [`spawn`](Self::spawn), whose batches go to its sender.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Change> {
        self.changes.as_ref()?.recv_timeout(timeout).ok()
    }
}

/// The debounce thread: collects raw events into batches and sends each when it is due.
fn debounce_loop<T>(
    mut debouncer: Debouncer,
    raw: &mpsc::Receiver<Raw>,
    sender: &mpsc::Sender<T>,
    make: impl Fn(Change) -> T,
) {
    loop {
        let received = match debouncer.deadline() {
            None => raw.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(deadline) => raw.recv_timeout(deadline.saturating_duration_since(Instant::now())),
        };
        match received {
            Ok(event) => debouncer.push(event),
            Err(RecvTimeoutError::Timeout) => {}
            // The watcher was dropped.
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Checked after every event too: under a burst that never pauses, `recv_timeout` never
        // times out, and the maximum delay is what sends the batch.
        if let Some(change) = debouncer.take_due(Instant::now())
            && sender.send(make(change)).is_err()
        {
            // Nobody listens any more.
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(at: Instant, path: &str) -> Raw {
        Raw {
            at,
            paths: vec![PathBuf::from(path)],
            error: None,
        }
    }

    #[test]
    fn editor_and_tool_files_are_ignored() {
        for name in [
            ".lib.rs.swp",
            ".lib.rs.swx",
            "lib.rs.swp",
            "lib.rs.swo",
            "lib.rs~",
            ".#lib.rs",
            "#lib.rs#",
            "4913",
            "lib.rs.tmp",
            "lib.rs.TMP",
            "lib.rs.bak",
            "lib.rs___jb_tmp___",
            "lib.rs___jb_old___",
            ".git",
            ".DS_Store",
        ] {
            assert!(is_ignored_name(OsStr::new(name)), "{name}");
        }
        for name in [
            "lib.rs",
            "main.rs",
            "mod.rs",
            "Cargo.toml",
            "build.rs",
            "data.json",
            "#",
            "49130",
            "swp.rs",
            "target.rs",
        ] {
            assert!(!is_ignored_name(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn target_and_hidden_directories_are_ignored_below_the_watched_dir() {
        for path in [
            "target/debug/libplug.so",
            "target",
            "nested/target/x.rs",
            ".git/index",
            ".git/objects/ab/cdef",
            "module/.lib.rs.swp",
            "module/lib.rs~",
        ] {
            assert!(is_ignored(Path::new(path)), "{path}");
        }
        for path in ["lib.rs", "module/mod.rs", "module/target.rs", "a/b/c.rs"] {
            assert!(!is_ignored(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn only_what_is_under_the_watched_dirs_counts() {
        // The rules apply below the watched directory, not to where the crate lives.
        let set = WatchSet {
            dirs: vec![PathBuf::from("/home/me/target/.hidden/plug/src")],
            files: vec![
                PathBuf::from("/home/me/target/.hidden/plug/Cargo.toml"),
                PathBuf::from("/home/me/target/.hidden/plug/build.rs"),
            ],
        };
        let root = Path::new("/home/me/target/.hidden/plug");
        for path in ["src/lib.rs", "src/a/b.rs", "src", "Cargo.toml", "build.rs"] {
            assert!(set.accepts(&root.join(path)), "{path}");
        }
        for path in [
            "src/.lib.rs.swp",
            "src/target/x",
            "Cargo.lock",
            "target/coo/debug/libplug.so",
            ".git/index",
            "Cargo.toml~",
            ".Cargo.toml.swp",
            "README.md",
        ] {
            assert!(!set.accepts(&root.join(path)), "{path}");
        }
        assert!(!set.accepts(Path::new("/elsewhere/src/lib.rs")));
    }

    #[test]
    fn normalize_drops_what_a_recursive_dir_covers() {
        let mut set = WatchSet {
            dirs: vec![
                "/p/src/a".into(),
                "/p/src".into(),
                "/q/src".into(),
                "/p/src".into(),
            ],
            files: vec![
                "/p/Cargo.toml".into(),
                "/p/src/lib.rs".into(),
                "/p/Cargo.toml".into(),
            ],
        };
        set.normalize();
        assert_eq!(
            set,
            WatchSet {
                dirs: vec!["/p/src".into(), "/q/src".into()],
                files: vec!["/p/Cargo.toml".into()],
            }
        );
        assert_eq!(set.file_parents(), [Path::new("/p")]);
    }

    #[test]
    fn access_events_do_not_count() {
        use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, RenameMode};
        let set = WatchSet {
            dirs: vec!["/p/src".into()],
            files: vec![],
        };
        let at = Instant::now();
        let event = |kind: EventKind, paths: &[&str]| {
            let mut event = notify::Event::new(kind);
            for path in paths {
                event = event.add_path(PathBuf::from(path));
            }
            filter_event(&set, Ok(event), at).map(|raw| raw.paths)
        };
        let lib = || vec![PathBuf::from("/p/src/lib.rs")];
        assert_eq!(
            event(
                EventKind::Access(AccessKind::Open(AccessMode::Any)),
                &["/p/src/lib.rs"]
            ),
            None
        );
        assert_eq!(
            event(
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                &["/p/src/lib.rs"]
            ),
            None
        );
        assert_eq!(
            event(
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
                &["/p/src/lib.rs"]
            ),
            None
        );
        assert_eq!(
            event(
                EventKind::Modify(ModifyKind::Data(DataChange::Any)),
                &["/p/src/lib.rs"]
            ),
            Some(lib())
        );
        assert_eq!(
            event(EventKind::Create(CreateKind::File), &["/p/src/lib.rs"]),
            Some(lib())
        );
        // An atomic save: the temporary file is ignored, its new name counts.
        assert_eq!(
            event(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &["/p/src/.lib.rs.tmp", "/p/src/lib.rs"]
            ),
            Some(lib())
        );
        assert_eq!(
            event(EventKind::Create(CreateKind::File), &["/p/src/4913"]),
            None
        );
        // Lost events count, without paths.
        let rescan = notify::Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        let raw = filter_event(&set, Ok(rescan), at).unwrap();
        assert!(raw.paths.is_empty());
        assert!(matches!(raw.error, Some(WatchError::EventsLost)));
    }

    #[test]
    fn a_batch_is_due_a_window_after_its_last_event() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut d = Debouncer::new(ms(50));
        assert_eq!(d.deadline(), None);
        d.push(raw(t0, "/p/src/lib.rs"));
        assert_eq!(d.deadline(), Some(t0 + ms(50)));
        d.push(raw(t0 + ms(30), "/p/src/a.rs"));
        d.push(raw(t0 + ms(40), "/p/src/lib.rs"));
        assert_eq!(d.deadline(), Some(t0 + ms(90)));
        assert!(d.take_due(t0 + ms(89)).is_none());
        let change = d.take_due(t0 + ms(90)).unwrap();
        assert_eq!(
            change.paths,
            [PathBuf::from("/p/src/a.rs"), PathBuf::from("/p/src/lib.rs")]
        );
        assert_eq!(change.first_event_at, t0);
        assert_eq!(d.deadline(), None);
    }

    #[test]
    fn a_burst_that_never_pauses_is_cut_at_the_maximum_delay() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut d = Debouncer::new(ms(50));
        let mut sent = Vec::new();
        // An event every 10 ms for 2 s.
        for i in 0..200 {
            let now = t0 + ms(10 * i);
            d.push(raw(now, "/p/src/lib.rs"));
            sent.extend(d.take_due(now).map(|c| (c.first_event_at, now)));
        }
        assert!(sent.len() >= 3, "{sent:?}");
        for (first, at) in &sent {
            assert!(*at - *first <= MAX_BATCH_DELAY);
        }
        // A window longer than the maximum delay is not cut shorter than the window.
        assert_eq!(Debouncer::new(ms(800)).max_delay, ms(800));
    }
}
