//! `Loader` on real built plugins and on files that are not plugins.

mod support;

use std::fs;
use std::path::Path;

use coo_runtime::plugin::{ABI_FINGERPRINT, ABI_VERSION, MAGIC, RUNTIME_VERSION, RUSTC_VERSION};
use hot_host::load::{self, ExpectedFound, Fingerprint, LoadError, LoadErrorKind, Loader, Magic};
use hot_host::{Host, ReloadError};
use support::{
    bare_cdylib, builder, fixtures_target_dir, forged_header, forged_header_with, minimal_plugin,
    variant, workspace,
};

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
    let names: Vec<_> = lib.manifest().types().iter().map(|t| t.name()).collect();
    assert_eq!(names, ["Counter"]);
    assert!(lib.bytes > 0);
    assert!(load::kept().bytes >= lib.bytes);
}

#[test]
fn loading_the_same_dylib_twice_loads_two_distinct_copies() {
    let built = minimal_plugin();
    let loader = loader();
    let a = loader.load(&built.dylib).unwrap();
    let b = loader.load(&built.dylib).unwrap();
    assert_ne!(a.path, b.path);
    assert!(a.path.is_file() && b.path.is_file());
    // Two libraries, each with its own statics: the manifests are different objects.
    assert!(!std::ptr::eq(a.manifest(), b.manifest()));
    assert!(!std::ptr::eq(
        a.manifest().types()[0],
        b.manifest().types()[0]
    ));
    let mapped = load::mapped_under(loader.copy_dir());
    assert!(
        mapped.contains(&a.path) && mapped.contains(&b.path),
        "{mapped:?}"
    );
    // Closing one unmaps it and removes its copy; the other stays.
    let a_path = a.path.clone();
    drop(a);
    assert!(!a_path.exists());
    assert!(!load::mapped_under(loader.copy_dir()).contains(&a_path));
    assert!(b.path.is_file());
}

