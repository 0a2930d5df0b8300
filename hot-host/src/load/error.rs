//! Why a library could not be loaded as a plugin: [`LoadError`], and the values it shows
//! (both sides of a mismatch, magic bytes, fingerprints).

use std::fmt;
use std::io;
use std::path::PathBuf;

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
    /// The library (the plugin or a crate it links) sets its own `#[global_allocator]`. Heap
    /// memory moves between versions (a migrated `Vec` made by one version is freed by the
    /// next), and each loaded copy has its own instance of that allocator. See
    /// [`crate::load::allocator`].
    #[error("`{}` sets its own `#[global_allocator]` (the plugin or one of its dependencies): each loaded version would have its own instance of it, and memory that moves across versions (a migrated `Vec`, `String` or `Box`) would be freed by another instance of the allocator than the one that allocated it; remove the `#[global_allocator]` from the plugin and its dependencies (the host may have one)", path.display())]
    OwnGlobalAllocator { path: PathBuf },
    /// The library's symbols do not say which global allocator it uses (see
    /// [`crate::load::allocator`]); refused rather than guessed.
    #[error("cannot tell whether `{}` sets its own `#[global_allocator]`: {reason}; memory that moves across versions must be freed by the allocator that made it, so the plugin is not loaded unsure; build it without `strip = \"symbols\"` and without `lto` (in `[profile.dev]`/`[profile.release]` of its Cargo.toml)", path.display())]
    UnknownGlobalAllocator { path: PathBuf, reason: String },
    #[error("`{}` has a valid header but its manifest function returned null", path.display())]
    NoManifest { path: PathBuf },
}
