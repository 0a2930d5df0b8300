//! `Loader` on real built plugins and on files that are not plugins.

mod support;

use std::fs;

use coo_runtime::plugin::{ABI_VERSION, MAGIC, RUNTIME_VERSION, RUSTC_VERSION};
use hot_host::loader::{self, ExpectedFound, LoadError, Loader, Magic};
use support::{bare_cdylib, builder, fixtures_target_dir, forged_header, minimal_plugin};

fn loader() -> Loader {
    let loader = Loader::in_target_dir(&fixtures_target_dir());
    // Copies left by earlier test runs (processes that have exited) are fair game.
    loader.remove_stale_copies().unwrap();
    loader
}

#[test]
fn a_built_plugin_passes_the_header_check_and_yields_its_manifest() {
    let built = minimal_plugin();
    let lib = loader().load(&built.dylib).unwrap();
    assert_eq!(lib.source, built.dylib);
    assert_ne!(lib.path, built.dylib);
    assert!(
        lib.path
            .starts_with(fixtures_target_dir().join("coo-loaded"))
    );
    let names: Vec<_> = lib.manifest.types.iter().map(|t| t.name).collect();
    assert_eq!(names, ["Counter"]);
    assert!(lib.bytes > 0);
    assert!(loader::kept().bytes >= lib.bytes);
}

#[test]
fn loading_the_same_dylib_twice_loads_two_distinct_copies() {
    let built = minimal_plugin();
    let loader = loader();
    let before = loader::kept().libraries;
    let a = loader.load(&built.dylib).unwrap();
    let b = loader.load(&built.dylib).unwrap();
    assert_ne!(a.path, b.path);
    assert!(a.path.is_file() && b.path.is_file());
    // Two libraries, each with its own statics: the manifests are different objects.
    assert!(!std::ptr::eq(a.manifest, b.manifest));
    assert!(!std::ptr::eq(a.manifest.types[0], b.manifest.types[0]));
    assert!(loader::kept().libraries >= before + 2);
}

#[test]
fn a_text_file_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join(format!("notes{}", std::env::consts::DLL_SUFFIX));
    fs::write(&path, "this is not a library\n").unwrap();
    let err = loader().load(&path).unwrap_err();
    let LoadError::Open { message, .. } = &err else {
        panic!("expected LoadError::Open, got {err:?}");
    };
    // The dynamic loader's own reason, not just "dlopen failed".
    assert!(message.contains("notes"), "{message}");
}

#[test]
fn a_truncated_library_is_refused_not_crashed_on() {
    // Cut inside the headers, and inside the loadable segments (a Rust cdylib's code and data
    // take the first few hundred kilobytes; the rest is debug info, and a library cut there
    // still loads). `dlopen` would map the missing pages and die of SIGBUS touching them.
    let bytes = fs::read(&minimal_plugin().dylib).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for len in [64, 1_000, 100_000] {
        let path = dir
            .path()
            .join(format!("truncated-{len}{}", std::env::consts::DLL_SUFFIX));
        fs::write(&path, &bytes[..len]).unwrap();
        let err = loader().load(&path).unwrap_err();
        let file_has = format!("the file has {len}");
        assert!(
            matches!(
                &err,
                LoadError::Open { message, .. }
                    if message.starts_with("truncated: ") && message.ends_with(&file_has)
            ),
            "{len} bytes: {err:?}"
        );
    }
}

#[test]
fn a_missing_file_is_a_copy_error() {
    let err = loader()
        .load(&fixtures_target_dir().join("no-such-library.so"))
        .unwrap_err();
    assert!(matches!(err, LoadError::Copy { .. }), "{err:?}");
}

/// Builds a dependency-free cdylib from `lib_rs` and loads it.
fn load_bare(name: &str, lib_rs: &str) -> LoadError {
    let dir = bare_cdylib(name, lib_rs);
    let built = builder(dir.path())
        .build()
        .unwrap_or_else(|e| panic!("{name} does not build: {e}"));
    loader().load(&built.dylib).unwrap_err()
}

#[test]
fn a_library_without_a_header_is_not_a_plugin() {
    let err = load_bare(
        "headerless-plugin",
        "#[unsafe(no_mangle)]\npub extern \"C\" fn something() {}\n",
    );
    assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err:?}");
}

#[test]
fn each_header_mismatch_is_its_own_error_with_both_sides() {
    let err = load_bare(
        "bad-magic-plugin",
        &forged_header(b"NOTCOO\0\0", ABI_VERSION, RUSTC_VERSION, RUNTIME_VERSION),
    );
    let LoadError::Magic { mismatch, .. } = &err else {
        panic!("expected LoadError::Magic, got {err:?}");
    };
    assert_eq!(mismatch.found, Magic(*b"NOTCOO\0\0"));

    let err = load_bare(
        "bad-abi-plugin",
        &forged_header(&MAGIC, ABI_VERSION + 1, RUSTC_VERSION, RUNTIME_VERSION),
    );
    let LoadError::Abi { mismatch, .. } = &err else {
        panic!("expected LoadError::Abi, got {err:?}");
    };
    assert_eq!(
        *mismatch,
        ExpectedFound {
            expected: ABI_VERSION,
            found: ABI_VERSION + 1
        }
    );

    let err = load_bare(
        "bad-rustc-plugin",
        &forged_header(&MAGIC, ABI_VERSION, "rustc 1.0.0 (forged)", RUNTIME_VERSION),
    );
    let LoadError::Rustc { mismatch, .. } = &err else {
        panic!("expected LoadError::Rustc, got {err:?}");
    };
    assert_eq!(mismatch.expected, RUSTC_VERSION);
    assert_eq!(mismatch.found, "rustc 1.0.0 (forged)");
    let text = err.to_string();
    assert!(
        text.contains(RUSTC_VERSION) && text.contains("rustc 1.0.0 (forged)"),
        "{text}"
    );

    let err = load_bare(
        "bad-runtime-plugin",
        &forged_header(&MAGIC, ABI_VERSION, RUSTC_VERSION, "0.0.0-forged"),
    );
    let LoadError::Runtime { mismatch, .. } = &err else {
        panic!("expected LoadError::Runtime, got {err:?}");
    };
    assert_eq!(mismatch.found, "0.0.0-forged");
}

#[test]
fn a_matching_header_with_a_null_manifest_is_refused() {
    let err = load_bare(
        "null-manifest-plugin",
        &forged_header(&MAGIC, ABI_VERSION, RUSTC_VERSION, RUNTIME_VERSION),
    );
    assert!(matches!(err, LoadError::NoManifest { .. }), "{err:?}");
}
