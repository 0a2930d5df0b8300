//! Why a library could not be loaded as a plugin: [`LoadError`] (the library's path and a
//! [`LoadErrorKind`]), and the values it shows
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

/// Why a library could not be loaded as a plugin: which library ([`LoadError::path`]) and what
/// is wrong with it ([`LoadErrorKind`]).
#[derive(Debug)]
pub struct LoadError {
    /// The library asked for, not the copy that was opened.
    pub path: PathBuf,
    pub kind: LoadErrorKind,
}

/// What is wrong with the library at a [`LoadError`]'s path.
#[derive(Debug)]
pub enum LoadErrorKind {
    /// It could not be copied to `copy`, the path it is opened from.
    Copy {
        copy: PathBuf,
        source: io::Error,
    },
    /// The dynamic loader refused the file (not a library, truncated, wrong architecture, …).
    Open {
        message: String,
    },
    /// A library, but not a Coo plugin: it does not export `coo_plugin_header`.
    NotAPlugin {
        reason: String,
    },
    Magic {
        mismatch: ExpectedFound<Magic>,
    },
    Abi {
        mismatch: ExpectedFound<u32>,
    },
    Rustc {
        mismatch: ExpectedFound<String>,
    },
    Runtime {
        mismatch: ExpectedFound<String>,
    },
    /// Built from other sources of `coo-runtime` (or `coo-derive`) than the host, of the same
    /// version: the types that cross the boundary may be laid out differently.
    Fingerprint {
        mismatch: ExpectedFound<Fingerprint>,
    },
    /// Built with `panic = "abort"`: a panic in a hot function would abort the host.
    PanicStrategy {
        found: String,
    },
    /// Two hot functions (of the plugin, or of crates it links) have the same stable name.
    DuplicateFn {
        /// The stable name both have.
        name: String,
        /// Both functions' full paths (`crate::module::name`), in sorted order.
        first: String,
        second: String,
    },
    /// An alternative implementation (`#[hot_fn(alt_of = "change")]`, full path
    /// `alternative`) names a function that is no hot function of its module (stable name
    /// `of`).
    AlternativeOfNothing {
        alternative: String,
        of: String,
    },
    /// An alternative implementation has another signature than the hot function it is an
    /// alternative of (`of`): the slot would call it with the wrong arguments.
    AlternativeSignature {
        alternative: String,
        of: String,
        /// `of`'s signature, and the alternative's (boxed: a `LoadError` stays small).
        mismatch: Box<ExpectedFound<String>>,
    },
    /// Two implementations of the hot function `of` are chosen by the same `name`: `paths`,
    /// their full paths, sorted (boxed: a `LoadError` stays small).
    DuplicateAlternative {
        of: String,
        name: String,
        paths: Box<[String; 2]>,
    },
    /// The library (the plugin or a crate it links) sets its own `#[global_allocator]`. Heap
    /// memory moves between versions (a migrated `Vec` made by one version is freed by the
    /// next), and each loaded copy has its own instance of that allocator. See
    /// [`crate::load::allocator`].
    OwnGlobalAllocator,
    /// The library's symbols do not say which global allocator it uses (see
    /// [`crate::load::allocator`]); refused rather than guessed.
    UnknownGlobalAllocator {
        reason: String,
    },
    /// The header matched, but the plugin's manifest function (the list of its types and hot
    /// functions) returned a null pointer.
    NullManifest,
}

