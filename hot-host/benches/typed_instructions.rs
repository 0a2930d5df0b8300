//! Instructions per call of the trivial functions of `benches/typed.rs`, counted by callgrind
//! (which counts reliably on a shared machine, where times do not): each kind of call runs
//! `CALLS` times in a loop of its own (`#[inline(never)]`, named `loop_*`), whose inclusive
//! instruction count divided by `CALLS` is what one call costs, loop included (the loop is the
//! same for every kind). Run with
//!
//! ```sh
//! cargo bench -p hot-host --bench typed_instructions --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/typed.cg \
//!     target/release/deps/typed_instructions-<hash>
//! callgrind_annotate --inclusive=yes /tmp/typed.cg | grep loop_
//! ```
//!
//! With `RELOADS=1000` in the environment it reloads the plugin that many times after resolving
//! the handles and before the loops. Without valgrind it runs the same loops and prints their
//! times, the shortest of `REPEAT` runs (meaningless on a busy machine; `benches/typed.rs`
//! measures times).

mod support;

use std::hint::black_box;
use std::sync::atomic::AtomicPtr;
use std::time::Instant;

use hot_host::{Builder, FnHandle, Host, HotFn};
use support::{target_dir, workspace};

/// Calls per loop.
const CALLS: u64 = 1_000_000;

/// `add`, as a statically linked plugin crate compiles it.
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

#[inline(never)]
fn loop_add_direct() {
    for _ in 0..CALLS {
        black_box(add(black_box(2), black_box(3)));
    }
}

#[inline(never)]
fn loop_add_pointer() {
    let pointer: fn(u64, u64) -> u64 = add;
    for _ in 0..CALLS {
        black_box(black_box(pointer)(black_box(2), black_box(3)));
    }
}

/// The plugin's own code for `add` (its raising entry), called through a plain function pointer:
/// what the call of a function of a loaded library costs without Coo.
type PluginAdd = unsafe fn(*const AtomicPtr<u8>, u64, u64) -> u64;

#[inline(never)]
fn loop_add_plugin_pointer(pointer: PluginAdd) {
    for _ in 0..CALLS {
        // SAFETY: `add`'s raising entry, of this very type; it reads no resources and cannot
        // panic; the plugin stays loaded.
        black_box(unsafe { black_box(pointer)(core::ptr::null(), black_box(2), black_box(3)) });
    }
}

#[inline(never)]
fn loop_add_raw(f: &FnHandle) {
    for _ in 0..CALLS {
        let (mut x, mut y) = (black_box(2u64), black_box(3u64));
        let args = [(&raw mut x).cast::<u8>(), (&raw mut y).cast()];
        let mut ret = 0u64;
        // SAFETY: `add` takes two `u64`s and returns one: `args` points to two, `ret` has room
        // for one; no reload runs.
        unsafe { f.call_raw(args.as_ptr(), (&raw mut ret).cast()) }.unwrap();
        black_box(ret);
    }
}

#[inline(never)]
fn loop_add_raw_direct(f: &HotFn<fn(u64, u64) -> u64>) {
    for _ in 0..CALLS {
        // SAFETY: `add` has no resource parameters; no reload runs.
        black_box(unsafe { f.call_raw(core::ptr::null(), (black_box(2), black_box(3))) }.unwrap());
    }
}

#[inline(never)]
fn loop_add_typed(host: &mut Host, f: &HotFn<fn(u64, u64) -> u64>) {
    for _ in 0..CALLS {
        black_box(f.call(host, (black_box(2), black_box(3))).unwrap());
    }
}

#[inline(never)]
fn loop_bump_direct(counter: &mut Counter) {
    for _ in 0..CALLS {
        bump(black_box(&mut *counter));
    }
}

#[inline(never)]
fn loop_bump_pointer(counter: &mut Counter) {
    let pointer: fn(&mut Counter) = bump;
    for _ in 0..CALLS {
        black_box(pointer)(black_box(&mut *counter));
    }
}

/// `bump`'s raising entry, as [`PluginAdd`].
type PluginBump = unsafe fn(*const AtomicPtr<u8>);

#[inline(never)]
fn loop_bump_plugin_pointer(host: &mut Host, pointer: PluginBump) {
    let resources = [AtomicPtr::new(
        host.state_mut()
            .resource_mut("Counter")
            .unwrap()
            .as_mut_ptr(),
    )];
    for _ in 0..CALLS {
        // SAFETY: `bump`'s raising entry, of this very type: `resources` holds the address of
        // the live `Counter`, which nothing else references meanwhile; no reload runs.
        unsafe { black_box(pointer)(black_box(resources.as_ptr())) };
    }
}