#[test]
fn a_text_file_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join(format!("notes{}", std::env::consts::DLL_SUFFIX));
    fs::write(&path, "this is not a library\n").unwrap();
    let loader = loader();
    let err = loader.load(&path).unwrap_err();
    // The copy it tried to open is not left on disk.
    let prefix = format!("coo-notes-{}-", std::process::id());
    let left: Vec<_> = fs::read_dir(loader.copy_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    assert_eq!(left, Vec::<std::path::PathBuf>::new());
    let LoadErrorKind::Open { message } = &err.kind else {
        panic!("expected LoadErrorKind::Open, got {err:?}");
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
                &err.kind,
                LoadErrorKind::Open { message }
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
    assert!(matches!(err.kind, LoadErrorKind::Copy { .. }), "{err:?}");
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
    assert!(
        matches!(err.kind, LoadErrorKind::NotAPlugin { .. }),
        "{err:?}"
    );
}

#[test]
fn each_header_mismatch_is_its_own_error_with_both_sides() {
    let err = load_bare(
        "bad-magic-plugin",
        &forged_header(b"NOTCOO\0\0", ABI_VERSION, RUSTC_VERSION, RUNTIME_VERSION),
    );
    let LoadErrorKind::Magic { mismatch } = &err.kind else {
        panic!("expected LoadErrorKind::Magic, got {err:?}");
    };
    assert_eq!(mismatch.found, Magic(*b"NOTCOO\0\0"));

    let err = load_bare(
        "bad-abi-plugin",
        &forged_header(&MAGIC, ABI_VERSION + 1, RUSTC_VERSION, RUNTIME_VERSION),
    );
    let LoadErrorKind::Abi { mismatch } = &err.kind else {
        panic!("expected LoadErrorKind::Abi, got {err:?}");
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
    let LoadErrorKind::Rustc { mismatch } = &err.kind else {
        panic!("expected LoadErrorKind::Rustc, got {err:?}");
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
    let LoadErrorKind::Runtime { mismatch } = &err.kind else {
        panic!("expected LoadErrorKind::Runtime, got {err:?}");
    };
    assert_eq!(mismatch.found, "0.0.0-forged");

    // The fingerprint is checked before any string of the header is read: these are bogus.
    let mut other = ABI_FINGERPRINT;
    other[0] ^= 1;
    let err = load_bare(
        "bad-fingerprint-plugin",
        &forged_header_with(&MAGIC, ABI_VERSION, other, "?", "?", "?"),
    );
    let LoadErrorKind::Fingerprint { mismatch } = &err.kind else {
        panic!("expected LoadErrorKind::Fingerprint, got {err:?}");
    };
    assert_eq!(
        *mismatch,
        ExpectedFound {
            expected: Fingerprint(ABI_FINGERPRINT),
            found: Fingerprint(other)
        }
    );

    let err = load_bare(
        "bad-panic-plugin",
        &forged_header_with(
            &MAGIC,
            ABI_VERSION,
            ABI_FINGERPRINT,
            RUSTC_VERSION,
            RUNTIME_VERSION,
            "abort",
        ),
    );
    assert!(
        matches!(&err.kind, LoadErrorKind::PanicStrategy { found } if found == "abort"),
        "{err:?}"
    );
}

#[test]
fn a_matching_header_with_a_null_manifest_is_refused() {
    let err = load_bare(
        "null-manifest-plugin",
        &forged_header(&MAGIC, ABI_VERSION, RUSTC_VERSION, RUNTIME_VERSION),
    );
    assert!(matches!(err.kind, LoadErrorKind::NullManifest), "{err:?}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds a plugin crate with cargo and dlopens it: process spawning and FFI, which Miri cannot run"
)]
fn a_plugin_built_with_panic_abort_is_refused_naming_the_profile_setting() {
    let lib_rs = fs::read_to_string(support::fixture("minimal-plugin").join("src/lib.rs")).unwrap();
    let dir = variant("panic-abort-plugin", &lib_rs, |manifest| {
        format!("{manifest}\n[profile.dev]\npanic = \"abort\"\n")
    });
    let built = builder(dir.path())
        .build()
        .unwrap_or_else(|e| panic!("panic-abort-plugin does not build: {e}"));
    let err = loader().load(&built.dylib).unwrap_err();
    let (path, LoadErrorKind::PanicStrategy { found }) = (&err.path, &err.kind) else {
        panic!("expected LoadErrorKind::PanicStrategy, got {err:?}");
    };
    assert_eq!(path, &built.dylib);
    assert_eq!(found, "abort");
    let text = err.to_string();
    assert!(
        text.contains("write `panic = \"unwind\"` under `[profile.dev]` and `[profile.release]`"),
        "{text}"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds a plugin crate with cargo and dlopens it: process spawning and FFI, which Miri cannot run"
)]
fn a_plugin_with_its_own_global_allocator_is_refused_and_the_host_keeps_running() {
    let own = builder(&support::fixture("allocator-plugin"))
        .build()
        .unwrap_or_else(|e| panic!("allocator-plugin does not build: {e}"));
    let mut host = Host::with_builder(builder(&support::fixture("minimal-plugin")));
    host.reload_from(&minimal_plugin().dylib, None).unwrap();

    let err = host.reload_from(&own.dylib, None).unwrap_err();
    assert!(
        matches!(&err, ReloadError::Load(LoadError { path, kind: LoadErrorKind::OwnGlobalAllocator }) if path == &own.dylib),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("would be freed by another instance of the allocator")
            && text
                .contains("remove the `#[global_allocator]` from the plugin and its dependencies"),
        "{text}"
    );
    // Nothing changed: the first version still runs, and a plugin without an allocator of its
    // own still loads.
    assert_eq!(host.version(), 1);
    assert!(host.catalog().get("Counter").is_some());
    host.reload_from(&minimal_plugin().dylib, None).unwrap();
    assert_eq!(host.version(), 2);
}

/// `-C link-dead-code` keeps std's default allocator functions in the image beside the
/// plugin's own allocator: their presence alone must not pass it.
#[test]
#[cfg(target_arch = "x86_64")]
#[cfg_attr(
    miri,
    ignore = "builds a plugin crate with cargo and dlopens it: process spawning and FFI, which Miri cannot run"
)]
fn an_own_allocator_beside_the_default_ones_kept_by_link_dead_code_is_refused() {
    let lib_rs =
        fs::read_to_string(support::fixture("allocator-plugin").join("src/lib.rs")).unwrap();
    let dir = variant("dead-code-allocator-plugin", &lib_rs, |manifest| manifest);
    fs::create_dir(dir.path().join(".cargo")).unwrap();
    fs::write(
        dir.path().join(".cargo/config.toml"),
        "[build]\nrustflags = [\"-C\", \"link-dead-code\"]\n",
    )
    .unwrap();
    let built = builder(dir.path())
        .build()
        .unwrap_or_else(|e| panic!("dead-code-allocator-plugin does not build: {e}"));
    let err = loader().load(&built.dylib).unwrap_err();
    assert!(
        matches!(&err, LoadError { path, kind: LoadErrorKind::OwnGlobalAllocator } if path == &built.dylib),
        "{err:?}"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds a plugin crate with cargo and dlopens it: process spawning and FFI, which Miri cannot run"
)]
fn a_plugin_without_a_symbol_table_is_refused_as_undecidable() {
    let lib_rs = fs::read_to_string(support::fixture("minimal-plugin").join("src/lib.rs")).unwrap();
    let dir = variant("stripped-plugin", &lib_rs, |manifest| {
        format!("{manifest}\n[profile.dev]\nstrip = \"symbols\"\n")
    });
    let built = builder(dir.path())
        .build()
        .unwrap_or_else(|e| panic!("stripped-plugin does not build: {e}"));
    let err = loader().load(&built.dylib).unwrap_err();
    assert!(
        matches!(&err, LoadError { path, kind: LoadErrorKind::UnknownGlobalAllocator { .. } } if path == &built.dylib),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("build it without `strip = \"symbols\"`"),
        "{err}"
    );
}

/// Copies the directory `src` to `dst` recursively, leaving out `target` directories.
fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" {
                copy_tree(&entry.path(), &to);
            }
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// Replaces `old` (which must occur) by `new` in the file at `path`.
fn edit_file(path: &Path, old: &str, new: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(old),
        "{} no longer contains {old:?}; update this test's edit",
        path.display()
    );
    fs::write(path, text.replacen(old, new, 1)).unwrap();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "builds a plugin crate with cargo and dlopens it: process spawning and FFI, which Miri cannot run"
)]
fn a_plugin_built_against_an_edited_copy_of_coo_runtime_is_refused_by_its_fingerprint() {
    // A copy of coo-runtime and coo-derive, of the same version, where `TypeDesc` has one more
    // field: what a plugin is built against when coo-runtime is edited while `hot-host run`
    // watches. Version, compiler and ABI number all match the host's; only the descriptors'
    // layout differs.
    //
    // The copies get package names of their own. They build into the shared fixtures target
    // dir, where cargo tells units apart by package name, version and source; a path source
    // inside a plugin's workspace is hashed by its relative path, so two edited copies named
    // `coo-runtime` could end up as the same artifact, and one test's edit would be another's
    // build. The plugin still names them `coo_runtime`/`coo_derive` (renamed dependencies),
    // which is what the derive's generated code refers to.
    let root = tempfile::Builder::new()
        .prefix("abi-drift")
        .tempdir()
        .unwrap();
    let runtime = root.path().join("coo-runtime");
    let derive = root.path().join("coo-derive");
    copy_tree(&workspace().join("coo-runtime"), &runtime);
    copy_tree(&workspace().join("coo-derive"), &derive);
    fs::write(
        runtime.join("Cargo.toml"),
        format!(
            "[package]\nname = \"coo-runtime-abi-drift\"\nversion = \"{RUNTIME_VERSION}\"\nedition = \"2024\"\n\n\
             [lib]\nbench = false\n\n\
             [dependencies]\ncoo-derive = {{ package = \"coo-derive-abi-drift\", path = \"../coo-derive\" }}\n\
             {}\n[workspace]\n",
            standalone_dependencies("coo-runtime", &["coo-derive"])
        ),
    )
    .unwrap();
    let _ = fs::remove_dir_all(runtime.join("benches"));
    fs::write(
        derive.join("Cargo.toml"),
        format!(
            "[package]\nname = \"coo-derive-abi-drift\"\nversion = \"{RUNTIME_VERSION}\"\nedition = \"2024\"\n\n\
             [lib]\nproc-macro = true\n\n\
             [dependencies]\n{}\n[workspace]\n",
            standalone_dependencies("coo-derive", &[])
        ),
    )
    .unwrap();
    // One more field in `TypeDesc`, which generated code builds through `construct::type_desc`.
    edit_file(
        &runtime.join("src/descriptors/layout.rs"),
        "    generic: Option<GenericArgs>,\n}",
        "    generic: Option<GenericArgs>,\n    /// A field this copy added.\n    abi_drift: u64,\n}",
    );
    edit_file(
        &runtime.join("src/descriptors/layout/construct.rs"),
        "        glue,\n        generic: None,\n    }",
        "        glue,\n        generic: None,\n        abi_drift: 0,\n    }",
    );

    let lib_rs = fs::read_to_string(support::fixture("minimal-plugin").join("src/lib.rs")).unwrap();
    let runtime_path = format!("{:?}", runtime.display().to_string());
    let dir = variant("abi-drift-plugin", &lib_rs, |manifest| {
        let line = manifest
            .lines()
            .find(|l| l.starts_with("coo-runtime = "))
            .expect("the plugin depends on coo-runtime")
            .to_owned();
        manifest.replace(
            &line,
            &format!(
                "coo-runtime = {{ package = \"coo-runtime-abi-drift\", path = {runtime_path} }}"
            ),
        )
    });
    let built = builder(dir.path())
        .build()
        .unwrap_or_else(|e| panic!("abi-drift-plugin does not build: {e}"));
    let err = loader().load(&built.dylib).unwrap_err();
    let (path, LoadErrorKind::Fingerprint { mismatch }) = (&err.path, &err.kind) else {
        panic!("expected LoadErrorKind::Fingerprint, got {err:?}");
    };
    assert_eq!(path, &built.dylib);
    assert_eq!(mismatch.expected, Fingerprint(ABI_FINGERPRINT));
    assert_ne!(mismatch.found, mismatch.expected);
    let text = err.to_string();
    assert!(
        text.contains(&mismatch.expected.to_string())
            && text.contains(&mismatch.found.to_string())
            && text.contains("rebuild the host and the plugin from the same coo-runtime"),
        "{text}"
    );
}

