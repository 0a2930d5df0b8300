//! Loading a built plugin library, checking its header before trusting anything in it.
//!
//! [`Loader::load`] copies the library to a path of its own, opens the copy, calls
//! `coo_plugin_header` and compares the `#[repr(C)]` [`PluginHeader`] with the host's own: magic,
//! Coo ABI version and ABI fingerprint (plain bytes at fixed offsets, read before anything is
//! dereferenced), then compiler version, `coo-runtime` version and panic strategy. Only when all
//! match does it call the header's `manifest` function, whose Rust types it can then read because
//! host and plugin were built by the same compiler from the same sources of `coo-runtime` (the
//! fingerprint is a hash of them; the version number alone would let an edited copy through).
//! Every mismatch is a [`LoadError`] variant with both sides. Finally it refuses a manifest in
//! which two hot functions have the same stable name (the plugin's own and a dependency's, say):
//! one would silently shadow the other.
//!
//! # Why a copy
//!
//! `dlopen` of a path that is already open returns the library already loaded (and Windows
//! keeps a loaded file locked, so cargo could not even rebuild it). Each load therefore opens a
//! fresh copy, `<copy_dir>/coo-<stem>-<pid>-<n>.<ext>`, `n` counting loads in this process.
//!
//! # Unloading
//!
//! A library is unloaded (`dlclose`) once nothing can refer to it any more. [`Loader::load`]
//! wraps it in an [`Image`] behind an `Arc`, and everything that keeps a pointer into it
//! (type descriptors, drop and migration glue, hot-function shims, the manifest) keeps a clone
//! of that `Arc` through a [`coo_runtime::ImageRef`]: the catalog of its types, every resource
//! of its types, plans made for it, the host's slots holding its code, handles resolved to it.
//! The type system therefore says who keeps an image alive, and the last of them to go closes
//! it ([`Image`]'s `Drop`). In a reload that is the commit: the state migrated off the old types
//! (old values dropped by the old glue while it was still mapped), the slots hold the new code,
//! the old catalog and plan are dropped, and with them the old image, unless a handle resolved
//! against it is still held somewhere (it then goes with the handle). A failed reload drops the
//! new image instead and keeps the old one.
//!
//! The descriptor types keep their `&'static` fields, so accessors such as `Catalog::get` or
//! `Resource::desc` still hand out `&'static TypeDesc`: read it as "valid while its holder
//! lives" (see [`coo_runtime::plugin::image`]). What this crate hands out is bound to its holder
//! ([`LoadedLibrary::manifest`], [`crate::slots::FnRef`], [`crate::FnHandle::desc`]).
//!
//! `dlclose` does not always unmap: glibc keeps a library that registered a thread-local
//! destructor (any thread that ran its `std` with a thread local, a panic message printed via
//! `thread::current()`) or that another open handle still refers to. A thread the plugin spawned
//! with `std::thread` registers such destructors (std's per-thread data), and that is what keeps
//! its code mapped while it runs (`tests/tests/unload.rs` checks it). A thread created around
//! `std` (a raw `pthread_create`) that touches no thread local is invisible to glibc and to Coo:
//! unloading its image would pull its code away under it, so a plugin must not leave such a
//! thread running. After `dlclose`, [`Image`] looks in `/proc/self/maps` (Linux) whether the
//! copy is still mapped and, if so, records it as *pinned* ([`pinned`]; the reload report lists
//! those of its own thread): its memory stays for the life of the process, but nothing refers to
//! it any more, so it is not a dangling pointer, only a leak the user is told about.
//!
//! A library rejected by the header check is kept (leaked, never closed): its initializers have
//! already run and we cannot know what they registered where, nor whether its destructors are
//! safe to run. [`kept`] counts the images that are mapped (open, pinned or rejected) and the
//! sizes of their files.
//!
//! # Copies on disk
//!
//! A copy is removed as soon as its image is closed (pinned or not: a mapping outlives its
//! file), and a rejected library's copy right after the rejection, so the copy dir holds only
//! the copies of open images. [`Loader::remove_stale_copies`] removes those left by processes that
//! were killed before they could.

