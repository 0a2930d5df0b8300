//! Loading a built plugin library, checking its header before trusting anything in it.
//!
//! [`Loader::load`] gives the library a path of its own (a hard link or a copy), opens it, calls
//! `coo_plugin_header` and compares the `#[repr(C)]` [`PluginHeader`](coo_runtime::plugin::PluginHeader) with the host's own: magic,
//! Coo ABI version and ABI fingerprint (plain bytes at fixed offsets, read before anything is
//! dereferenced), then compiler version, `coo-runtime` version and panic strategy. Only when all
//! match does it call the header's `manifest` function, whose Rust types it can then read because
//! host and plugin were built by the same compiler from the same sources of `coo-runtime` (the
//! fingerprint is a hash of them; the version number alone would let an edited copy through).
//! Every mismatch is a [`LoadErrorKind`] of its own with both sides. Finally it refuses a manifest in
//! which two hot functions have the same stable name (the plugin's own and a dependency's, say):
//! one would silently shadow the other; and a library that sets its own `#[global_allocator]`,
//! or whose symbols do not tell ([`allocator`]): memory moves between versions. An accepted
//! library's `log` records are sent to this process's logger from then on, up to its maximum
//! level at load ([`coo_runtime::plugin::logs`]).
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | [`Loader`]: the copy, `dlopen`, the checks in order, stale copies |
//! | `header.rs` | the header check and the manifest's duplicate names |
//! | `alternatives.rs` | the manifest's alternative implementations: each of a hot function, with its signature, named once |
//! | [`allocator`] | which global allocator an image uses, from its symbol table |
//! | `elf.rs` | the segments of an ELF file lie within it (before `dlopen`) |
//! | `image.rs` | [`Image`], [`LoadedLibrary`], what stays mapped ([`Pinned`], [`kept`]) |
//! | `error.rs` | [`LoadError`] (path and [`LoadErrorKind`]) and the values it shows |
//!
//! # Why a path of its own: a hard link or a copy
//!
//! `dlopen` of a path that is already open returns the library already loaded, and glibc also
//! returns it for another path to the same file (it compares device and inode); Windows keeps a
//! loaded file locked, so cargo could not even rebuild it. Each load therefore opens the library
//! under a name of its own, `<copy_dir>/coo-<stem>-<pid>-<n>.<ext>`, `n` counting loads in this
//! process. On Linux that name is a **hard link** to cargo's output when no mapping of this
//! process shows the file's inode (`/proc/self/maps`): a fresh build, so the load costs no copy
//! whatever the image's size. Linkers replace their output file rather than write into it (GNU
//! ld and gold unlink it first, lld and mold write a new file and rename it; cargo removes the
//! file it uplifts before linking the new one), so a rebuild leaves the loaded inode alone
//! (`hot-host/tests/loader.rs` checks it on this machine's linker). The inode is mapped already
//! when the same build is loaded again (a `reload` with nothing rebuilt, a preview beside the
//! live version): then, on other systems, or when the link fails (another file system), the
//! library is **copied**. The check and the `dlopen` happen under one process-wide lock, so two
//! loads of one fresh file cannot both pass the check.
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

pub mod allocator;
mod alternatives;
mod elf;
mod error;
mod header;
mod image;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use coo_runtime::plugin::logs::this_log_sink;
use coo_runtime::plugin::raise::this_raise_hook;
use libloading::Library;

use allocator::Allocator;
pub use error::{ExpectedFound, Fingerprint, LoadError, LoadErrorKind, Magic};
pub use image::{Image, Kept, LoadedLibrary, Pinned, kept, mapped_under, pinned, take_pinned};

/// Numbers the copies this process makes, across all loaders.
static COPIES: AtomicU64 = AtomicU64::new(0);

