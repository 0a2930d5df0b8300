//! Coo in your own program: [`Coo`] builds and loads a plugin crate, then watches its sources
//! and rebuilds them on a thread of its own; your loop applies a finished build when it chooses.
//!
//! Once per frame, at a point where no plugin call is in flight, call [`Coo::update`]: it
//! returns at once. When a build has finished since the last call, it loads the new library,
//! migrates the live state and swaps the function slots (the reload transaction of
//! [`crate::reload`]), and returns the [`ReloadReport`]; when the build or the reload failed, the
//! [`ReloadError`], and the old version keeps running with its state. While cargo works,
//! `update` returns `None` and the old version runs on: a build never stalls the frame. Saves
//! that come in quick succession, or during a build, are coalesced into one build of the newest
//! source (a burst of saves is one reload). What the background tells on the way (cargo's
//! progress, a finished build's warnings, problems of the watcher) is queued as [`CooEvent`]s
//! for you to show or ignore ([`Coo::events`]): the library prints nothing.
//!
//! A complete program (`examples/embed.rs`, built by `cargo test`):
//!
//! ```no_run
#![doc = include_str!("../../examples/embed.rs")]
//! ```
//!
//! `hot-host run` is one client of this API: its dev loop (see [`crate::cli::devloop`]) ticks,
//! reads commands, and prints what `update` and the events tell.
//!
//! # Threads
//! The watcher's thread sends debounced changes to the builder's thread (`background.rs`), which
//! runs cargo and sends the finished builds back through a channel; [`Coo::update`] reads that
//! channel on your thread. Loading and migrating happen in `update`, on your thread, which holds
//! `&mut Coo` and so no borrow of the [`Host`] that a call could be using: the safe point is
//! checked by the borrow checker. A loop that sleeps until something happens can pass a waker
//! ([`CooOptions::wake`]) that the background calls after each event and finished build.
//!
//! # Release builds
//! With hot-host's `static` feature, [`Coo::start`] builds, loads and watches nothing: it runs
//! the plugin crate linked into the binary ([`Coo::start_linked`]), and the functions declared
//! with [`hot_fns!`](crate::hot_fns) are called directly. See [`crate::slots::release`].
//!
//! # Several plugins
//! A [`Coo`] runs one plugin crate. [`Plugins`] runs several, one `Coo` each (each with its own
//! host, state, watcher and builder thread), names their functions (`physics::step`), fills
//! the import slots through which they call each other, and reloads the plugins that share a
//! crate that changed in one transaction: see [`plugins`].

mod background;
pub mod plugins;

use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::build::{BuildError, BuildEvent, BuildOutput};
use crate::reload::{Host, ReloadError, ReloadReport};
use crate::watch::{WatchError, WatchSet, Watcher, watched_paths};

pub use background::Waker;
use background::{Out, Request, Shared};
pub use plugins::{PluginFn, Plugins};

/// The debounce window Coo watches with by default: short, because it is pure waiting in the
/// save-to-live path (an editor's save is a burst of events within a millisecond or two). A save
/// split wider than this only costs an extra build: builds are coalesced, so the newest source
/// still wins.
pub const DEBOUNCE: Duration = Duration::from_millis(10);

/// How a [`Coo`] watches and tells.
#[derive(Clone)]
pub struct CooOptions {
    /// Watch the plugin's sources and rebuild on every save (default). Without it, only
    /// [`Coo::reload_now`] reloads.
    pub watch: bool,
    /// The watcher's debounce window ([`DEBOUNCE`] by default).
    pub debounce: Duration,
    /// Called, on a background thread, after each event and finished build, so that a loop
    /// sleeping on something else (standard input) can wake up and call [`Coo::update`]. It
    /// must return quickly (send a message, set a flag).
    pub wake: Option<Waker>,
}

impl Default for CooOptions {
    fn default() -> CooOptions {
        CooOptions {
            watch: true,
            debounce: DEBOUNCE,
            wake: None,
        }
    }
}

impl fmt::Debug for CooOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CooOptions")
            .field("watch", &self.watch)
            .field("debounce", &self.debounce)
            .field("wake", &self.wake.as_ref().map(|_| "Fn"))
            .finish()
    }
}

/// What the background tells on the way to a reload, queued in order for [`Coo::events`].
#[derive(Debug)]
#[non_exhaustive]
pub enum CooEvent {
    /// Cargo's progress while it builds a save: its status lines (`Compiling …`, `Finished …`).
    Building(BuildEvent),
    /// A build finished; the next [`Coo::update`] loads it (its error, if it failed, comes from
    /// `update` itself). `since` is when the first save it includes was seen: `since.elapsed()`
    /// once `update` returned is the save-to-live latency. `warnings` are the compiler's, as
    /// rustc rendered them.
    Built {
        since: Instant,
        duration: Duration,
        warnings: Vec<String>,
    },
    /// Something went wrong while watching (events the operating system dropped, a new
    /// directory that could not be watched): a save may have been missed. Saving again rebuilds.
    Watch(WatchError),
    /// The sources could not be watched at all: saves are not seen, only
    /// [`Coo::reload_now`] reloads.
    NotWatching(WatchError),
}