use std::cell::RefCell;
use std::fmt;
use std::fs;
use std::io;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use coo_runtime::ImageRef;
use coo_runtime::plugin::{
    ABI_FINGERPRINT, ABI_VERSION, HEADER_SYMBOL, MAGIC, Manifest, PluginHeader, RUNTIME_VERSION,
    RUSTC_VERSION,
};
use libloading::Library;

/// Numbers the copies this process makes, across all loaders.
static COPIES: AtomicU64 = AtomicU64::new(0);
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

/// What a side of a comparison expected and what it found, abi_stable style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedFound<T> {
    pub expected: T,
    pub found: T,
}

impl<T: fmt::Display> fmt::Display for ExpectedFound<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected `{}`, found `{}`", self.expected, self.found)
    }
}

/// Eight magic bytes, displayed as a byte string: `b"COOPLUG\0"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Magic(pub [u8; 8]);

impl fmt::Display for Magic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

/// An ABI fingerprint (see [`coo_runtime::plugin::ABI_FINGERPRINT`]), displayed as hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 16]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Why a library could not be loaded as a plugin. `path` is always the library asked for, not
/// the copy.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("could not copy `{}` to `{}` for loading: {source}", path.display(), copy.display())]
    Copy {
        path: PathBuf,
        copy: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The dynamic loader refused the file (not a library, truncated, wrong architecture, …).
    #[error("could not open `{}` as a dynamic library: {message}", path.display())]
    Open { path: PathBuf, message: String },
    /// A library, but not a Coo plugin: it does not export `coo_plugin_header`.
    #[error("`{}` is not a Coo plugin: {reason}", path.display())]
    NotAPlugin { path: PathBuf, reason: String },
    #[error("`{}` exports `coo_plugin_header` but its header is not a Coo plugin header: {mismatch}", path.display())]
    Magic {
        path: PathBuf,
        mismatch: ExpectedFound<Magic>,
    },
    #[error("`{}` speaks another version of the Coo plugin ABI: {mismatch}; rebuild it against this host's coo-runtime", path.display())]
    Abi {
        path: PathBuf,
        mismatch: ExpectedFound<u32>,
    },
    #[error("`{}` was built by another compiler: {mismatch}; rebuild host and plugin with the same toolchain", path.display())]
    Rustc {
        path: PathBuf,
        mismatch: ExpectedFound<String>,
    },
    #[error("`{}` links another version of coo-runtime: {mismatch}; make host and plugin depend on the same one", path.display())]
    Runtime {
        path: PathBuf,
        mismatch: ExpectedFound<String>,
    },
    /// Built from other sources of `coo-runtime` (or `coo-derive`) than the host, of the same
    /// version: the types that cross the boundary may be laid out differently.
    #[error("`{}` was built from other sources of coo-runtime than this host (ABI fingerprint {mismatch}): the descriptors it hands over may have another layout, so none of them is read; rebuild the host and the plugin from the same coo-runtime and coo-derive", path.display())]
    Fingerprint {
        path: PathBuf,
        mismatch: ExpectedFound<Fingerprint>,
    },
    /// Built with `panic = "abort"`: a panic in a hot function would abort the host.
    #[error("`{}` was built with `panic = \"{found}\"`, so a panic in a hot function would abort the host instead of being returned as an error; write `panic = \"unwind\"` under `[profile.dev]` and `[profile.release]` in the plugin's Cargo.toml (its workspace's, if it is in one), and remove any `-C panic=abort` from RUSTFLAGS", path.display())]
    PanicStrategy { path: PathBuf, found: String },
    /// Two hot functions (of the plugin, or of crates it links) have the same stable name.
    #[error("`{}` has two hot functions named `{name}`: `{first}` and `{second}`; hot functions are called by their path within their crate, so one would silently replace the other; rename the plugin's own function or move it into a module (`mod sim {{ ... }}` makes it `sim::{name}`)", path.display())]
    DuplicateFn {
        path: PathBuf,
        /// The stable name both have.
        name: String,
        /// Both functions' full paths (`crate::module::name`), in sorted order.
        first: String,
        second: String,
    },
    #[error("`{}` has a valid header but its manifest function returned null", path.display())]
    NoManifest { path: PathBuf },
}

