//! Reload overhead without the compiler, for the demo plugin: copy, dlopen, header check,
//! manifest, diff, plan, migrate and swap, from an already built library, with the demo's
//! `World` live. Two cases: the same code again (layouts unchanged), and a version whose
//! `Particle` gained a field (every particle migrated).
//!
//! A plain program rather than a criterion bench: each run builds a fresh host and reloads once,
//! so the number of runs is fixed and small (growth over many reloads: `--bench unload`).
//!
//! Run with `cargo bench -p hot-host --bench reload`.

mod support;

use hot_host::{Builder, Host};
use support::{demo_versions, median, ms, target_dir, workspace};

const RUNS: usize = 25;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks for names; this program has no named benches
    }
    let target = target_dir();
    let demo = workspace().join("demo-plugin");
    // Version 2: the demo whose `Particle` gained a field; going back drops it again.
    let (_v2_dir, v1_dylib, v2_dylib) = demo_versions();

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