/// The `[dependencies]` of the workspace crate `name`, written out for a copy of it outside the
/// workspace: each `dep.workspace = true` becomes the workspace's own line for `dep`, so the copy
/// always has exactly the dependencies of the original. Those in `skip` are left out.
fn standalone_dependencies(name: &str, skip: &[&str]) -> String {
    let root = fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    let manifest = fs::read_to_string(workspace().join(name).join("Cargo.toml")).unwrap();
    let section = |text: &str, header: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| l.trim() != header)
            .skip(1)
            .take_while(|l| !l.starts_with('['))
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let workspace_deps = section(&root, "[workspace.dependencies]");
    section(&manifest, "[dependencies]")
        .iter()
        .map(|line| {
            let dep = line.split(['.', ' ', '=']).next().unwrap();
            assert!(
                line.contains("workspace = true"),
                "{name}'s dependency line {line:?} does not inherit from the workspace"
            );
            (
                dep,
                workspace_deps
                    .iter()
                    .find(|l| l.split([' ', '=']).next() == Some(dep)),
            )
        })
        .filter(|(dep, _)| !skip.contains(dep))
        .map(|(dep, line)| {
            line.unwrap_or_else(|| panic!("the workspace does not declare {dep}"))
                .clone()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The inode of `path` (hard links share it; a copy has its own).
#[cfg(target_os = "linux")]
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).unwrap().ino()
}