/// An open plugin library and its copy on disk. Dropping it (when the last [`ImageRef`] of it
/// goes) closes the library, records it as [`Pinned`] if it is still mapped, and removes the
/// copy. See the [module docs](self).
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
    /// The copy actually loaded.
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

/// Loads plugin libraries through copies in one directory.
#[derive(Debug, Clone)]
pub struct Loader {
    copy_dir: PathBuf,
}

impl Loader {
    /// A loader that copies libraries into `copy_dir` (created on first load).
    pub fn new(copy_dir: impl Into<PathBuf>) -> Loader {
        Loader {
            copy_dir: copy_dir.into(),
        }
    }

    /// A loader copying into `<target_dir>/coo-loaded`, next to the builds it loads.
    pub fn in_target_dir(target_dir: &Path) -> Loader {
        Loader::new(target_dir.join("coo-loaded"))
    }

    pub fn copy_dir(&self) -> &Path {
        &self.copy_dir
    }

    /// Copies `dylib`, opens the copy, checks its header and reads its manifest.
    pub fn load(&self, dylib: &Path) -> Result<LoadedLibrary, LoadError> {
        let copy = self.copy(dylib)?;
        let bytes = fs::metadata(&copy).map(|m| m.len()).unwrap_or(0);
        let error_path = || dylib.to_path_buf();
        let remove_copy = |e: LoadError| {
            let _ = fs::remove_file(&copy);
            e
        };

        // The dynamic loader maps segments without checking that the file holds them; touching a
        // page past the end of a truncated file is a SIGBUS, not an error. Check first.
        elf::check_segments(&copy)
            .map_err(|message| LoadError::Open {
                path: error_path(),
                message,
            })
            .map_err(remove_copy)?;
        // SAFETY: opening a library runs its initializers (ELF constructors, among them the
        // `inventory` registrations of every `#[derive(CooType)]` and `#[hot_fn]`): arbitrary
        // code of the library, in this process. Nothing can check that code beforehand; this
        // library is the plugin the user built from their own source, and running it is the
        // whole point of a hot-reload host, so this is the point where we accept to. What we do
        // guard against is the loader itself: a file that is not a library makes `dlopen` fail
        // with an error (returned as `Open`), and a truncated one was refused just above.
        let library = unsafe { Library::new(&copy) }
            .map_err(|e| LoadError::Open {
                path: error_path(),
                message: error_chain(&e),
            })
            .map_err(remove_copy)?;
        KEPT_LIBRARIES.fetch_add(1, Ordering::Relaxed);
        KEPT_BYTES.fetch_add(bytes, Ordering::Relaxed);
        match check(&library, dylib) {
            Ok(manifest) => Ok(LoadedLibrary {
                source: dylib.to_path_buf(),
                path: copy.clone(),
                bytes,
                manifest,
                image: Arc::new(Image {
                    library: ManuallyDrop::new(library),
                    source: dylib.to_path_buf(),
                    path: copy,
                    bytes,
                    version: AtomicU64::new(0),
                }),
            }),
            Err(e) => {
                // Rejected: never closed (see the module docs), but its copy is not needed.
                core::mem::forget(library);
                Err(remove_copy(e))
            }
        }
    }
}

