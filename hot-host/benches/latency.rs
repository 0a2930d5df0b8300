//! Edit-to-live latency for the demo plugin: from writing the source file to the first tick of
//! the new code, split into watcher (save to debounced change), cargo (the build) and reload
//! (load, migrate, swap, first tick). The same pieces `hot-host run` uses, in one process.
//!
//! A plain program rather than a criterion bench: every run is a real edit and a real cargo
//! build, and each reload maps one more library for good, so the number of runs is fixed.
//!
//! Run with `cargo bench -p hot-host --bench latency`.

mod support;

use std::time::{Duration, Instant};

use hot_host::{Builder, Host, Watcher, watched_paths};
use support::{demo_copy, median, target_dir};

const RUNS: usize = 10;

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let target = target_dir();
    let copy = demo_copy("demo-plugin-latency", |source| source);
    let dir = copy.path();
    let source = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();

    let mut host = Host::with_builder(Builder::new(dir).with_target_dir(&target));
    host.reload().expect("the demo builds");
    host.call_by_name("init", &[]).unwrap();
    let tick = host.resolve("tick").unwrap();
    let watcher = Watcher::new(watched_paths(dir).unwrap(), hot_host::embed::DEBOUNCE).unwrap();

    let (mut watch, mut cargo, mut reload, mut total) = (vec![], vec![], vec![], vec![]);
    for run in 0..RUNS {
        // A real edit of `tick`: a different gravity factor each time.
        let edited = source.replace(
            "p.vel.y += world.gravity.y * 0.1;",
            &format!("p.vel.y += world.gravity.y * 0.{};", run + 2),
        );
        let saved = Instant::now();
        std::fs::write(dir.join("src/lib.rs"), edited).unwrap();
        let change = watcher
            .recv_timeout(Duration::from_secs(30))
            .expect("the watcher sees the save");
        let seen = Instant::now();
        let built = host.builder().build().expect("the edit builds");
        let report = host
            .reload_from(&built.dylib, Some(built.duration))
            .unwrap();
        host.call(&tick, &[]).unwrap();
        let live = Instant::now();
        assert!(!change.paths.is_empty());
        assert_eq!(report.to_version, run as u64 + 2);
        watch.push(seen - saved);
        cargo.push(built.duration);
        reload.push(live - seen - built.duration);
        total.push(live - saved);
        // Let late duplicate events of this save go by before the next edit.
        std::thread::sleep(Duration::from_millis(200));
        while watcher.recv_timeout(Duration::from_millis(10)).is_some() {}
    }
    let (w, c, r, t) = (median(watch), median(cargo), median(reload), median(total));
    let own = t.saturating_sub(c);
    println!(
        "edit-to-live (median of {RUNS}): total {}; watcher {}, cargo {}, reload + first tick {}; \
         Coo's own share {} = {:.1}%",
        ms(t),
        ms(w),
        ms(c),
        ms(r),
        ms(own),
        100.0 * own.as_secs_f64() / t.as_secs_f64()
    );
}
