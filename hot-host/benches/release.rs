//! The release switch against a direct call, side by side in one criterion run, on *trivial*
//! functions so that no body hides the overhead: `add(a: u64, b: u64) -> u64` and
//! `bump(c: &mut Counter)` of `examples/counter-plugin`, called
//! - `direct`: `counter_plugin::add(2, 3)`, the crate linked into the bench as a plain
//!   dependency (what a program without Coo writes);
//! - `static switch`: the same functions through the methods `hot_fns!` generates in the linked
//!   mode (what a program built with its `static` feature runs), on `Host::linked`, with the
//!   live `Counter` of that host's state bound by the call;
//! - `typed hot`: the same methods in the hot mode (`HotFn::call`), on the plugin built in
//!   release and loaded;
//! - `static switch, scoped` and `typed hot, scoped`: the same calls through a scope of calls
//!   (`fns.calls(&mut host)`, made once before the calls), whose linked mode binds the
//!   resources once for the scope.
//!
//! Run with `cargo bench -p hot-host --bench release`. With `COO_COUNT_CALLS=<n>` set it runs
//! no criterion benchmark but `n` calls of each kind, each kind in a function of its own, for
//! counting instructions under callgrind (reliable on a busy machine, where times are not):
//! `COO_COUNT_CALLS=1000000 valgrind --tool=callgrind target/release/deps/release-<hash>`, then
//! `callgrind_annotate --inclusive=yes` shows each `calls_*` function's instructions.

mod support;

use std::hint::black_box;

use counter_plugin::Counter;
use criterion::{Criterion, criterion_group, criterion_main};
use hot_host::{Builder, Host};
use support::{target_dir, workspace};

hot_host::hot_fns! {
    @linked
    struct Linked = counter_plugin {
        fn add(a: u64, b: u64) -> u64;
        fn bump(counter: &mut Counter);
    }
}

hot_host::hot_fns! {
    @hot
    struct Hot = counter_plugin {
        fn add(a: u64, b: u64) -> u64;
        fn bump(counter: &mut Counter);
    }
}

#[inline(never)]
fn calls_add_direct(n: u64) -> u64 {
    (0..n)
        .map(|i| counter_plugin::add(black_box(i), black_box(1)))
        .sum()
}

#[inline(never)]
fn calls_add_static_switch(fns: &Linked, host: &mut Host, n: u64) -> u64 {
    (0..n)
        .map(|i| {
            fns.add(black_box(&mut *host), black_box(i), black_box(1))
                .unwrap()
        })
        .sum()
}

#[inline(never)]
fn calls_add_typed_hot(fns: &Hot, host: &mut Host, n: u64) -> u64 {
    (0..n)
        .map(|i| {
            fns.add(black_box(&mut *host), black_box(i), black_box(1))
                .unwrap()
        })
        .sum()
}

#[inline(never)]
fn calls_bump_direct(counter: &mut Counter, n: u64) {
    for _ in 0..n {
        counter_plugin::bump(black_box(&mut *counter));
    }
}

#[inline(never)]
fn calls_bump_static_switch(fns: &Linked, host: &mut Host, n: u64) {
    for _ in 0..n {
        fns.bump(black_box(&mut *host)).unwrap();
    }
}

#[inline(never)]
fn calls_add_static_scoped(fns: &Linked, host: &mut Host, n: u64) -> u64 {
    let mut calls = fns.calls(host).unwrap();
    (0..n)
        .map(|i| {
            black_box(&mut calls)
                .add(black_box(i), black_box(1))
                .unwrap()
        })
        .sum()
}

#[inline(never)]
fn calls_bump_static_scoped(fns: &Linked, host: &mut Host, n: u64) {
    let mut calls = fns.calls(host).unwrap();
    for _ in 0..n {
        black_box(&mut calls).bump().unwrap();
    }
}

#[inline(never)]
fn calls_bump_typed_hot(fns: &Hot, host: &mut Host, n: u64) {
    for _ in 0..n {
        fns.bump(black_box(&mut *host)).unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let mut linked = Host::linked(workspace().join("examples/counter-plugin")).unwrap();
    linked.call_by_name("init", &[]).unwrap();
    let linked_fns = Linked::new(&linked).unwrap();

    let builder = Builder::new(workspace().join("examples/counter-plugin"))
        .with_target_dir(target_dir())
        .profile(hot_host::Profile::Release);
    let dylib = builder.build().expect("counter-plugin builds").dylib;
    let mut hot = Host::with_builder(builder);
    hot.reload_from(&dylib, None).expect("counter-plugin loads");
    hot.call_by_name("init", &[]).unwrap();
    let hot_fns = Hot::new(&hot).unwrap();

    if let Some(n) = std::env::var("COO_COUNT_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        let mut counter = Counter::default();
        let sums = [
            calls_add_direct(n),
            calls_add_static_switch(&linked_fns, &mut linked, n),
            calls_add_typed_hot(&hot_fns, &mut hot, n),
            calls_add_static_scoped(&linked_fns, &mut linked, n),
        ];
        calls_bump_direct(&mut counter, n);
        calls_bump_static_switch(&linked_fns, &mut linked, n);
        calls_bump_typed_hot(&hot_fns, &mut hot, n);
        calls_bump_static_scoped(&linked_fns, &mut linked, n);
        println!(
            "{n} calls of each kind: sums {sums:?}, direct bumps {}",
            counter.count
        );
        return;
    }

    let mut group = c.benchmark_group("add");
    group.bench_function("direct", |b| {
        b.iter(|| counter_plugin::add(black_box(2), black_box(3)))
    });
    group.bench_function("static switch", |b| {
        b.iter(|| {
            linked_fns
                .add(&mut linked, black_box(2), black_box(3))
                .unwrap()
        })
    });
    group.bench_function("typed hot", |b| {
        b.iter(|| hot_fns.add(&mut hot, black_box(2), black_box(3)).unwrap())
    });
    group.bench_function("static switch, scoped", |b| {
        let mut calls = linked_fns.calls(&mut linked).unwrap();
        b.iter(|| calls.add(black_box(2), black_box(3)).unwrap())
    });
    group.bench_function("typed hot, scoped", |b| {
        let mut calls = hot_fns.calls(&mut hot).unwrap();
        b.iter(|| calls.add(black_box(2), black_box(3)).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("bump");
    let mut counter = Counter::default();
    group.bench_function("direct", |b| {
        b.iter(|| counter_plugin::bump(black_box(&mut counter)))
    });
    group.bench_function("static switch", |b| {
        b.iter(|| linked_fns.bump(black_box(&mut linked)).unwrap())
    });
    group.bench_function("typed hot", |b| {
        b.iter(|| hot_fns.bump(black_box(&mut hot)).unwrap())
    });
    group.bench_function("static switch, scoped", |b| {
        let mut calls = linked_fns.calls(&mut linked).unwrap();
        b.iter(|| black_box(&mut calls).bump().unwrap())
    });
    group.bench_function("typed hot, scoped", |b| {
        let mut calls = hot_fns.calls(&mut hot).unwrap();
        b.iter(|| black_box(&mut calls).bump().unwrap())
    });
    group.finish();

    // The linked calls changed the linked host's resource, and only it.
    let bumps = linked.state().get::<Counter>().unwrap().count;
    println!(
        "direct bumps: {}, linked bumps: {bumps}, hot version {}",
        counter.count,
        hot.version()
    );
    assert!(bumps > 0);
}

criterion_group!(benches, bench);
criterion_main!(benches);