impl fmt::Display for CooEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CooEvent::Building(event) => write!(f, "{event}"),
            CooEvent::Built {
                duration, warnings, ..
            } => {
                write!(f, "built in {:.2}s", duration.as_secs_f64())?;
                match warnings.len() {
                    0 => Ok(()),
                    1 => write!(f, " with 1 warning:\n{}", warnings.concat()),
                    n => write!(f, " with {n} warnings:\n{}", warnings.concat()),
                }
            }
            CooEvent::Watch(e) => write!(f, "warning: {e}"),
            CooEvent::NotWatching(e) => write!(
                f,
                "warning: not watching the sources ({e}); saves are not reloaded"
            ),
        }
    }
}

/// A plugin crate running in your program, rebuilt in the background and reloaded when you call
/// [`update`](Coo::update): see the [module docs](self).
///
/// Dropping it stops the watcher; a build running then finishes on its thread, and its result
/// is dropped.
#[derive(Debug)]
pub struct Coo {
    host: Host,
    shared: Arc<Shared>,
    /// Keeps the builder's thread waiting for changes while there is no watcher.
    _requests: mpsc::Sender<Request>,
    results: mpsc::Receiver<Out>,
    watcher: Option<Watcher>,
    /// What the watcher watches (empty when it does not).
    watched: WatchSet,
    events: VecDeque<CooEvent>,
}

/// A finished build, taken by [`Coo::next_build`]: its result and the changed paths it includes
/// (see `background::Out::Built`).
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) result: Result<BuildOutput, BuildError>,
    pub(crate) paths: Vec<PathBuf>,
}

impl Coo {
    /// Builds and loads the plugin crate in `plugin_dir` (into `<plugin_dir>/target/coo`), then
    /// watches its sources. The plugin's state is empty: call its `init` (or restore a
    /// snapshot) through [`host_mut`](Coo::host_mut).
    ///
    /// With hot-host's `static` feature (a release build, see [`crate::slots::release`]) it
    /// builds and watches nothing: it is [`Coo::start_linked`].
    pub fn start(plugin_dir: impl Into<PathBuf>) -> Result<Coo, ReloadError> {
        if cfg!(feature = "static") {
            return Coo::start_linked(plugin_dir);
        }
        Coo::start_with(Host::new(plugin_dir), CooOptions::default())
    }

    /// [`Coo::start`] with a host of your own (its builder's target dir, profile, cargo) and
    /// these options. The watch starts before the first build, so a save during it is not
    /// missed.
    ///
    /// With hot-host's `static` feature it is [`Coo::start_linked`] of the host's plugin
    /// directory (the rest of `host` and `options` is not used).
    pub fn start_with(host: Host, options: CooOptions) -> Result<Coo, ReloadError> {
        if cfg!(feature = "static") {
            return Coo::start_linked(host.builder().plugin_dir());
        }
        let mut coo = Coo::new(host, options);
        coo.reload_now()?;
        Ok(coo)
    }

    /// Runs the plugin crate linked into this binary ([`Host::linked`]): no cargo, no watcher,
    /// no thread, no library loaded. [`update`](Coo::update) always returns `None`,
    /// [`events`](Coo::events) is empty, and [`reload_now`](Coo::reload_now) is refused
    /// ([`ReloadError::Linked`]). The state starts empty, as after [`Coo::start`].
    pub fn start_linked(plugin_dir: impl Into<PathBuf>) -> Result<Coo, ReloadError> {
        let host = Host::linked(plugin_dir)?;
        // Channels with nobody at the other end: no build is ever requested nor delivered.
        let (requests, _) = mpsc::channel();
        let (_, results) = mpsc::channel();
        Ok(Coo {
            host,
            shared: Arc::new(Shared::new(None)),
            _requests: requests,
            results,
            watcher: None,
            watched: WatchSet::default(),
            events: VecDeque::new(),
        })
    }

    /// Watches the plugin of `host` (unless `options` say not to) and rebuilds it in the
    /// background from now on; builds nothing now. For a host that is already loaded (a
    /// restored one, in `hot-host run`). That the sources could not be watched is the first
    /// event ([`CooEvent::NotWatching`]).
    pub fn new(host: Host, options: CooOptions) -> Coo {
        let shared = Arc::new(Shared::new(options.wake));
        let (out, results) = mpsc::channel();
        let requests = background::spawn(host.builder().clone(), shared.clone(), out)
            .expect("spawn the builder thread");
        let mut events = VecDeque::new();
        let mut watched = WatchSet::default();
        let watcher = if options.watch {
            let stamp = shared.clone();
            let watching = watched_paths(host.builder().plugin_dir()).and_then(|set| {
                watched = set.clone();
                Watcher::spawn(set, options.debounce, requests.clone(), move |change| {
                    Request::Changed {
                        change,
                        generation: stamp.generation(),
                    }
                })
            });
            match watching {
                Ok(watcher) => Some(watcher),
                Err(e) => {
                    events.push_back(CooEvent::NotWatching(e));
                    watched = WatchSet::default();
                    None
                }
            }
        } else {
            None
        };
        Coo {
            host,
            shared,
            _requests: requests,
            results,
            watcher,
            watched,
            events,
        }
    }