/// Checks the header of `library` (opened from a copy of `dylib`) and returns its manifest.
/// The manifest points into `library`: the caller keeps the library open for as long as it uses
/// it (on success by wrapping it in an [`Image`] guarded along with the manifest; on failure by
/// never closing it).
fn check(library: &Library, dylib: &Path) -> Result<&'static Manifest, LoadError> {
    let error_path = || dylib.to_path_buf();
    {
        // SAFETY: `coo_plugin_header` is exported by `coo-runtime` with exactly this signature;
        // a library that exports a different item of that name could make this call anything,
        // which is the trust we extended by loading it. The `Symbol` borrows `library`.
        let header_fn =
            unsafe { library.get::<extern "C" fn() -> *const PluginHeader>(HEADER_SYMBOL) }
                .map_err(|e| LoadError::NotAPlugin {
                    path: error_path(),
                    reason: format!(
                        "it does not export `coo_plugin_header` ({})",
                        error_chain(&e)
                    ),
                })?;
        let header = header_fn();
        if header.is_null() {
            return Err(LoadError::NotAPlugin {
                path: error_path(),
                reason: "`coo_plugin_header` returned null".to_owned(),
            });
        }
        // SAFETY: non-null, and `coo_plugin_header` returns a pointer to a static of the library,
        // which the caller keeps open (this function's contract). Only the magic, whose place and type no ABI version changes, is
        // read before it is known to be a Coo header.
        let magic = unsafe { (*header).magic };
        if magic != MAGIC {
            return Err(LoadError::Magic {
                path: error_path(),
                mismatch: ExpectedFound {
                    expected: Magic(MAGIC),
                    found: Magic(magic),
                },
            });
        }
        // SAFETY: as above; every ABI version starts with magic and `abi_version`.
        let abi_version = unsafe { (*header).abi_version };
        if abi_version != ABI_VERSION {
            return Err(LoadError::Abi {
                path: error_path(),
                mismatch: ExpectedFound {
                    expected: ABI_VERSION,
                    found: abi_version,
                },
            });
        }
        // SAFETY: as above; every header from ABI version 2 on has the fingerprint, plain bytes,
        // right after `abi_version`, so this reads bytes of the header's static whatever the
        // rest of the plugin's `coo-runtime` looks like.
        let fingerprint = unsafe { (*header).fingerprint };
        if fingerprint != ABI_FINGERPRINT {
            return Err(LoadError::Fingerprint {
                path: error_path(),
                mismatch: ExpectedFound {
                    expected: Fingerprint(ABI_FINGERPRINT),
                    found: Fingerprint(fingerprint),
                },
            });
        }
        // SAFETY: same magic, ABI version and fingerprint: the plugin's `PluginHeader` was
        // compiled from the very definition the host's was, so the header has this layout, and
        // it lives in a library the caller keeps open while it uses what this returns (the
        // `'static` is that contract, not the library's life).
        let header: &'static PluginHeader = unsafe { &*header };
        // SAFETY: such a header points its `StrRef`s at static string data of the library,
        // which is open; the strings are copied out right away.
        let (rustc, runtime, panic) = unsafe {
            (
                header.rustc_version.read().into_owned(),
                header.runtime_version.read().into_owned(),
                header.panic_strategy.read().into_owned(),
            )
        };
        if rustc != RUSTC_VERSION {
            return Err(LoadError::Rustc {
                path: error_path(),
                mismatch: ExpectedFound {
                    expected: RUSTC_VERSION.to_owned(),
                    found: rustc,
                },
            });
        }
        if runtime != RUNTIME_VERSION {
            return Err(LoadError::Runtime {
                path: error_path(),
                mismatch: ExpectedFound {
                    expected: RUNTIME_VERSION.to_owned(),
                    found: runtime,
                },
            });
        }
        if panic != "unwind" {
            return Err(LoadError::PanicStrategy {
                path: error_path(),
                found: panic,
            });
        }

        let manifest = (header.manifest)();
        if manifest.is_null() {
            return Err(LoadError::NoManifest { path: error_path() });
        }
        // SAFETY: the header matched, so the library was built by this compiler from this
        // version of `coo-runtime`, and its `Manifest` (a Rust type) has the layout the host
        // knows. It points to a static of the library (a `OnceLock` it fills once), valid while
        // the library is open: the caller keeps it open for as long as it holds the manifest
        // (`LoadedLibrary` holds it beside the `Image` guard).
        let manifest: &'static Manifest = unsafe { &*manifest };
        if let Some((name, first, second)) = duplicate_fn(manifest) {
            return Err(LoadError::DuplicateFn {
                path: error_path(),
                name,
                first,
                second,
            });
        }

        Ok(manifest)
    }
}

