//! The dev loop's snapshots written on a thread of their own: the loop only captures the state
//! at a safe point (a copy of it, [`Capture`]), and this thread turns the copy into the
//! snapshot's bytes (JSON, or binary for a `.coo` file) and writes it (to a temp file renamed over the run's file, as
//! [`SnapshotDir::write`] does), while the plugin keeps ticking and commands are answered.
//!
//! The thread never sees plugin memory: a [`Capture`] is owned bytes and layouts. Saves are
//! written one at a time, in the order they were captured, so the last one captured (the one at
//! exit) is the one left on disk.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::state_io::binary::Format;
use crate::state_io::capture::{Capture, CaptureError};
use crate::state_io::snapshot::{self, Header, SaveError, SnapshotDir};

/// One save for the writer thread.
#[derive(Debug)]
pub struct Job {
    /// The state copied out, or why it could not be (reported as the save's error).
    pub capture: Result<Capture, CaptureError>,
    pub header: Header,
    pub dir: SnapshotDir,
    pub file: PathBuf,
    /// The file the directory's pruning must keep (see [`SnapshotDir::write`]).
    pub protect: Option<PathBuf>,
    /// Told when the save is written (or failed), for a caller that waits for it.
    pub written: Option<mpsc::Sender<()>>,
    /// Whether the loop says so when it is written (with its size and time).
    pub announce: bool,
}

/// What a save did: the file's size and how long writing it took, or why it failed.
#[derive(Debug)]
pub struct Saved {
    pub file: PathBuf,
    pub result: Result<u64, SaveError>,
    /// Time spent on the writer thread: formatting the text and writing the file.
    pub took: Duration,
    /// As the [`Job`] said.
    pub announce: bool,
}

/// The writer thread: send it [`Job`]s; each one's [`Saved`] comes back through
/// [`Autosaver::saved`].
#[derive(Debug)]
pub struct Autosaver {
    jobs: Option<mpsc::Sender<Job>>,
    saved: mpsc::Receiver<Saved>,
    thread: Option<JoinHandle<()>>,
    /// Jobs sent and not yet written.
    pending: Arc<AtomicUsize>,
}

impl Autosaver {
    /// Starts the writer thread.
    pub fn spawn() -> Autosaver {
        let (jobs, incoming) = mpsc::channel::<Job>();
        let (done, saved) = mpsc::channel::<Saved>();
        let pending = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&pending);
        let thread = thread::Builder::new()
            .name("coo-autosave".into())
            .spawn(move || {
                for job in incoming {
                    let start = Instant::now();
                    let format = Format::of_path(&job.file);
                    let result = match job.capture {
                        Ok(capture) => {
                            let bytes = snapshot::encode(&capture, &job.header, format);
                            drop(capture);
                            job.dir
                                .write(&job.file, &bytes, job.protect.as_deref())
                                .map(|()| bytes.len() as u64)
                        }
                        Err(refused) => Err(SaveError::Capture(refused)),
                    };
                    counter.fetch_sub(1, Ordering::AcqRel);
                    let _ = done.send(Saved {
                        file: job.file,
                        result,
                        took: start.elapsed(),
                        announce: job.announce,
                    });
                    if let Some(written) = job.written {
                        let _ = written.send(());
                    }
                }
            })
            .expect("spawn the autosave thread");
        Autosaver {
            jobs: Some(jobs),
            saved,
            thread: Some(thread),
            pending,
        }
    }

    /// Queues a save.
    pub fn send(&self, job: Job) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        let jobs = self.jobs.as_ref().expect("the sender lives until finish");
        if jobs.send(job).is_err() {
            // The thread is gone (it panicked): nothing will write this one.
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Queues a save and waits until it is written (and every one queued before it).
    pub fn save_now(&self, mut job: Job) {
        let (written, wait) = mpsc::channel();
        job.written = Some(written);
        self.send(job);
        // An error (the thread is gone) means nothing is left to wait for.
        let _ = wait.recv();
    }

    /// Whether a save is queued or being written.
    pub fn busy(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }

    /// The saves written (or failed) since the last call.
    pub fn saved(&self) -> Vec<Saved> {
        self.saved.try_iter().collect()
    }

    /// Waits until every queued save is written; the saves not yet taken by
    /// [`Autosaver::saved`].
    pub fn finish(mut self) -> Vec<Saved> {
        self.join();
        self.saved()
    }

    fn join(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Saves still queued are written before the loop's thread goes on (or the process exits).
impl Drop for Autosaver {
    fn drop(&mut self) {
        self.join();
    }
}