impl LoadError {
    /// The library at `path` (the one asked for, not its copy) failed with `kind`.
    pub fn at(path: impl Into<PathBuf>, kind: LoadErrorKind) -> LoadError {
        LoadError {
            path: path.into(),
            kind,
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            LoadErrorKind::Copy { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.kind {
            LoadErrorKind::Copy { copy, source } => write!(
                f,
                "could not copy `{path}` to `{}` for loading: {source}",
                copy.display()
            ),
            LoadErrorKind::Open { message } => {
                write!(f, "could not open `{path}` as a dynamic library: {message}")
            }
            LoadErrorKind::NotAPlugin { reason } => {
                write!(f, "`{path}` is not a Coo plugin: {reason}")
            }
            LoadErrorKind::Magic { mismatch } => write!(
                f,
                "`{path}` exports `coo_plugin_header` but its header is not a Coo plugin header: {mismatch}"
            ),
            LoadErrorKind::Abi { mismatch } => write!(
                f,
                "`{path}` speaks another version of the Coo plugin ABI: {mismatch}; rebuild it against this host's coo-runtime"
            ),
            LoadErrorKind::Rustc { mismatch } => write!(
                f,
                "`{path}` was built by another compiler: {mismatch}; rebuild host and plugin with the same toolchain"
            ),
            LoadErrorKind::Runtime { mismatch } => write!(
                f,
                "`{path}` links another version of coo-runtime: {mismatch}; make host and plugin depend on the same one"
            ),
            LoadErrorKind::Fingerprint { mismatch } => write!(
                f,
                "`{path}` was built from other sources of coo-runtime than this host (ABI fingerprint {mismatch}): the descriptors it hands over may have another layout, so none of them is read; rebuild the host and the plugin from the same coo-runtime and coo-derive"
            ),
            LoadErrorKind::PanicStrategy { found } => write!(
                f,
                "`{path}` was built with `panic = \"{found}\"`, so a panic in a hot function would abort the host instead of being returned as an error; write `panic = \"unwind\"` under `[profile.dev]` and `[profile.release]` in the plugin's Cargo.toml (its workspace's, if it is in one), and remove any `-C panic=abort` from RUSTFLAGS"
            ),
            LoadErrorKind::DuplicateFn {
                name,
                first,
                second,
            } => write!(
                f,
                "`{path}` has two hot functions named `{name}`: `{first}` and `{second}`; hot functions are called by their path within their crate, so one would silently replace the other; rename the plugin's own function or move it into a module (`mod sim {{ ... }}` makes it `sim::{name}`)"
            ),
            LoadErrorKind::AlternativeOfNothing { alternative, of } => write!(
                f,
                "`{path}`: `{alternative}` is an alternative implementation of `{of}` (`#[hot_fn(alt_of = ...)]`), which is no hot function of its module; mark `{of}` `#[hot_fn]`, or name a hot function of the same module in `alt_of`"
            ),
            LoadErrorKind::AlternativeSignature {
                alternative,
                of,
                mismatch,
            } => write!(
                f,
                "`{path}`: `{alternative}` is an alternative implementation of `{of}` but has another signature: `{of}` is `{}`, `{alternative}` is `{}`; give both the same parameter and return types",
                mismatch.expected, mismatch.found
            ),
            LoadErrorKind::DuplicateAlternative { of, name, paths } => write!(
                f,
                "`{path}` has two implementations of `{of}` chosen by the name `{name}`: `{}` and `{}`; give one of them another `name = \"...\"` in its `#[hot_fn(alt_of = ...)]`",
                paths[0], paths[1]
            ),
            LoadErrorKind::OwnGlobalAllocator => write!(
                f,
                "`{path}` sets its own `#[global_allocator]` (the plugin or one of its dependencies): each loaded version would have its own instance of it, and memory that moves across versions (a migrated `Vec`, `String` or `Box`) would be freed by another instance of the allocator than the one that allocated it; remove the `#[global_allocator]` from the plugin and its dependencies (the host may have one)"
            ),
            LoadErrorKind::UnknownGlobalAllocator { reason } => write!(
                f,
                "cannot tell whether `{path}` sets its own `#[global_allocator]`: {reason}; memory that moves across versions must be freed by the allocator that made it, so the plugin is not loaded unsure; build it without `strip = \"symbols\"` and without `lto` (in `[profile.dev]`/`[profile.release]` of its Cargo.toml)"
            ),
            LoadErrorKind::NullManifest => write!(
                f,
                "`{path}` has a valid header but its manifest function returned null"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind prints, with its path, exactly the text `LoadError` printed when each variant
    /// carried the path itself (the texts below were printed by that version); the copy error
    /// keeps the I/O error as its source.
    #[test]
    fn each_kind_prints_its_path_once_in_the_old_text() {
        let ef = |e: &str, f: &str| ExpectedFound {
            expected: e.to_owned(),
            found: f.to_owned(),
        };
        let cases = vec![
            (
                LoadErrorKind::Copy {
                    copy: "/c/coo-p.so".into(),
                    source: io::Error::new(io::ErrorKind::StorageFull, "disk full"),
                },
                "could not copy `/t/libp.so` to `/c/coo-p.so` for loading: disk full",
            ),
            (
                LoadErrorKind::Open {
                    message: "truncated: x".into(),
                },
                "could not open `/t/libp.so` as a dynamic library: truncated: x",
            ),
            (
                LoadErrorKind::NotAPlugin {
                    reason: "no header".into(),
                },
                "`/t/libp.so` is not a Coo plugin: no header",
            ),
            (
                LoadErrorKind::Magic {
                    mismatch: ExpectedFound {
                        expected: Magic(*b"COOPLUG\0"),
                        found: Magic(*b"ELF\x7f\0\0\0\0"),
                    },
                },
                r#"`/t/libp.so` exports `coo_plugin_header` but its header is not a Coo plugin header: expected `b"COOPLUG\x00"`, found `b"ELF\x7f\x00\x00\x00\x00"`"#,
            ),
            (
                LoadErrorKind::Abi {
                    mismatch: ExpectedFound {
                        expected: 3,
                        found: 2,
                    },
                },
                "`/t/libp.so` speaks another version of the Coo plugin ABI: expected `3`, found `2`; rebuild it against this host's coo-runtime",
            ),
            (
                LoadErrorKind::Rustc {
                    mismatch: ef("rustc 1.95.0", "rustc 1.80.0"),
                },
                "`/t/libp.so` was built by another compiler: expected `rustc 1.95.0`, found `rustc 1.80.0`; rebuild host and plugin with the same toolchain",
            ),
            (
                LoadErrorKind::Runtime {
                    mismatch: ef("0.1.0", "0.2.0"),
                },
                "`/t/libp.so` links another version of coo-runtime: expected `0.1.0`, found `0.2.0`; make host and plugin depend on the same one",
            ),
            (
                LoadErrorKind::Fingerprint {
                    mismatch: ExpectedFound {
                        expected: Fingerprint([0xab; 16]),
                        found: Fingerprint([1; 16]),
                    },
                },
                "`/t/libp.so` was built from other sources of coo-runtime than this host (ABI fingerprint expected `abababababababababababababababab`, found `01010101010101010101010101010101`): the descriptors it hands over may have another layout, so none of them is read; rebuild the host and the plugin from the same coo-runtime and coo-derive",
            ),
            (
                LoadErrorKind::PanicStrategy {
                    found: "abort".into(),
                },
                "`/t/libp.so` was built with `panic = \"abort\"`, so a panic in a hot function would abort the host instead of being returned as an error; write `panic = \"unwind\"` under `[profile.dev]` and `[profile.release]` in the plugin's Cargo.toml (its workspace's, if it is in one), and remove any `-C panic=abort` from RUSTFLAGS",
            ),
            (
                LoadErrorKind::DuplicateFn {
                    name: "tick".into(),
                    first: "a::tick".into(),
                    second: "b::tick".into(),
                },
                "`/t/libp.so` has two hot functions named `tick`: `a::tick` and `b::tick`; hot functions are called by their path within their crate, so one would silently replace the other; rename the plugin's own function or move it into a module (`mod sim { ... }` makes it `sim::tick`)",
            ),
            (
                LoadErrorKind::OwnGlobalAllocator,
                "`/t/libp.so` sets its own `#[global_allocator]` (the plugin or one of its dependencies): each loaded version would have its own instance of it, and memory that moves across versions (a migrated `Vec`, `String` or `Box`) would be freed by another instance of the allocator than the one that allocated it; remove the `#[global_allocator]` from the plugin and its dependencies (the host may have one)",
            ),
            (
                LoadErrorKind::UnknownGlobalAllocator {
                    reason: "no symbol table".into(),
                },
                "cannot tell whether `/t/libp.so` sets its own `#[global_allocator]`: no symbol table; memory that moves across versions must be freed by the allocator that made it, so the plugin is not loaded unsure; build it without `strip = \"symbols\"` and without `lto` (in `[profile.dev]`/`[profile.release]` of its Cargo.toml)",
            ),
            (
                LoadErrorKind::NullManifest,
                "`/t/libp.so` has a valid header but its manifest function returned null",
            ),
        ];
        for (kind, text) in cases {
            let is_copy = matches!(kind, LoadErrorKind::Copy { .. });
            let e = LoadError::at("/t/libp.so", kind);
            assert_eq!(e.path, PathBuf::from("/t/libp.so"));
            assert_eq!(e.to_string(), text);
            let source = std::error::Error::source(&e).map(|s| s.to_string());
            assert_eq!(source, is_copy.then(|| "disk full".to_owned()), "{e}");
        }
    }

    /// The problems of alternative implementations name both functions and say what to write.
    #[test]
    fn alternative_kinds_name_both_functions_and_the_fix() {
        let cases = vec![
            (
                LoadErrorKind::AlternativeOfNothing {
                    alternative: "p::plainer".into(),
                    of: "plain".into(),
                },
                "`/t/libp.so`: `p::plainer` is an alternative implementation of `plain` (`#[hot_fn(alt_of = ...)]`), which is no hot function of its module; mark `plain` `#[hot_fn]`, or name a hot function of the same module in `alt_of`",
            ),
            (
                LoadErrorKind::AlternativeSignature {
                    alternative: "p::by".into(),
                    of: "change".into(),
                    mismatch: Box::new(ExpectedFound {
                        expected: "fn(c: &mut Counter)".into(),
                        found: "fn(c: &mut Counter, by: u64)".into(),
                    }),
                },
                "`/t/libp.so`: `p::by` is an alternative implementation of `change` but has another signature: `change` is `fn(c: &mut Counter)`, `p::by` is `fn(c: &mut Counter, by: u64)`; give both the same parameter and return types",
            ),
            (
                LoadErrorKind::DuplicateAlternative {
                    of: "change".into(),
                    name: "fast".into(),
                    paths: Box::new(["p::a".into(), "p::b".into()]),
                },
                "`/t/libp.so` has two implementations of `change` chosen by the name `fast`: `p::a` and `p::b`; give one of them another `name = \"...\"` in its `#[hot_fn(alt_of = ...)]`",
            ),
        ];
        for (kind, text) in cases {
            assert_eq!(LoadError::at("/t/libp.so", kind).to_string(), text);
        }
    }
}
