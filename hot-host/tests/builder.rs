//! `Builder` on real fixture crates.

mod support;

use std::path::Path;

use hot_host::{BuildError, Builder};
use support::{builder, minimal_plugin, variant};

#[test]
fn builds_the_plugin_and_finds_its_dylib() {
    let out = minimal_plugin();
    let name = out.dylib.file_name().unwrap().to_str().unwrap();
    assert_eq!(
        name,
        format!(
            "{}minimal_plugin{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )
    );
    assert!(out.dylib.is_file(), "{}", out.dylib.display());
    assert!(out.dylib.starts_with(support::fixtures_target_dir()));

    // Nothing changed since: cargo reports the artifact fresh.
    let again = builder(&support::fixture("minimal-plugin"))
        .build()
        .unwrap();
    assert!(again.fresh);
    assert_eq!(again.dylib, out.dylib);
}

#[test]
fn a_syntax_error_is_a_compile_error_carrying_the_rendered_diagnostics() {
    let dir = variant(
        "syntax-error-plugin",
        "pub fn broken( {\n    let x = ;\n}\n",
        |m| m,
    );
    let err = builder(dir.path()).build().unwrap_err();
    let BuildError::Compile { rendered } = &err else {
        panic!("expected BuildError::Compile, got {err:?}");
    };
    assert!(rendered.contains("src/lib.rs"), "{rendered}");
    assert!(
        rendered.contains("error: this file contains an unclosed delimiter"),
        "{rendered}"
    );
    assert!(
        !rendered.contains('\x1b'),
        "no colors unless asked: {rendered:?}"
    );
}

#[test]
fn colored_diagnostics_on_request() {
    let dir = variant(
        "colored-error-plugin",
        "pub fn broken() -> u32 { \"\" }\n",
        |m| m,
    );
    let err = builder(dir.path()).color(true).build().unwrap_err();
    let BuildError::Compile { rendered } = &err else {
        panic!("expected BuildError::Compile, got {err:?}");
    };
    assert!(rendered.contains("mismatched types"), "{rendered}");
    assert!(rendered.contains('\x1b'), "{rendered:?}");
}

#[test]
fn a_plugin_without_a_cdylib_is_told_what_to_add() {
    let dir = variant("rlib-only-plugin", "", |m| {
        m.replace("crate-type = [\"cdylib\", \"rlib\"]", "")
    });
    let err = builder(dir.path()).build().unwrap_err();
    assert!(matches!(err, BuildError::NoCdylib { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("crate-type = [\"cdylib\", \"rlib\"]"),
        "{err}"
    );
}

#[test]
fn a_bad_manifest_is_a_cargo_error() {
    let dir = variant("bad-manifest-plugin", "", |m| m + "\nthis is not toml\n");
    let err = builder(dir.path()).build().unwrap_err();
    let BuildError::Cargo { stderr, .. } = &err else {
        panic!("expected BuildError::Cargo, got {err:?}");
    };
    assert!(stderr.contains("Cargo.toml"), "{stderr}");
}

#[test]
fn a_directory_without_cargo_toml_is_not_a_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let err = builder(dir.path()).build().unwrap_err();
    assert!(matches!(err, BuildError::NotACrate(_)), "{err:?}");
}

#[test]
fn a_missing_cargo_is_a_spawn_error() {
    let err = Builder::new(support::fixture("minimal-plugin"))
        .with_cargo(Path::new("/nonexistent/cargo"))
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::Spawn { .. }), "{err:?}");
}
