//! The background half of a [`Coo`](super::Coo): one thread that builds the plugin when its
//! sources change, coalescing saves, and hands each finished build to the caller's thread.
//!
//! The watcher (see [`crate::watch`]) sends its debounced [`Change`]s to this thread; cargo runs
//! here, so the caller's loop never waits for it. Saves that come in during a build are
//! coalesced: when the build ends its result is discarded and the latest source is built, so
//! only the newest save is ever handed over (a burst of saves is one reload). What the thread
//! sends back ([`Out`]) goes into a channel the caller reads when it chooses (its safe point);
//! after each message the caller's waker, if any, is called.
//!
//! # Generations
//! A caller that builds and loads the source itself ([`Coo::supersede`](super::Coo::supersede),
//! the `reload` command) bumps the shared generation first. A change stamped (when the watcher
//! sent it) with an older generation is already part of the caller's own build and is dropped
//! here; a build is stamped with the generation at its start, and one older than the caller's is
//! discarded by the caller. So nothing older than what the caller loaded is loaded after it.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Instant;

use coo_runtime::plugin::panic_message;

use crate::build::{BuildError, BuildEvent, BuildOutput, Builder};
use crate::watch::Change;

use super::CooEvent;

/// A function the background calls after each message it sends: an event loop that sleeps
/// until something happens (the dev loop) wakes up for it.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// What the caller's side and the background thread share.
pub(super) struct Shared {
    /// Bumped by the caller before it builds the source itself (see the [module docs](self)).
    generation: AtomicU64,
    /// Whether a build runs now, or has ended and its result is not yet sent.
    building: AtomicBool,
    wake: Option<Waker>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("generation", &self.generation)
            .field("building", &self.building)
            .field("wake", &self.wake.as_ref().map(|_| "Fn"))
            .finish()
    }
}