    /// Applies a finished build, if there is one, and returns at once otherwise: `None` while
    /// nothing changed or a build runs; the reload's report; or why nothing was changed (the
    /// build or the reload failed; the old version keeps running with its state). Call it at a
    /// point where your program makes no plugin call. Builds finished meanwhile are loaded one
    /// per call, in order; the events that came before it are in [`events`](Coo::events).
    pub fn update(&mut self) -> Option<Result<ReloadReport, ReloadError>> {
        self.update_with(|_| {})
    }

    /// [`Coo::update`], calling `before_load` with the host just before a successfully built
    /// library is loaded (`hot-host run` saves a snapshot of the state there).
    pub fn update_with(
        &mut self,
        before_load: impl FnOnce(&mut Host),
    ) -> Option<Result<ReloadReport, ReloadError>> {
        match self.next_build()?.result {
            Ok(output) => {
                before_load(&mut self.host);
                Some(self.host.reload_from(&output.dylib, Some(output.duration)))
            }
            Err(e) => Some(Err(ReloadError::Build(e))),
        }
    }

    /// The next finished build that is to be loaded, if one has come (the events before it are
    /// queued, and so is its own [`CooEvent::Built`]); loading it is the caller's.
    pub(crate) fn next_build(&mut self) -> Option<Finished> {
        loop {
            match self.results.try_recv().ok()? {
                Out::Event(event) => self.events.push_back(event),
                // Older than a build the caller made itself: never loaded after it.
                Out::Built { generation, .. } if generation < self.shared.generation() => {}
                Out::Built {
                    mut result,
                    since,
                    paths,
                    ..
                } => {
                    if let Ok(output) = &mut result {
                        self.events.push_back(CooEvent::Built {
                            since,
                            duration: output.duration,
                            warnings: std::mem::take(&mut output.warnings),
                        });
                    }
                    return Some(Finished { result, paths });
                }
            }
        }
    }

    /// What the watcher watches: the sources of the plugin and of the path packages it depends
    /// on (empty when it does not watch).
    pub fn watched(&self) -> &WatchSet {
        &self.watched
    }

    /// The events queued so far, oldest first, taken out of the queue. [`update`](Coo::update)
    /// collects them: after it, they are those that came before the build it loaded (or all so
    /// far, when it loaded none).
    pub fn events(&mut self) -> std::collections::vec_deque::Drain<'_, CooEvent> {
        self.events.drain(..)
    }

    /// Whether a build runs now, or has ended and is on its way to [`update`](Coo::update).
    pub fn is_building(&self) -> bool {
        self.shared.is_building()
    }

    /// Whether the sources are watched (see [`CooEvent::NotWatching`]).
    pub fn is_watching(&self) -> bool {
        self.watcher.is_some()
    }

    /// Builds the current source and reloads it now, on this thread, waiting for cargo (whose
    /// progress is queued as events). Saves seen before, and a background build in flight, are
    /// not loaded after it.
    pub fn reload_now(&mut self) -> Result<ReloadReport, ReloadError> {
        self.supersede();
        let events = &mut self.events;
        self.host
            .reload_with(&mut |event| events.push_back(CooEvent::Building(event)))
    }

    /// Says that the caller is about to build and load the current source itself (through
    /// [`Host::reload`]): saves seen before, and a background build in flight, are then not
    /// loaded after it. Saves that come later are built and loaded as usual.
    pub fn supersede(&mut self) {
        self.shared.supersede();
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The host, to call the plugin and edit its state; also a safe point, since `update` needs
    /// `&mut self` too.
    pub fn host_mut(&mut self) -> &mut Host {
        &mut self.host
    }

    /// Makes the hot function `name` run its implementation `alternative`, live (see
    /// [`Host::choose`]): `coo.choose("change", "plus10")`.
    pub fn choose(&mut self, name: &str, alternative: &str) -> Result<(), crate::CallError> {
        self.host.choose(name, alternative)
    }

    /// Stops watching and building, and gives the host back.
    pub fn into_host(self) -> Host {
        self.host
    }
}

/// What the calls of [`hot_fns!`](crate::hot_fns) take: a [`Coo`] or a [`Host`].
impl AsMut<Host> for Coo {
    fn as_mut(&mut self) -> &mut Host {
        &mut self.host
    }
}

impl AsRef<Host> for Coo {
    fn as_ref(&self) -> &Host {
        &self.host
    }
}