/// Held from the check that a file is not mapped until it is: see "Why a path of its own".
static PLACE_AND_OPEN: Mutex<()> = Mutex::new(());

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

    /// Gives `dylib` a path of its own (a hard link, or a copy), opens it, checks its header and
    /// reads its manifest.
    pub fn load(&self, dylib: &Path) -> Result<LoadedLibrary, LoadError> {
        // A poisoned lock only means another load panicked; the guarded check is still right.
        let placing = PLACE_AND_OPEN.lock().unwrap_or_else(|e| e.into_inner());
        let copy = self.place(dylib)?;
        let bytes = fs::metadata(&copy).map(|m| m.len()).unwrap_or(0);
        let open_error = |message| LoadError::at(dylib, LoadErrorKind::Open { message });
        let remove_copy = |e: LoadError| {
            let _ = fs::remove_file(&copy);
            e
        };

        // The dynamic loader maps segments without checking that the file holds them; touching a
        // page past the end of a truncated file is a SIGBUS, not an error. Check first.
        elf::check_segments(&copy)
            .map_err(open_error)
            .map_err(remove_copy)?;
        // SAFETY: opening a library runs its initializers (ELF constructors, among them the
        // `inventory` registrations of every `#[derive(CooType)]` and `#[hot_fn]`): arbitrary
        // code of the library, in this process. Nothing can check that code beforehand; this
        // library is the plugin the user built from their own source, and running it is the
        // whole point of a hot-reload host, so this is the point where we accept to. What we do
        // guard against is the loader itself: a file that is not a library makes `dlopen` fail
        // with an error (returned as `Open`), and a truncated one was refused just above.
        let library = unsafe { Library::new(&copy) }
            .map_err(|e| open_error(error_chain(&e)))
            .map_err(remove_copy)?;
        drop(placing);
        image::count_opened(bytes);
        let checked = header::check(&library, dylib)
            .and_then(|manifest| check_allocator(&copy, dylib).map(|()| manifest));
        match checked {
            Ok(manifest) => {
                // The library's `log` records go to this process's logger, up to its level now
                // (`coo_runtime::plugin::logs`).
                manifest.set_log_sink(this_log_sink(), log::max_level() as usize);
                // The library's raising entries report panics by unwinding with this
                // process's `std` (`coo_runtime::plugin::raise`), before anything calls them.
                manifest.set_raise_hook(this_raise_hook());
                // SAFETY: `header::check` read `manifest` from this very library, opened from
                // `copy`, a copy of `dylib`.
                Ok(unsafe { LoadedLibrary::new(library, dylib, copy, bytes, manifest) })
            }
            Err(e) => {
                // Rejected: never closed (see the module docs), but its copy is not needed.
                core::mem::forget(library);
                Err(remove_copy(e))
            }
        }
    }
}

impl Loader {
    /// Gives `dylib` a path no library of this process was loaded from: a hard link when this
    /// process maps no file with its inode, a copy otherwise (see "Why a path of its own").
    fn place(&self, dylib: &Path) -> Result<PathBuf, LoadError> {
        let copy_error = |copy: PathBuf| {
            move |source| LoadError::at(dylib, LoadErrorKind::Copy { copy, source })
        };
        let n = COPIES.fetch_add(1, Ordering::Relaxed);
        let copy = self.copy_dir.join(copy_name(dylib, std::process::id(), n));
        fs::create_dir_all(&self.copy_dir).map_err(copy_error(copy.clone()))?;
        // A file of this name can only be left by an exited process that had our pid. Unlink it
        // rather than overwrite it in place: if anything still maps it, it keeps its old inode.
        let _ = fs::remove_file(&copy);
        if !inode_is_mapped(dylib) && fs::hard_link(dylib, &copy).is_ok() {
            return Ok(copy);
        }
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

/// Refuses a library (the copy at `copy` of `dylib`) that sets its own global allocator, or
/// whose symbols do not tell (see [`allocator`]).
fn check_allocator(copy: &Path, dylib: &Path) -> Result<(), LoadError> {
    match allocator::allocator_of(copy) {
        Allocator::Default | Allocator::NotElf => Ok(()),
        Allocator::Own => Err(LoadError::at(dylib, LoadErrorKind::OwnGlobalAllocator)),
        Allocator::Unknown(reason) => Err(LoadError::at(
            dylib,
            LoadErrorKind::UnknownGlobalAllocator { reason },
        )),
    }
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
/// Whether this process maps a file with the inode of `path` (Linux: the inode column of
/// `/proc/self/maps`; an inode of another file system with the same number counts too, which
/// only costs a copy). Elsewhere, or when it cannot tell, `true`: a copy is always right.
fn inode_is_mapped(path: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let (Ok(meta), Ok(maps)) = (fs::metadata(path), fs::read_to_string("/proc/self/maps"))
        else {
            return true;
        };
        let inode = meta.ino().to_string();
        // `address perms offset dev inode path`
        maps.lines()
            .any(|line| line.split_ascii_whitespace().nth(4) == Some(inode.as_str()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        true
    }
}

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
    use coo_runtime::plugin::MAGIC;

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
        let e = LoadError::at(
            "p.so",
            LoadErrorKind::Rustc {
                mismatch: ExpectedFound {
                    expected: "rustc 1.95.0".to_owned(),
                    found: "rustc 1.80.0".to_owned(),
                },
            },
        );
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