impl Shared {
    pub(super) fn new(wake: Option<Waker>) -> Shared {
        Shared {
            generation: AtomicU64::new(0),
            building: AtomicBool::new(false),
            wake,
        }
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Everything seen until now is part of the caller's own build: see the
    /// [module docs](self).
    pub(super) fn supersede(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn is_building(&self) -> bool {
        self.building.load(Ordering::SeqCst)
    }
}

/// What the background thread is asked to do.
#[derive(Debug)]
pub(super) enum Request {
    /// The sources changed (a debounced batch); `generation` is the shared generation when the
    /// watcher sent it.
    Changed { change: Change, generation: u64 },
}

/// What the background thread sends to the caller.
#[derive(Debug)]
pub(super) enum Out {
    Event(CooEvent),
    /// A build of the newest source ended. `since` is when the first change it includes was
    /// seen; `generation` the shared generation when it started; `paths` the changed paths it
    /// includes, sorted, each once (those of builds it superseded too; empty when the watcher
    /// lost events: it may include anything).
    Built {
        result: Result<BuildOutput, BuildError>,
        since: Instant,
        generation: u64,
        paths: Vec<PathBuf>,
    },
}

/// Starts the background thread building with `builder`; send it the changes.
///
/// It ends when every sender of the requests is dropped (the [`Coo`](super::Coo) and its
/// watcher), or when nobody receives what it sends; a build running then is finished first.
pub(super) fn spawn(
    builder: Builder,
    shared: Arc<Shared>,
    out: mpsc::Sender<Out>,
) -> io::Result<mpsc::Sender<Request>> {
    let (requests, incoming) = mpsc::channel();
    thread::Builder::new()
        .name("coo-build".into())
        .spawn(move || {
            run(
                |progress| builder.build_with(progress),
                &incoming,
                &shared,
                &out,
            );
        })?;
    Ok(requests)
}

/// The changes not yet in a build.
#[derive(Debug, Clone)]
struct Pending {
    /// When the first of them was seen.
    since: Instant,
    /// The newest generation they were stamped with.
    generation: u64,
    /// The paths that changed.
    paths: BTreeSet<PathBuf>,
}

/// Sends `message` and wakes the caller; false when nobody receives any more.
fn send(out: &mpsc::Sender<Out>, shared: &Shared, message: Out) -> bool {
    let sent = out.send(message).is_ok();
    if sent && let Some(wake) = &shared.wake {
        wake();
    }
    sent
}

/// Adds a request to the pending changes; false when nobody receives any more.
fn absorb(
    request: Request,
    pending: &mut Option<Pending>,
    shared: &Shared,
    out: &mpsc::Sender<Out>,
) -> bool {
    let Request::Changed { change, generation } = request;
    for error in change.errors {
        if !send(out, shared, Out::Event(CooEvent::Watch(error))) {
            return false;
        }
    }
    let since = change.first_event_at;
    let p = pending.get_or_insert_with(|| Pending {
        since,
        generation,
        paths: BTreeSet::new(),
    });
    p.since = p.since.min(since);
    p.generation = p.generation.max(generation);
    p.paths.extend(change.paths);
    true
}

/// Adds every request already queued to the pending changes, without waiting; false when the
/// thread should end.
fn absorb_queued(
    incoming: &mpsc::Receiver<Request>,
    pending: &mut Option<Pending>,
    shared: &Shared,
    out: &mpsc::Sender<Out>,
) -> bool {
    loop {
        match incoming.try_recv() {
            Ok(request) => {
                if !absorb(request, pending, shared, out) {
                    return false;
                }
            }
            Err(mpsc::TryRecvError::Empty) => return true,
            Err(mpsc::TryRecvError::Disconnected) => return false,
        }
    }
}

/// The thread's loop, with the build passed in (tests build without cargo).
fn run(
    mut build: impl FnMut(&mut dyn FnMut(BuildEvent)) -> Result<BuildOutput, BuildError>,
    incoming: &mpsc::Receiver<Request>,
    shared: &Shared,
    out: &mpsc::Sender<Out>,
) {
    let mut pending: Option<Pending> = None;
    loop {
        if pending.is_none() {
            // Nothing to build: wait for a change.
            let Ok(request) = incoming.recv() else {
                return;
            };
            if !absorb(request, &mut pending, shared, out) {
                return;
            }
        }
        if !absorb_queued(incoming, &mut pending, shared, out) {
            return;
        }
        let Some(building) = pending.take() else {
            continue;
        };
        if building.generation < shared.generation() {
            // The caller built and loaded these changes itself.
            shared.building.store(false, Ordering::SeqCst);
            continue;
        }
        shared.building.store(true, Ordering::SeqCst);
        let generation = shared.generation();
        let mut listening = true;
        // A panic while building is a bug of ours: it fails this build, not the thread, which
        // would otherwise leave `Coo::update` returning `None` for good.
        let result = catch_unwind(AssertUnwindSafe(|| {
            build(&mut |event| {
                listening = listening && send(out, shared, Out::Event(CooEvent::Building(event)));
            })
        }))
        .unwrap_or_else(|payload| {
            Err(BuildError::Panicked {
                message: panic_message(&*payload),
            })
        });
        if !listening || !absorb_queued(incoming, &mut pending, shared, out) {
            return;
        }
        if let Some(newer) = &mut pending {
            // Saves came in during that build: build the latest source, hand over only it.
            newer.since = newer.since.min(building.since);
            newer.paths.extend(building.paths);
            continue;
        }
        let sent = send(
            out,
            shared,
            Out::Built {
                result,
                since: building.since,
                generation,
                paths: building.paths.into_iter().collect(),
            },
        );
        shared.building.store(false, Ordering::SeqCst);
        if !sent {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A build that tells it started, then waits until the test lets it end, and "builds"
    /// a library named after how many builds came before it.
    struct FakeCargo {
        started: mpsc::Sender<u32>,
        finish: mpsc::Receiver<()>,
        count: u32,
    }

    impl FakeCargo {
        fn build(
            &mut self,
            progress: &mut dyn FnMut(BuildEvent),
        ) -> Result<BuildOutput, BuildError> {
            self.count += 1;
            self.started.send(self.count).unwrap();
            progress(BuildEvent::Status(format!(
                "   Compiling build {}",
                self.count
            )));
            self.finish.recv().unwrap();
            Ok(BuildOutput {
                dylib: PathBuf::from(format!("build-{}.so", self.count)),
                duration: Duration::ZERO,
                fresh: false,
                warnings: Vec::new(),
            })
        }
    }

    struct Rig {
        requests: mpsc::Sender<Request>,
        out: mpsc::Receiver<Out>,
        started: mpsc::Receiver<u32>,
        finish: mpsc::Sender<()>,
        shared: Arc<Shared>,
        thread: thread::JoinHandle<()>,
    }

    const EVENTUALLY: Duration = Duration::from_secs(60);

    fn rig() -> Rig {
        let (requests, incoming) = mpsc::channel();
        let (out_tx, out) = mpsc::channel();
        let (started_tx, started) = mpsc::channel();
        let (finish, finish_rx) = mpsc::channel();
        let shared = Arc::new(Shared::new(None));
        let thread_shared = shared.clone();
        let thread = thread::spawn(move || {
            let mut cargo = FakeCargo {
                started: started_tx,
                finish: finish_rx,
                count: 0,
            };
            run(
                |progress| cargo.build(progress),
                &incoming,
                &thread_shared,
                &out_tx,
            );
        });
        Rig {
            requests,
            out,
            started,
            finish,
            shared,
            thread,
        }
    }

    impl Rig {
        fn change(&self, at: Instant) {
            self.change_of("src/lib.rs", at);
        }

        fn change_of(&self, path: &str, at: Instant) {
            let change = Change {
                paths: vec![PathBuf::from(path)],
                first_event_at: at,
                errors: Vec::new(),
            };
            let generation = self.shared.generation();
            self.requests
                .send(Request::Changed { change, generation })
                .unwrap();
        }

        /// The next build's number, once it has started.
        fn started(&self) -> u32 {
            self.started.recv_timeout(EVENTUALLY).unwrap()
        }

        /// The changed paths of the next build result.
        fn next_paths(&self) -> Vec<PathBuf> {
            loop {
                match self.out.recv_timeout(EVENTUALLY).unwrap() {
                    Out::Event(_) => {}
                    Out::Built { paths, .. } => return paths,
                }
            }
        }

        /// What the thread sent, up to and including the next build result: the progress lines
        /// and the result's library and `since`.
        fn next_built(&self) -> (Vec<String>, PathBuf, Instant, u64) {
            let mut progress = Vec::new();
            loop {
                match self.out.recv_timeout(EVENTUALLY).unwrap() {
                    Out::Event(CooEvent::Building(BuildEvent::Status(line))) => {
                        progress.push(line);
                    }
                    Out::Built {
                        result,
                        since,
                        generation,
                        ..
                    } => return (progress, result.unwrap().dylib, since, generation),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }

        /// Waits until no build runs and none is waiting to be sent.
        fn idle(&self) {
            let deadline = Instant::now() + EVENTUALLY;
            while self.shared.is_building() {
                assert!(Instant::now() < deadline, "still building");
                thread::yield_now();
            }
        }

        /// Ends the thread; what it sent that was not read.
        fn end(self) -> Vec<Out> {
            drop(self.requests);
            self.thread.join().unwrap();
            self.out.try_iter().collect()
        }
    }

    #[test]
    fn a_build_that_panics_fails_and_the_next_change_builds_again() {
        let (requests, incoming) = mpsc::channel();
        let (out_tx, out) = mpsc::channel();
        let shared = Arc::new(Shared::new(None));
        let thread_shared = shared.clone();
        let thread = thread::spawn(move || {
            let mut builds = 0;
            run(
                |_| {
                    builds += 1;
                    if builds == 1 {
                        panic!("cargo said something unexpected");
                    }
                    Ok(BuildOutput {
                        dylib: PathBuf::from("build-2.so"),
                        duration: Duration::ZERO,
                        fresh: false,
                        warnings: Vec::new(),
                    })
                },
                &incoming,
                &thread_shared,
                &out_tx,
            );
        });
        let change = || Request::Changed {
            change: Change {
                paths: vec![PathBuf::from("src/lib.rs")],
                first_event_at: Instant::now(),
                errors: Vec::new(),
            },
            generation: shared.generation(),
        };
        let next = || loop {
            if let Out::Built { result, .. } = out.recv_timeout(EVENTUALLY).unwrap() {
                return result;
            }
        };
        requests.send(change()).unwrap();
        match next() {
            Err(BuildError::Panicked { message }) => {
                assert_eq!(message, "cargo said something unexpected");
            }
            other => panic!("expected the panic as the build's error, got {other:?}"),
        }
        requests.send(change()).unwrap();
        assert_eq!(next().unwrap().dylib, PathBuf::from("build-2.so"));
        drop(requests);
        thread.join().unwrap();
    }

    #[test]
    fn changes_during_a_build_discard_it_and_only_the_newest_source_is_handed_over() {
        let rig = rig();
        let t0 = Instant::now();
        rig.change(t0 + Duration::from_millis(5));
        assert_eq!(rig.started(), 1);
        assert!(rig.shared.is_building());
        // Three saves while build 1 runs.
        rig.change(t0 + Duration::from_millis(7));
        rig.change(t0);
        rig.change(t0 + Duration::from_millis(9));
        rig.finish.send(()).unwrap();
        // Build 1 is discarded; one build includes all three.
        assert_eq!(rig.started(), 2);
        rig.finish.send(()).unwrap();
        let (progress, dylib, since, _) = rig.next_built();
        assert_eq!(
            progress,
            ["   Compiling build 1", "   Compiling build 2"],
            "the progress of every build is passed on"
        );
        assert_eq!(dylib, PathBuf::from("build-2.so"));
        assert_eq!(since, t0, "the first change it includes");
        rig.idle();
        assert!(rig.end().is_empty(), "no other build");
    }

    #[test]
    fn a_caller_that_builds_itself_drops_the_pending_changes_and_marks_the_build_in_flight() {
        let rig = rig();
        let t0 = Instant::now();
        rig.change(t0);
        assert_eq!(rig.started(), 1);
        // A change comes in during build 1; then the caller builds the source itself.
        rig.change(t0);
        rig.shared.supersede();
        rig.finish.send(()).unwrap();
        // Build 1 is still discarded (a change came during it), but that change is older than
        // the caller's own build: nothing is built again.
        rig.idle();
        // A change after the caller's build is built, stamped with the new generation.
        let t1 = Instant::now();
        rig.change(t1);
        assert_eq!(rig.started(), 2);
        rig.finish.send(()).unwrap();
        let (_, dylib, since, generation) = rig.next_built();
        assert_eq!(dylib, PathBuf::from("build-2.so"));
        assert_eq!(since, t1);
        assert_eq!(generation, 1);

        // A build in flight when the caller builds is handed over with its older generation,
        // for the caller to discard.
        rig.change(t1);
        assert_eq!(rig.started(), 3);
        rig.shared.supersede();
        rig.finish.send(()).unwrap();
        let (_, dylib, _, generation) = rig.next_built();
        assert_eq!(dylib, PathBuf::from("build-3.so"));
        assert_eq!(generation, 1);
        assert!(generation < rig.shared.generation());
        assert!(rig.end().is_empty());
    }

    #[test]
    fn a_build_hands_over_every_changed_path_it_includes_with_those_of_the_builds_it_superseded() {
        let rig = rig();
        let t0 = Instant::now();
        rig.change_of("shared/src/lib.rs", t0);
        assert_eq!(rig.started(), 1);
        // Two saves while build 1 runs: build 1 is discarded, build 2 includes all three.
        rig.change_of("src/lib.rs", t0);
        rig.change_of("shared/src/lib.rs", t0);
        rig.finish.send(()).unwrap();
        assert_eq!(rig.started(), 2);
        rig.finish.send(()).unwrap();
        assert_eq!(
            rig.next_paths(),
            [
                PathBuf::from("shared/src/lib.rs"),
                PathBuf::from("src/lib.rs")
            ]
        );
        rig.idle();
        // The next build includes only what changed after it.
        rig.change_of("src/other.rs", t0);
        assert_eq!(rig.started(), 3);
        rig.finish.send(()).unwrap();
        assert_eq!(rig.next_paths(), [PathBuf::from("src/other.rs")]);
        assert!(rig.end().is_empty());
    }
}
