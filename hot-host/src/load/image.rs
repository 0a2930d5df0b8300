//! An open plugin image and who keeps it: [`Image`] (closed when its last guard goes),
//! [`LoadedLibrary`] (an image that passed the header check, with its manifest), and the
//! process-wide record of what stays mapped ([`Pinned`], [`kept`]).

use std::cell::RefCell;
use std::fmt;
use std::fs;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use coo_runtime::ImageRef;
use coo_runtime::plugin::Manifest;
use libloading::Library;

use super::error_chain;

/// Images this process has mapped: open, pinned after closing, or rejected and leaked.
static KEPT_LIBRARIES: AtomicUsize = AtomicUsize::new(0);
/// The sizes of their files.
static KEPT_BYTES: AtomicU64 = AtomicU64::new(0);
/// Every image found still mapped after it was closed.
static PINNED: Mutex<Vec<Pinned>> = Mutex::new(Vec::new());

thread_local! {
    /// The images pinned on this thread since the last [`take_pinned`].
    static PINNED_HERE: RefCell<Vec<Pinned>> = const { RefCell::new(Vec::new()) };
}

/// An open plugin library and its copy on disk. Dropping it (when the last [`ImageRef`] of it
/// goes) closes the library, records it as [`Pinned`] if it is still mapped, and removes the
/// copy. See the [module docs](crate::load).
pub struct Image {
    library: ManuallyDrop<Library>,
    source: PathBuf,
    path: PathBuf,
    bytes: u64,
    /// The host version that loaded it (0 for a preview or a bare load), for reports.
    version: AtomicU64,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("path", &self.path)
            .field("version", &self.version.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Image {
    /// Records the host version this image is loaded as, for reports of it being pinned.
    pub fn set_version(&self, version: u64) {
        self.version.store(version, Ordering::Relaxed);
    }

    /// The copy the image was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: this is the image's last owner: every descriptor, glue function, shim and
        // manifest pointer into it is held together with an `ImageRef` clone of the `Arc` that
        // owned this `Image`, so none is left (the module docs list the holders). Values of its
        // types were dropped by the holders of those guards before they let go. Taken once.
        let library = unsafe { ManuallyDrop::take(&mut self.library) };
        let closed = library.close();
        let still_mapped = is_mapped(&self.path);
        if closed.is_err() || still_mapped {
            let why = match closed {
                Err(e) => format!("dlclose failed: {}", error_chain(&e)),
                Ok(()) => "still mapped after dlclose: the plugin registered a thread-local \
                           destructor (a thread that ran its code, or one it spawned and that \
                           may still run)"
                    .to_owned(),
            };
            let pinned = Pinned {
                source: self.source.clone(),
                copy: self.path.clone(),
                version: self.version.load(Ordering::Relaxed),
                bytes: self.bytes,
                why,
            };
            PINNED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(pinned.clone());
            let _ = PINNED_HERE.try_with(|p| p.borrow_mut().push(pinned));
        } else {
            KEPT_LIBRARIES.fetch_sub(1, Ordering::Relaxed);
            KEPT_BYTES.fetch_sub(self.bytes, Ordering::Relaxed);
        }
        // A mapping outlives its file; nothing reads the copy once it is open.
        let _ = fs::remove_file(&self.path);
    }
}

/// An image that stayed mapped after it was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// The library asked for.
    pub source: PathBuf,
    /// The copy that was loaded (removed from disk, still mapped).
    pub copy: PathBuf,
    /// The host version it was loaded as (0: a preview or a bare load).
    pub version: u64,
    pub bytes: u64,
    /// Why it stays mapped.
    pub why: String,
}

impl fmt::Display for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "version {} ({}) stays mapped for the life of the process: {}",
            self.version,
            self.source.display(),
            self.why
        )
    }
}

