//! What the plain-program benches share: a standalone copy of the demo plugin, and medians.

#![allow(dead_code)] // each bench uses part of it

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The workspace root.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The target dir the benches build plugins into.
pub fn target_dir() -> PathBuf {
    workspace().join("target").join("coo-bench")
}

/// A copy of `demo-plugin` in a temporary directory, as the standalone package `name` (the
/// workspace-inherited keys spelled out), with `edit` applied to its source.
pub fn demo_copy(name: &str, edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let demo = workspace().join("demo-plugin");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    let runtime = workspace().join("coo-runtime");
    let manifest = std::fs::read_to_string(demo.join("Cargo.toml"))
        .unwrap()
        .replace("name = \"demo-plugin\"", &format!("name = \"{name}\""))
        .replace("rust-version.workspace = true", "")
        .replace("version.workspace = true", "version = \"0.1.0\"")
        .replace("edition.workspace = true", "edition = \"2024\"")
        .replace("license.workspace = true", "")
        .replace(
            "coo-runtime.workspace = true",
            &format!(
                "coo-runtime = {{ path = {:?} }}",
                runtime.display().to_string()
            ),
        )
        .replace("[lints]\nworkspace = true\n", "")
        + "\n[workspace]\n";
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(
        workspace().join("Cargo.lock"),
        dir.path().join("Cargo.lock"),
    )
    .unwrap();
    let source = std::fs::read_to_string(demo.join("src/lib.rs")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), edit(source)).unwrap();
    dir
}

/// The two builds the reload benches switch between: `demo-plugin` as it is, and a copy whose
/// `Particle` gained a field (`mass`, with a default). Returns the copy's directory (kept alive
/// by the caller) with the two libraries.
pub fn demo_versions() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let target = target_dir();
    let v2 = demo_copy("demo-plugin-v2", |source| {
        source
            .replace(
                "pub struct Particle {\n    pub pos: Vec2,\n    pub vel: Vec2,\n}",
                "pub struct Particle {\n    pub pos: Vec2,\n    pub vel: Vec2,\n    #[coo(default = 1.0)]\n    pub mass: f32,\n}",
            )
            .replace(
                "vel: Vec2 { x: 0.5, y: 0.0 },",
                "vel: Vec2 { x: 0.5, y: 0.0 },\n                mass: 1.0,",
            )
            .replace("vel: Vec2::default(),", "vel: Vec2::default(),\n        mass: 1.0,")
    });
    let build = |dir: &Path, what: &str| {
        hot_host::Builder::new(dir)
            .with_target_dir(&target)
            .build()
            .unwrap_or_else(|e| panic!("{what} does not build: {e}"))
            .dylib
    };
    let v1 = build(&workspace().join("demo-plugin"), "demo-plugin");
    let v2_dylib = build(v2.path(), "the edited demo");
    (v2, v1, v2_dylib)
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
