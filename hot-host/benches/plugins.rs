//! What a call across plugins costs against a call inside one plugin, side by side in one
//! criterion run, with a trivial body (`x + 1`): `tests/fixtures/caller-plugin` (as `game`)
//! calls `step` of `tests/fixtures/physics-plugin` (as `physics`) through its import slot
//! (`cross_loop`), and its own copy of it, not inlined (`local_loop`); each loop makes 1,000
//! calls inside the plugin, so the host's call into the plugin is spread over them. Release
//! builds of both plugins.
//!
//! Run with `cargo bench -p hot-host --bench plugins`.

mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hot_host::{Builder, CooOptions, Host, Plugins};
use support::{target_dir, workspace};

/// Calls per iteration, inside the plugin.
const CALLS: u64 = 1_000;

fn bench(c: &mut Criterion) {
    let mut plugins = Plugins::new();
    for (name, fixture) in [("physics", "physics-plugin"), ("game", "caller-plugin")] {
        let builder = Builder::new(workspace().join("tests/fixtures").join(fixture))
            .with_target_dir(target_dir())
            .profile(hot_host::Profile::Release);
        let options = CooOptions {
            watch: false,
            ..CooOptions::default()
        };
        plugins
            .add(name, Host::with_builder(builder), options)
            .unwrap_or_else(|e| panic!("{fixture} loads: {e}"));
    }
    let local = plugins
        .resolve_typed::<fn(u64) -> u64>("game::local_loop")
        .unwrap();
    let cross = plugins
        .resolve_typed::<fn(u64) -> u64>("game::cross_loop")
        .unwrap();
    assert_eq!(plugins.call_typed(&cross, (CALLS,)).unwrap(), CALLS);
    assert_eq!(plugins.call_typed(&local, (CALLS,)).unwrap(), CALLS);
    let mut group = c.benchmark_group("1000 calls of x + 1 inside a plugin");
    group.bench_function("same plugin", |b| {
        b.iter(|| plugins.call_typed(&local, (black_box(CALLS),)).unwrap())
    });
    group.bench_function("across plugins (import slot)", |b| {
        b.iter(|| plugins.call_typed(&cross, (black_box(CALLS),)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
