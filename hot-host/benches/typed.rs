//! What a call of a *trivial* hot function costs, side by side in one criterion run, so that no
//! function body hides the overhead: `add(a: u64, b: u64) -> u64` and `bump(c: &mut Counter)`
//! of `tests/fixtures/typed-plugin`, called
//! - directly and through a plain function pointer (copies of the plugin's functions and type,
//!   compiled into the bench with the same release profile: a fixture plugin is a workspace of
//!   its own, which the bench cannot depend on);
//! - through a plain function pointer to the plugin's own code, in the loaded library (the
//!   function's raising entry, whose only difference from the function is one ignored
//!   parameter): what calling the code of a loaded library costs without Coo. A call into a
//!   library mapped far from the caller (more than 4 GiB away: a library loaded at run time
//!   always is, from a position-independent executable) costs more than a call of the same
//!   code near it, on this machine about 0.7 ns more;
//! - through the raw slot paths: `FnHandle::call_raw` (one atomic load, the shim and its array
//!   of argument pointers) and `HotFn::call_raw` (one atomic load, the direct entry, resources
//!   passed by the caller);
//! - through a typed handle (`HotFn::call`: safe, resources bound by the call);
//! - through `Host::call` (`Value`s in and out);
//!
//! then the raw and typed calls again after 1,000 reloads, and `HotFn::call_shared` from one
//! and from two threads at once (each thread making the same number of calls: equal times mean
//! the calls scale).
//!
//! Also counts heap allocations during typed calls: there must be none.
//!
//! Run with `cargo bench -p hot-host --bench typed`.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use hot_host::{Builder, FnHandle, Host, HotFn, Value};
use support::{target_dir, workspace};

/// Counts allocations, to show that a typed call allocates nothing.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `add`, as a statically linked plugin crate compiles it (not inlined across
/// the crate boundary).
#[inline(never)]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

/// `Counter`.
#[derive(Default)]
struct Counter {
    count: u64,
}

/// `bump`.
#[inline(never)]
fn bump(counter: &mut Counter) {
    counter.count += 1;
}

/// The handles of one host, raw and typed.
struct Handles {
    add_raw: FnHandle,
    bump_raw: FnHandle,
    add: HotFn<fn(u64, u64) -> u64>,
    bump: HotFn<fn()>,
}

impl Handles {
    fn resolve(host: &Host) -> Handles {
        Handles {
            add_raw: host.resolve("add").unwrap(),
            bump_raw: host.resolve("bump").unwrap(),
            add: host.resolve_typed("add").unwrap(),
            bump: host.resolve_typed("bump").unwrap(),
        }
    }
}