/// Every image this process found still mapped after closing it.
pub fn pinned() -> Vec<Pinned> {
    PINNED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The images found pinned on this thread since the last call.
pub fn take_pinned() -> Vec<Pinned> {
    PINNED_HERE
        .try_with(|p| core::mem::take(&mut *p.borrow_mut()))
        .unwrap_or_default()
}

/// Whether `path` is mapped into this process (Linux: by `/proc/self/maps`; elsewhere assumed
/// not, since nothing can tell).
fn is_mapped(path: &Path) -> bool {
    let Some(path) = path.to_str() else {
        return false;
    };
    fs::read_to_string("/proc/self/maps").is_ok_and(|maps| {
        maps.lines().any(|line| {
            line.split_once('/').is_some_and(|(_, rest)| {
                let mapped = format!("/{rest}");
                mapped == path || mapped.strip_suffix(" (deleted)") == Some(path)
            })
        })
    })
}

/// The distinct files under `dir` that are mapped into this process now (Linux; elsewhere
/// empty): the plugin images a loader copying into `dir` keeps mapped.
pub fn mapped_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let Ok(maps) = fs::read_to_string("/proc/self/maps") else {
        return out;
    };
    for line in maps.lines() {
        let Some((_, rest)) = line.split_once('/') else {
            continue;
        };
        let mapped = format!("/{rest}");
        let mapped = mapped.strip_suffix(" (deleted)").unwrap_or(&mapped);
        let mapped = PathBuf::from(mapped);
        if mapped.starts_with(dir) && !out.contains(&mapped) {
            out.push(mapped);
        }
    }
    out
}

/// A plugin library that passed the header check, and the guard that keeps it loaded: what it
/// hands out is valid as long as this (or a clone of [`LoadedLibrary::image`]) lives.
#[derive(Debug, Clone)]
pub struct LoadedLibrary {
    /// The library asked for.
    pub source: PathBuf,
    /// The path actually loaded: a hard link to `source`, or a copy of it (see [`crate::load`]).
    pub path: PathBuf,
    /// The size of the copy.
    pub bytes: u64,
    /// Points into `image`, which this keeps open.
    manifest: &'static Manifest,
    image: Arc<Image>,
}

impl LoadedLibrary {
    /// What the plugin registered: its types and hot functions. The descriptors it reaches are
    /// valid while a guard of the image lives ([`LoadedLibrary::image_ref`]).
    pub fn manifest(&self) -> &Manifest {
        self.manifest
    }

    /// The manifest as the loader's own users keep it: with a guard of its image beside it.
    pub(crate) fn manifest_static(&self) -> &'static Manifest {
        self.manifest
    }

    /// The open library, for looking up further symbols (valid while `self` lives).
    pub fn library(&self) -> &Library {
        &self.image.library
    }

    /// The image, to mark its version.
    pub fn image(&self) -> &Image {
        &self.image
    }

    /// A guard that keeps the image open, for every holder of pointers into it.
    pub fn image_ref(&self) -> ImageRef {
        ImageRef::new(self.image.clone())
    }
}

impl LoadedLibrary {
    /// Wraps a library that passed the header check in its [`Image`].
    ///
    /// # Safety
    /// `manifest` points into `library` (opened from `copy`, a copy of `source`).
    pub(super) unsafe fn new(
        library: Library,
        source: &Path,
        copy: PathBuf,
        bytes: u64,
        manifest: &'static Manifest,
    ) -> LoadedLibrary {
        LoadedLibrary {
            source: source.to_path_buf(),
            path: copy.clone(),
            bytes,
            manifest,
            image: Arc::new(Image {
                library: ManuallyDrop::new(library),
                source: source.to_path_buf(),
                path: copy,
                bytes,
                version: AtomicU64::new(0),
            }),
        }
    }
}

/// Counts a library just opened, of `bytes` bytes, as kept (see [`kept`]); its [`Image`]
/// uncounts it when it is closed and unmapped.
pub(super) fn count_opened(bytes: u64) {
    KEPT_LIBRARIES.fetch_add(1, Ordering::Relaxed);
    KEPT_BYTES.fetch_add(bytes, Ordering::Relaxed);
}

/// How much this process keeps mapped (see [`kept`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    /// Images mapped: open ones, those pinned after closing, and rejected ones.
    pub libraries: usize,
    /// The sum of their file sizes.
    pub bytes: u64,
}

/// How many plugin images this process keeps mapped, and their size.
pub fn kept() -> Kept {
    Kept {
        libraries: KEPT_LIBRARIES.load(Ordering::Relaxed),
        bytes: KEPT_BYTES.load(Ordering::Relaxed),
    }
}