impl Loader {
    /// Copies `dylib` to a path no library of this process was loaded from.
    fn copy(&self, dylib: &Path) -> Result<PathBuf, LoadError> {
        let copy_error = |copy: PathBuf| {
            move |source| LoadError::Copy {
                path: dylib.to_path_buf(),
                copy,
                source,
            }
        };
        let n = COPIES.fetch_add(1, Ordering::Relaxed);
        let copy = self.copy_dir.join(copy_name(dylib, std::process::id(), n));
        fs::create_dir_all(&self.copy_dir).map_err(copy_error(copy.clone()))?;
        // A file of this name can only be left by an exited process that had our pid. Unlink it
        // rather than overwrite it in place: if anything still maps it, it keeps its old inode.
        let _ = fs::remove_file(&copy);
        fs::copy(dylib, &copy).map_err(copy_error(copy.clone()))?;
        Ok(copy)
    }

    /// Removes copies left in the copy dir by processes that have exited, and returns how many
    /// it removed. Copies of live processes (this one, or another host sharing the directory)
    /// are left alone. Only on Linux, where `/proc` tells whether a process lives; elsewhere it
    /// removes nothing.
    pub fn remove_stale_copies(&self) -> io::Result<usize> {
        if !cfg!(target_os = "linux") {
            return Ok(0);
        }
        let entries = match fs::read_dir(&self.copy_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let me = std::process::id();
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(copy_pid) else {
                continue;
            };
            if pid != me
                && !Path::new("/proc").join(pid.to_string()).exists()
                && fs::remove_file(entry.path()).is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The one check of a library file `dlopen` does not make.
mod elf {
    use std::fs::File;
    use std::io::{Read, Seek, SeekFrom};
    use std::path::Path;

    const PT_LOAD: u32 = 1;

    /// Checks that every loadable segment of an ELF file lies within the file: `dlopen` maps
    /// them without looking, and reading a page past the end of the file kills the process with
    /// SIGBUS. Files that are not ELF (Mach-O, PE, text) are left to the platform's loader, which
    /// reads their headers with bounds checks.
    pub(super) fn check_segments(path: &Path) -> Result<(), String> {
        let mut file = File::open(path).map_err(|e| e.to_string())?;
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        let mut ident = [0u8; 64];
        let read = read_up_to(&mut file, &mut ident).map_err(|e| e.to_string())?;
        if read < 6 || ident[..4] != *b"\x7fELF" {
            return Ok(());
        }
        let wide = match ident[4] {
            1 => false,
            2 => true,
            class => return Err(format!("unknown ELF class {class}")),
        };
        let little = match ident[5] {
            1 => true,
            2 => false,
            data => return Err(format!("unknown ELF data encoding {data}")),
        };
        let header_len = if wide { 64 } else { 52 };
        if read < header_len {
            return Err(format!(
                "truncated: the ELF header needs {header_len} bytes, the file has {len}"
            ));
        }
        let field = |bytes: &[u8], at: usize, size: usize| -> u64 {
            let mut value = [0u8; 8];
            let src = &bytes[at..at + size];
            if little {
                value[..size].copy_from_slice(src);
                u64::from_le_bytes(value)
            } else {
                value[8 - size..].copy_from_slice(src);
                u64::from_be_bytes(value)
            }
        };
        let (phoff, phentsize, phnum) = if wide {
            (
                field(&ident, 32, 8),
                field(&ident, 54, 2),
                field(&ident, 56, 2),
            )
        } else {
            (
                field(&ident, 28, 4),
                field(&ident, 42, 2),
                field(&ident, 44, 2),
            )
        };
        let min_entry = if wide { 56 } else { 32 };
        if phnum > 0 && phentsize < min_entry {
            return Err(format!("bad ELF program header size {phentsize}"));
        }
        let table_end = phoff.saturating_add(phentsize * phnum);
        if table_end > len {
            return Err(format!(
                "truncated: the program headers end at byte {table_end}, the file has {len}"
            ));
        }
        let mut table = vec![0u8; (phentsize * phnum) as usize];
        file.seek(SeekFrom::Start(phoff))
            .and_then(|_| file.read_exact(&mut table))
            .map_err(|e| e.to_string())?;
        for entry in table.chunks_exact(phentsize as usize) {
            if field(entry, 0, 4) != u64::from(PT_LOAD) {
                continue;
            }
            let (offset, filesz) = if wide {
                (field(entry, 8, 8), field(entry, 32, 8))
            } else {
                (field(entry, 4, 4), field(entry, 16, 4))
            };
            let end = offset.saturating_add(filesz);
            if end > len {
                return Err(format!(
                    "truncated: a loadable segment ends at byte {end}, the file has {len}"
                ));
            }
        }
        Ok(())
    }

    fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut read = 0;
        while read < buf.len() {
            match file.read(&mut buf[read..])? {
                0 => break,
                n => read += n,
            }
        }
        Ok(read)
    }
}

/// The first two hot functions of `manifest` with the same stable name: the name and both full
/// paths, sorted. `inventory` collects the `#[hot_fn]`s of every crate linked into the plugin,
/// and the stable name leaves out the crate, so a dependency's `tick` and the plugin's own
/// `tick` meet here.
fn duplicate_fn(manifest: &Manifest) -> Option<(String, String, String)> {
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for f in &manifest.fns {
        let full = format!("{}::{}", f.module, f.name);
        if let Some(other) = seen.insert(f.path(), full.clone()) {
            let (first, second) = if other <= full {
                (other, full)
            } else {
                (full, other)
            };
            return Some((f.path(), first, second));
        }
    }
    None
}

/// An error and its sources, `: `-separated (libloading's `Display` says only "dlopen failed";
/// the loader's own message is its source).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// `coo-<stem>-<pid>-<n>.<ext>`.
fn copy_name(dylib: &Path, pid: u32, n: u64) -> String {
    let stem = dylib
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    match dylib.extension() {
        Some(ext) => format!("coo-{stem}-{pid}-{n}.{}", ext.to_string_lossy()),
        None => format!("coo-{stem}-{pid}-{n}"),
    }
}

/// The pid in a copy's name, if it is one.
fn copy_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("coo-")?;
    let rest = rest.split_once('.').map_or(rest, |(base, _)| base);
    let mut parts = rest.rsplitn(3, '-');
    let _n: u64 = parts.next()?.parse().ok()?;
    let pid = parts.next()?.parse().ok()?;
    parts.next()?;
    Some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_names_carry_stem_pid_and_counter() {
        let name = copy_name(Path::new("/t/debug/libdemo_plugin.so"), 42, 7);
        assert_eq!(name, "coo-libdemo_plugin-42-7.so");
        assert_eq!(copy_pid(&name), Some(42));
        assert_eq!(copy_pid("coo-my-plugin-9-0.dll"), Some(9));
        assert_eq!(copy_pid("coo-x-9.so"), None);
        assert_eq!(copy_pid("libdemo.so"), None);
    }

    #[test]
    fn mismatches_print_both_sides() {
        let e = LoadError::Rustc {
            path: "p.so".into(),
            mismatch: ExpectedFound {
                expected: "rustc 1.95.0".to_owned(),
                found: "rustc 1.80.0".to_owned(),
            },
        };
        let text = e.to_string();
        assert!(
            text.contains("expected `rustc 1.95.0`, found `rustc 1.80.0`"),
            "{text}"
        );
        let magic = ExpectedFound {
            expected: Magic(MAGIC),
            found: Magic(*b"ELF\x7f\0\0\0\0"),
        };
        assert_eq!(
            magic.to_string(),
            r#"expected `b"COOPLUG\x00"`, found `b"ELF\x7f\x00\x00\x00\x00"`"#
        );
    }
}