/// The raw and typed calls of both functions, named with `suffix`.
fn slot_calls(c: &mut Criterion, host: &mut Host, f: &Handles, suffix: &str) {
    let counter = host
        .state_mut()
        .resource_mut("Counter")
        .unwrap()
        .as_mut_ptr();
    let mut group = c.benchmark_group("add");
    group.bench_function(format!("raw slot{suffix}"), |b| {
        b.iter(|| {
            let (mut x, mut y) = (black_box(2u64), black_box(3u64));
            let args = [(&raw mut x).cast::<u8>(), (&raw mut y).cast()];
            let mut ret = 0u64;
            // SAFETY: `add` takes two `u64`s and returns one: `args` points to two, `ret` has
            // room for one; no reload runs.
            unsafe { f.add_raw.call_raw(args.as_ptr(), (&raw mut ret).cast()) }.unwrap();
            ret
        })
    });
    group.bench_function(format!("raw direct{suffix}"), |b| {
        b.iter(|| {
            // SAFETY: `add` has no resource parameters; no reload runs.
            unsafe {
                f.add
                    .call_raw(core::ptr::null(), (black_box(2), black_box(3)))
                    .unwrap()
            }
        })
    });
    group.bench_function(format!("typed{suffix}"), |b| {
        b.iter(|| f.add.call(host, (black_box(2), black_box(3))).unwrap())
    });
    group.finish();
    let mut group = c.benchmark_group("bump");
    group.bench_function(format!("raw slot{suffix}"), |b| {
        let args = [counter];
        b.iter(|| {
            // SAFETY: `bump` takes `&mut Counter`: `args` points to the live `Counter`, which
            // nothing else references meanwhile; it returns `()`; no reload runs.
            unsafe {
                f.bump_raw
                    .call_raw(black_box(args.as_ptr()), core::ptr::dangling_mut())
            }
            .unwrap()
        })
    });
    group.bench_function(format!("raw direct{suffix}"), |b| {
        let resources = [counter];
        b.iter(|| {
            // SAFETY: `bump` takes `&mut Counter`: `resources` holds the address of the live
            // `Counter`, which nothing else references meanwhile; no reload runs.
            unsafe { f.bump.call_raw(black_box(resources.as_ptr()), ()) }.unwrap()
        })
    });
    group.bench_function(format!("typed{suffix}"), |b| {
        b.iter(|| f.bump.call(host, ()).unwrap())
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let builder = Builder::new(workspace().join("tests/fixtures/typed-plugin"))
        .with_target_dir(target_dir())
        .profile(hot_host::Profile::Release);
    let dylib = builder.build().expect("typed-plugin builds").dylib;
    let mut host = Host::with_builder(builder);
    host.reload_from(&dylib, None).expect("typed-plugin loads");
    host.call_by_name("init", &[]).unwrap();
    let handles = Handles::resolve(&host);

    let pointer: fn(u64, u64) -> u64 = add;
    let mut group = c.benchmark_group("add");
    group.bench_function("direct", |b| b.iter(|| add(black_box(2), black_box(3))));
    group.bench_function("function pointer", |b| {
        b.iter(|| black_box(pointer)(black_box(2), black_box(3)))
    });
    group.finish();
    let mut group = c.benchmark_group("bump");
    let mut counter = Counter::default();
    let bump_pointer: fn(&mut Counter) = bump;
    group.bench_function("direct", |b| b.iter(|| bump(black_box(&mut counter))));
    group.bench_function("function pointer", |b| {
        b.iter(|| black_box(bump_pointer)(black_box(&mut counter)))
    });
    group.finish();

    // The plugin's own code, through plain function pointers.
    // SAFETY: only the type is erased: the raising entry of `add(u64, u64) -> u64`.
    let plugin_add: unsafe fn(*const AtomicPtr<u8>, u64, u64) -> u64 =
        unsafe { core::mem::transmute(handles.add.desc().raising()) };
    // SAFETY: the raising entry of `bump(&mut Counter)`.
    let plugin_bump: unsafe fn(*const AtomicPtr<u8>) =
        unsafe { core::mem::transmute(handles.bump.desc().raising()) };
    let resources = [AtomicPtr::new(
        host.state_mut()
            .resource_mut("Counter")
            .unwrap()
            .as_mut_ptr(),
    )];
    c.benchmark_group("add")
        .bench_function("plugin's function pointer", |b| {
            // SAFETY: the raising entry of `add`, which reads no resources and cannot panic;
            // the plugin stays loaded.
            b.iter(|| unsafe {
                black_box(plugin_add)(core::ptr::null(), black_box(2), black_box(3))
            })
        });
    c.benchmark_group("bump")
        .bench_function("plugin's function pointer", |b| {
            // SAFETY: the raising entry of `bump`: `resources` holds the address of the live
            // `Counter`, which nothing else references meanwhile; no reload runs.
            b.iter(|| unsafe { black_box(plugin_bump)(black_box(resources.as_ptr())) })
        });

    slot_calls(c, &mut host, &handles, "");

    let add = host.resolve("add").unwrap();
    let bump_handle = host.resolve("bump").unwrap();
    c.benchmark_group("add").bench_function("Host::call", |b| {
        b.iter(|| {
            host.call(&add, &[Value::Int(black_box(2)), Value::Int(black_box(3))])
                .unwrap()
        })
    });
    c.benchmark_group("bump").bench_function("Host::call", |b| {
        b.iter(|| host.call(&bump_handle, &[]).unwrap())
    });

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for i in 0..100_000 {
        black_box(handles.add.call(&mut host, (i, 1)).unwrap());
        handles.bump.call(&mut host, ()).unwrap();
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    println!("allocations during 200000 typed calls: {allocations}");
    assert_eq!(allocations, 0, "a typed call must not allocate");

    threads(c, &host, &handles.add);

    let started = Instant::now();
    for _ in 0..1_000 {
        host.reload_from(&dylib, None).unwrap();
    }
    println!(
        "1000 reloads in {:.1} s; now version {}",
        started.elapsed().as_secs_f64(),
        host.version()
    );
    // The handles resolved before the reloads, and ones resolved now.
    slot_calls(c, &mut host, &handles, " after 1000 reloads");
    let fresh = Handles::resolve(&host);
    slot_calls(c, &mut host, &fresh, " after 1000 reloads, resolved again");
}

/// `add` through `call_shared` on one thread, and on two threads at once, each making `iters`
/// calls.
fn threads(c: &mut Criterion, host: &Host, add: &HotFn<fn(u64, u64) -> u64>) {
    let calls = |iters: u64| {
        for i in 0..iters {
            black_box(add.call_shared(host, (black_box(i), 1)).unwrap());
        }
    };
    let mut group = c.benchmark_group("add shared");
    group.bench_function("1 thread", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            calls(iters);
            started.elapsed()
        })
    });
    group.bench_function("2 threads, each", |b| {
        b.iter_custom(|iters| {
            std::thread::scope(|scope| {
                let workers: Vec<_> = (0..2)
                    .map(|_| {
                        scope.spawn(move || {
                            let started = Instant::now();
                            calls(iters);
                            started.elapsed()
                        })
                    })
                    .collect();
                // The slower thread's time: both made `iters` calls meanwhile.
                workers
                    .into_iter()
                    .map(|w| w.join().unwrap())
                    .max()
                    .unwrap_or(Duration::ZERO)
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