#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore = "dlopens a built plugin: FFI, which Miri cannot run")]
fn a_fresh_build_is_loaded_through_a_hard_link_and_the_same_file_again_through_a_copy() {
    // A file no test of this process has mapped, as a fresh cargo output is: the built plugin
    // copied to a directory of this test's own.
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join(built_name());
    fs::copy(&minimal_plugin().dylib, &fresh).unwrap();
    let loader = loader();

    let first = loader.load(&fresh).unwrap();
    assert_ne!(first.path, fresh);
    assert_eq!(inode(&first.path), inode(&fresh), "not a hard link");
    // While it is mapped, the same file again gets a copy: glibc would return the open library
    // for another name of the same inode.
    let second = loader.load(&fresh).unwrap();
    assert_ne!(
        inode(&second.path),
        inode(&fresh),
        "a second link to a mapped inode"
    );
    assert!(!std::ptr::eq(first.manifest(), second.manifest()));

    // Closing removes the loader's link, never cargo's file.
    let (first_path, second_path) = (first.path.clone(), second.path.clone());
    drop((first, second));
    assert!(!first_path.exists() && !second_path.exists());
    assert!(fresh.is_file());
    // Unmapped again, the file is linked again.
    let third = loader.load(&fresh).unwrap();
    assert_eq!(inode(&third.path), inode(&fresh));
}

fn built_name() -> String {
    format!(
        "{}minimal_plugin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// What loading through a hard link relies on: a rebuild replaces cargo's output file with a
/// new one instead of writing into the file a host has mapped.
#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(
    miri,
    ignore = "builds a plugin crate with cargo: process spawning, which Miri cannot run"
)]
fn a_rebuild_leaves_the_loaded_file_alone() {
    let lib_rs = fs::read_to_string(support::fixture("minimal-plugin").join("src/lib.rs")).unwrap();
    let dir = variant("relinked-plugin", &lib_rs, |manifest| manifest);
    let before = builder(dir.path()).build().unwrap();
    let loaded = loader().load(&before.dylib).unwrap();
    let loaded_inode = inode(&loaded.path);
    let bytes = fs::read(&loaded.path).unwrap();

    fs::write(
        dir.path().join("src/lib.rs"),
        format!("{lib_rs}\npub fn relinked() -> u32 {{ 7 }}\n"),
    )
    .unwrap();
    let after = builder(dir.path()).build().unwrap();
    assert_eq!(after.dylib, before.dylib);
    assert_ne!(
        inode(&after.dylib),
        loaded_inode,
        "cargo wrote into the old file"
    );
    assert_eq!(inode(&loaded.path), loaded_inode);
    assert_eq!(fs::read(&loaded.path).unwrap(), bytes);
}