#[inline(never)]
fn loop_bump_raw(host: &mut Host, f: &FnHandle) {
    let args = [host
        .state_mut()
        .resource_mut("Counter")
        .unwrap()
        .as_mut_ptr()];
    for _ in 0..CALLS {
        // SAFETY: `bump` takes `&mut Counter`: `args` points to the live `Counter`, which
        // nothing else references meanwhile; it returns `()`; no reload runs.
        unsafe { f.call_raw(black_box(args.as_ptr()), core::ptr::dangling_mut()) }.unwrap();
    }
}

#[inline(never)]
fn loop_bump_raw_direct(host: &mut Host, f: &HotFn<fn()>) {
    let resources = [host
        .state_mut()
        .resource_mut("Counter")
        .unwrap()
        .as_mut_ptr()];
    for _ in 0..CALLS {
        // SAFETY: `bump` takes `&mut Counter`: `resources` holds the address of the live
        // `Counter`, which nothing else references meanwhile; no reload runs.
        unsafe { f.call_raw(black_box(resources.as_ptr()), ()) }.unwrap();
    }
}

#[inline(never)]
fn loop_bump_typed(host: &mut Host, f: &HotFn<fn()>) {
    for _ in 0..CALLS {
        f.call(host, ()).unwrap();
    }
}

/// Runs `f` (`REPEAT` times, 1 unless set) and prints the shortest time it took per call.
fn timed(name: &str, mut f: impl FnMut()) {
    let repeat: u32 = std::env::var("REPEAT").map_or(1, |n| n.parse().expect("a number"));
    let mut best = f64::MAX;
    for _ in 0..repeat {
        let started = Instant::now();
        f();
        best = best.min(started.elapsed().as_secs_f64() * 1e9 / CALLS as f64);
    }
    println!("{name}: {best:.2} ns per call");
}

fn main() {
    // `cargo bench` passes `--bench`; this program takes no arguments.
    let builder = Builder::new(workspace().join("tests/fixtures/typed-plugin"))
        .with_target_dir(target_dir())
        .profile(hot_host::Profile::Release);
    let dylib = builder.build().expect("typed-plugin builds").dylib;
    let mut host = Host::with_builder(builder);
    host.reload_from(&dylib, None).expect("typed-plugin loads");
    host.call_by_name("init", &[]).unwrap();
    let add_raw = host.resolve("add").unwrap();
    let bump_raw = host.resolve("bump").unwrap();
    let add_typed: HotFn<fn(u64, u64) -> u64> = host.resolve_typed("add").unwrap();
    let bump_typed: HotFn<fn()> = host.resolve_typed("bump").unwrap();
    // `RELOADS=1000`: that many reloads after resolving, to show that the handles cost the same
    // after them.
    let reloads: u64 = std::env::var("RELOADS").map_or(0, |n| n.parse().expect("a number"));
    for _ in 0..reloads {
        host.reload_from(&dylib, None).unwrap();
    }
    let mut counter = Counter::default();

    timed("add direct", loop_add_direct);
    timed("add function pointer", loop_add_pointer);
    // SAFETY: only the type is erased: the raising entry of `add(u64, u64) -> u64`.
    let add_pointer: PluginAdd = unsafe { core::mem::transmute(add_typed.desc().raising()) };
    // SAFETY: the raising entry of `bump(&mut Counter)`.
    let bump_pointer: PluginBump = unsafe { core::mem::transmute(bump_typed.desc().raising()) };
    timed("add plugin's function pointer", || {
        loop_add_plugin_pointer(add_pointer)
    });
    timed("add raw slot", || loop_add_raw(&add_raw));
    timed("add raw direct", || loop_add_raw_direct(&add_typed));
    timed("add typed", || loop_add_typed(&mut host, &add_typed));
    timed("bump direct", || loop_bump_direct(&mut counter));
    timed("bump function pointer", || loop_bump_pointer(&mut counter));
    timed("bump plugin's function pointer", || {
        loop_bump_plugin_pointer(&mut host, bump_pointer)
    });
    timed("bump raw slot", || loop_bump_raw(&mut host, &bump_raw));
    timed("bump raw direct", || {
        loop_bump_raw_direct(&mut host, &bump_typed)
    });
    timed("bump typed", || loop_bump_typed(&mut host, &bump_typed));
    black_box(counter.count);
}
