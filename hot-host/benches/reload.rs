//! Reload overhead without the compiler, for the demo plugin: copy, dlopen, header check,
//! manifest, diff, plan, migrate and swap, from an already built library, with the demo's
//! `World` live. Two cases: the same code again (layouts unchanged), and a version whose
//! `Particle` gained a field (every particle migrated).
//!
//! A plain program rather than a criterion bench: each reload maps one more copy of the library
//! for good (old libraries are never unloaded), so the number of runs is fixed and small.
//!
//! Run with `cargo bench -p hot-host --bench reload`.

use std::path::Path;
use std::time::Duration;

use hot_host::{Builder, Host};

const RUNS: usize = 25;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks for names; this program has no named benches
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target = workspace.join("target").join("coo-bench");
    let demo = workspace.join("demo-plugin");

    // Version 2: a copy of the demo whose `Particle` gained a field.
    let v2 = tempfile::tempdir().unwrap();
    std::fs::create_dir(v2.path().join("src")).unwrap();
    let manifest = std::fs::read_to_string(demo.join("Cargo.toml")).unwrap();
    let manifest = standalone_manifest(&manifest, workspace);
    std::fs::write(v2.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), v2.path().join("Cargo.lock")).unwrap();
    let source = std::fs::read_to_string(demo.join("src/lib.rs")).unwrap();
    let source = source.replace(
        "pub struct Particle {\n    pub pos: Vec2,\n    pub vel: Vec2,\n}",
        "pub struct Particle {\n    pub pos: Vec2,\n    pub vel: Vec2,\n    #[coo(default = 1.0)]\n    pub mass: f32,\n}",
    );
    let source = source
        .replace(
            "vel: Vec2 { x: 0.5, y: 0.0 },",
            "vel: Vec2 { x: 0.5, y: 0.0 },\n                mass: 1.0,",
        )
        .replace(
            "vel: Vec2::default(),",
            "vel: Vec2::default(),\n        mass: 1.0,",
        );
    std::fs::write(v2.path().join("src/lib.rs"), source).unwrap();

    let v1_dylib = Builder::new(&demo)
        .with_target_dir(&target)
        .build()
        .expect("demo-plugin builds")
        .dylib;
    let v2_dylib = Builder::new(v2.path())
        .with_target_dir(&target)
        .build()
        .expect("the edited demo builds")
        .dylib;

    for (case, next) in [
        ("unchanged layouts", &v1_dylib),
        ("Particle gained a field", &v2_dylib),
    ] {
        let mut loads = Vec::new();
        let mut migrates = Vec::new();
        let mut totals = Vec::new();
        for _ in 0..RUNS {
            let mut host = Host::with_builder(Builder::new(&demo).with_target_dir(&target));
            host.reload_from(&v1_dylib, None).unwrap();
            host.call_by_name("init", &[]).unwrap();
            host.call_by_name("run", &[hot_host::Value::Int(50)])
                .unwrap();
            let report = host.reload_from(next, None).unwrap();
            loads.push(report.load);
            migrates.push(report.migrate);
            totals.push(report.reload_time());
        }
        println!(
            "reload, {case}: median {} (load {}, diff+plan+migrate+swap {}), {RUNS} runs",
            ms(median(totals)),
            ms(median(loads)),
            ms(median(migrates)),
        );
    }
}

/// The demo's manifest made standalone: workspace-inherited keys spelled out.
fn standalone_manifest(manifest: &str, workspace: &Path) -> String {
    let runtime = workspace.join("coo-runtime");
    manifest
        .replace("name = \"demo-plugin\"", "name = \"demo-plugin-v2\"")
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
        + "\n[workspace]\n"
}
