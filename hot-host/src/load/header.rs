//! The header check: what the loader reads of a freshly opened library, and in which order,
//! before it trusts anything in it.

use std::path::Path;

use coo_runtime::plugin::{
    ABI_FINGERPRINT, ABI_VERSION, HEADER_SYMBOL, MAGIC, Manifest, PluginHeader, RUNTIME_VERSION,
    RUSTC_VERSION,
};
use libloading::Library;

use super::error::{ExpectedFound, Fingerprint, LoadError, LoadErrorKind, Magic};
use super::{alternatives, error_chain};

/// Checks the header of `library` (opened from a copy of `dylib`) and returns its manifest.
/// The manifest points into `library`: the caller keeps the library open for as long as it uses
/// it (on success by wrapping it in an [`Image`] guarded along with the manifest; on failure by
/// never closing it).
pub(crate) fn check(library: &Library, dylib: &Path) -> Result<&'static Manifest, LoadError> {
    let error = |kind| LoadError::at(dylib, kind);
    {
        // SAFETY: `coo_plugin_header` is exported by `coo-runtime` with exactly this signature;
        // a library that exports a different item of that name could make this call anything,
        // which is the trust we extended by loading it. The `Symbol` borrows `library`.
        let header_fn =
            unsafe { library.get::<extern "C" fn() -> *const PluginHeader>(HEADER_SYMBOL) }
                .map_err(|e| {
                    error(LoadErrorKind::NotAPlugin {
                        reason: format!(
                            "it does not export `coo_plugin_header` ({})",
                            error_chain(&e)
                        ),
                    })
                })?;
        let header = header_fn();
        if header.is_null() {
            return Err(error(LoadErrorKind::NotAPlugin {
                reason: "`coo_plugin_header` returned null".to_owned(),
            }));
        }
        // SAFETY: non-null, and `coo_plugin_header` returns a pointer to a static of the library,
        // which the caller keeps open (this function's contract). Only the magic, whose place and type no ABI version changes, is
        // read before it is known to be a Coo header.
        let magic = unsafe { (*header).magic };
        if magic != MAGIC {
            return Err(error(LoadErrorKind::Magic {
                mismatch: ExpectedFound {
                    expected: Magic(MAGIC),
                    found: Magic(magic),
                },
            }));
        }
        // SAFETY: as above; every ABI version starts with magic and `abi_version`.
        let abi_version = unsafe { (*header).abi_version };
        if abi_version != ABI_VERSION {
            return Err(error(LoadErrorKind::Abi {
                mismatch: ExpectedFound {
                    expected: ABI_VERSION,
                    found: abi_version,
                },
            }));
        }
        // SAFETY: as above; every header from ABI version 2 on has the fingerprint, plain bytes,
        // right after `abi_version`, so this reads bytes of the header's static whatever the
        // rest of the plugin's `coo-runtime` looks like.
        let fingerprint = unsafe { (*header).fingerprint };
        if fingerprint != ABI_FINGERPRINT {
            return Err(error(LoadErrorKind::Fingerprint {
                mismatch: ExpectedFound {
                    expected: Fingerprint(ABI_FINGERPRINT),
                    found: Fingerprint(fingerprint),
                },
            }));
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
            return Err(error(LoadErrorKind::Rustc {
                mismatch: ExpectedFound {
                    expected: RUSTC_VERSION.to_owned(),
                    found: rustc,
                },
            }));
        }
        if runtime != RUNTIME_VERSION {
            return Err(error(LoadErrorKind::Runtime {
                mismatch: ExpectedFound {
                    expected: RUNTIME_VERSION.to_owned(),
                    found: runtime,
                },
            }));
        }
        if panic != "unwind" {
            return Err(error(LoadErrorKind::PanicStrategy { found: panic }));
        }

        let manifest = (header.manifest)();
        if manifest.is_null() {
            return Err(error(LoadErrorKind::NullManifest));
        }
        // SAFETY: the header matched, so the library was built by this compiler from this
        // version of `coo-runtime`, and its `Manifest` (a Rust type) has the layout the host
        // knows. It points to a static of the library (a `OnceLock` it fills once), valid while
        // the library is open: the caller keeps it open for as long as it holds the manifest
        // (`LoadedLibrary` holds it beside the `Image` guard).
        let manifest: &'static Manifest = unsafe { &*manifest };
        if let Some((name, first, second)) = duplicate_fn(manifest) {
            return Err(error(LoadErrorKind::DuplicateFn {
                name,
                first,
                second,
            }));
        }
        alternatives::check(manifest).map_err(error)?;

        Ok(manifest)
    }
}

/// The first two hot functions of `manifest` with the same stable name: the name and both full
/// paths, sorted. `inventory` collects the `#[hot_fn]`s of every crate linked into the plugin,
/// and the stable name leaves out the crate, so a dependency's `tick` and the plugin's own
/// `tick` meet here.
fn duplicate_fn(manifest: &Manifest) -> Option<(String, String, String)> {
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for f in manifest.fns() {
        let full = format!("{}::{}", f.module(), f.name());
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
