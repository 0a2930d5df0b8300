//! Bounded memory over unlimited reloads: 1,000 reloads of the demo plugin from two already
//! built debug libraries, alternating (so each reload loads a new library and migrates
//! `Particle` one way or the other), with the demo's `World` live and ticking. Records the
//! resident set size, the bytes of copies in the copy dir, the plugin images mapped, the time
//! per reload, and the ratio of a slot call of `tick` to a function-pointer call of the
//! statically linked `tick`, before and after the 1,000 reloads. All of them must stay flat.
//!
//! A plain program rather than a criterion bench: the measured quantity is growth over one long
//! session, not the time of a repeated operation.
//!
//! Run with `cargo bench -p hot-host --bench unload` (`-- 200` for fewer reloads).

mod support;

use std::fs;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use hot_host::{Builder, Host, Value};
use support::{demo_versions, median, ms, target_dir, workspace};

/// Resident set size of this process, in bytes (Linux).
fn rss() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The bytes of the files in `dir`.
fn disk(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Median time of one call, slot against function pointer, over batches of calls.
fn call_ratio(host: &mut Host) -> (Duration, Duration) {
    const CALLS: u32 = 20_000;
    let tick = host.resolve("tick").unwrap();
    let world = host.state_mut().resource_mut("World").unwrap().as_mut_ptr();
    let mut own = demo_plugin::init();
    let pointer: fn(&mut demo_plugin::World) = demo_plugin::tick;
    let (mut slot, mut direct) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        let args = [world];
        let mut ret = 0u128;
        let started = Instant::now();
        for _ in 0..CALLS {
            // SAFETY: `tick` takes `&mut World`; `args` points to the live `World` resource of
            // the current version (fetched after the last reload), which nothing else
            // references meanwhile; no reload runs during these calls.
            unsafe { tick.call_raw(black_box(args.as_ptr()), (&raw mut ret).cast()) }.unwrap();
        }
        slot.push(started.elapsed() / CALLS);
        let started = Instant::now();
        for _ in 0..CALLS {
            black_box(pointer)(black_box(&mut own));
        }
        direct.push(started.elapsed() / CALLS);
    }
    (median(slot), median(direct))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks for names; this program has no named benches
    }
    let reloads: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000);
    let target = target_dir();
    let demo = workspace().join("demo-plugin");
    // Version 2: the demo whose `Particle` gained a field; going back drops it again.
    let (_v2_dir, v1_dylib, v2_dylib) = demo_versions();

    let mut host = Host::with_builder(Builder::new(&demo).with_target_dir(&target));
    let copies = target.join("coo-loaded");
    host.reload_from(&v1_dylib, None).unwrap();
    host.call_by_name("init", &[]).unwrap();
    // Warm up: allocator pools, the page cache, lazily initialized statics.
    for i in 0..10 {
        let next = if i % 2 == 0 { &v2_dylib } else { &v1_dylib };
        host.reload_from(next, None).unwrap();
        host.call_by_name("tick", &[]).unwrap();
    }
    let (slot_before, pointer_before) = call_ratio(&mut host);
    let (rss_before, disk_before) = (rss(), disk(&copies));
    let mapped_before = hot_host::load::mapped_under(&copies).len();

    let mut times = Vec::with_capacity(reloads);
    let mut pinned = 0;
    for i in 0..reloads {
        let next = if i % 2 == 0 { &v2_dylib } else { &v1_dylib };
        let report = host.reload_from(next, None).unwrap();
        pinned += report.pinned.len();
        times.push(report.reload_time());
        host.call_by_name("tick", &[]).unwrap();
    }
    let (rss_after, disk_after) = (rss(), disk(&copies));
    let mapped_after = hot_host::load::mapped_under(&copies).len();
    let (slot_after, pointer_after) = call_ratio(&mut host);
    assert_eq!(
        host.call_by_name("tick", &[]).unwrap(),
        Value::Unit,
        "the host still runs"
    );

    let ratio = |s: Duration, p: Duration| s.as_secs_f64() / p.as_secs_f64();
    println!("{reloads} reloads of the demo (debug build, alternating two versions):");
    println!(
        "  resident set: {} before, {} after: {:+.1} KiB per reload",
        mib(rss_before),
        mib(rss_after),
        (rss_after as f64 - rss_before as f64) / 1024.0 / reloads as f64
    );
    println!(
        "  copies on disk: {} before, {} after",
        mib(disk_before),
        mib(disk_after)
    );
    println!(
        "  plugin images mapped: {mapped_before} before, {mapped_after} after; {pinned} pinned"
    );
    println!(
        "  per reload: median {}, first 100 {}, last 100 {}",
        ms(median(times.clone())),
        ms(median(times[..100.min(reloads)].to_vec())),
        ms(median(times[reloads.saturating_sub(100)..].to_vec()))
    );
    println!(
        "  slot call / function pointer: {:.2}x before ({:?} / {:?}), {:.2}x after ({:?} / {:?})",
        ratio(slot_before, pointer_before),
        slot_before,
        pointer_before,
        ratio(slot_after, pointer_after),
        slot_after,
        pointer_after
    );
}
