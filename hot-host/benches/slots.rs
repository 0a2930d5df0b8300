//! A call through a function slot against a direct call and a plain function-pointer call of the
//! same function, in one run: `demo_plugin::tick` on the demo's `World` (five particles).
//! The direct and pointer calls use `demo-plugin` linked statically (as a release build can);
//! the slot call goes into the dynamically loaded plugin, through its shim.
//!
//! Also counts heap allocations during slot calls: there must be none.
//!
//! Run with `cargo bench -p hot-host --bench slots`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use hot_host::{Builder, Host};

/// Counts allocations, to show that a slot call allocates nothing.
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

fn bench(c: &mut Criterion) {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let builder = Builder::new(workspace.join("demo-plugin"))
        .with_target_dir(workspace.join("target").join("coo-bench"))
        .profile(hot_host::Profile::Release);
    let mut host = Host::with_builder(builder);
    host.reload().expect("demo-plugin builds and loads");
    host.call_by_name("init", &[]).expect("init");
    let tick = host.resolve("tick").unwrap();
    let world_ptr = host.state_mut().resource_mut("World").unwrap().as_mut_ptr();

    let mut world = demo_plugin::init();
    let pointer: fn(&mut demo_plugin::World) = demo_plugin::tick;

    let mut group = c.benchmark_group("call tick");
    group.bench_function("direct", |b| {
        b.iter(|| demo_plugin::tick(black_box(&mut world)))
    });
    group.bench_function("function pointer", |b| {
        b.iter(|| black_box(pointer)(black_box(&mut world)))
    });
    group.bench_function("slot", |b| {
        let args = [world_ptr];
        let mut ret = 0u128;
        b.iter(|| {
            // SAFETY: `tick` takes `&mut World`; `args` points to the live `World` resource,
            // which nothing else references during the benchmark; no reload runs.
            unsafe { tick.call_raw(black_box(args.as_ptr()), (&raw mut ret).cast()) }.unwrap()
        })
    });
    group.finish();

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let args = [world_ptr];
    let mut ret = 0u128;
    for _ in 0..100_000 {
        // SAFETY: as above.
        unsafe { tick.call_raw(args.as_ptr(), (&raw mut ret).cast()) }.unwrap();
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    println!("allocations during 100000 slot calls: {allocations}");
    assert_eq!(allocations, 0, "a slot call must not allocate");
}

criterion_group!(benches, bench);
criterion_main!(benches);
