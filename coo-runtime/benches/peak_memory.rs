//! Peak memory of a migration (issue 13): the bytes allocated at the peak of
//! [`State::migrate_to`] beyond what the state held before it, divided by the bytes of the values
//! whose type changed (the Coo seed's "avoid having all data duplicated at the same time"; goal
//! ≤ 1.1), and the same for a state whose types did not change (goal: nothing).
//!
//! Three figures per case, each the peak during the migration minus what was held before it:
//! - a counting global allocator's live heap bytes, counting a `realloc` as a new block allocated
//!   before the old one is freed (the worst case: an allocator that copies);
//! - the same allocator's bytes counting a `realloc` as its growth alone (an allocator that
//!   resizes the block where it is or moves its pages, as glibc does with `mremap` for blocks
//!   it mapped: every block above 32 MiB);
//! - the process's physical memory: its peak resident set (`VmHWM` in `/proc/self/status`, reset
//!   to the current resident set by writing `5` to `/proc/self/clear_refs` before migrating),
//!   minus the resident set before. What the machine really had to hold; the goal is judged on
//!   it.
//!
//! Each case builds its state, resets the marks, migrates, and reads them. Counts, not times:
//! the figures are the same on a busy machine (the resident set up to a few pages). Run with
//! `cargo bench -p coo-runtime --bench peak_memory`; prints a markdown table.
#![allow(missing_debug_implementations)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use coo_runtime::{Catalog, CooType, State};

/// The system allocator, counting the live bytes and their high-water mark.
struct Counting;

/// Live bytes and their mark, a `realloc` counted as new-before-old.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Live bytes and their mark, a `realloc` counted as its growth.
static LIVE_RESIZED: AtomicUsize = AtomicUsize::new(0);
static PEAK_RESIZED: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
    let live = LIVE_RESIZED.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK_RESIZED.fetch_max(live, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes, Ordering::Relaxed);
    LIVE_RESIZED.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged, with the caller's layout and pointer;
// the counters are only read by this bench and never affect what is returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract (non-zero size), forwarded.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (every allocation above is) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A `realloc` may copy: count the new block before the old one goes, as the worst case.
        // SAFETY: the caller's contract, forwarded; `ptr` came from `System` with `layout`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            // As its growth alone (nothing when it shrinks).
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                let live = LIVE_RESIZED.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK_RESIZED.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE_RESIZED.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

mod v1 {
    use super::*;
    /// 64 bytes.
    #[derive(CooType, Clone, Copy)]
    #[coo(name = "Particle")]
    pub struct Particle {
        pub pos: [f64; 3],
        pub vel: [f64; 3],
        pub id: u64,
        pub age: f64,
    }
    #[derive(CooType)]
    #[coo(name = "Swarm")]
    pub struct Swarm {
        pub particles: Vec<Particle>,
    }
    #[derive(CooType)]
    #[coo(name = "Map")]
    pub struct Map {
        pub by_id: HashMap<u32, Particle>,
    }
    /// A resource no version changes, to show that unchanged values add nothing.
    #[derive(CooType)]
    #[coo(name = "Terrain")]
    pub struct Terrain {
        pub heights: Vec<f32>,
    }
}

mod v2 {
    use super::*;
    /// 72 bytes: gained a field.
    #[derive(CooType)]
    #[coo(name = "Particle")]
    pub struct Particle {
        pub pos: [f64; 3],
        pub vel: [f64; 3],
        pub id: u64,
        pub age: f64,
        #[coo(default = 1.0)]
        pub mass: f32,
    }
    #[derive(CooType)]
    #[coo(name = "Swarm")]
    pub struct Swarm {
        pub particles: Vec<Particle>,
    }
    #[derive(CooType)]
    #[coo(name = "Map")]
    pub struct Map {
        pub by_id: HashMap<u32, Particle>,
    }
    #[derive(CooType)]
    #[coo(name = "Terrain")]
    pub struct Terrain {
        pub heights: Vec<f32>,
    }
}

const N: usize = 1_000_000;

fn particle(i: usize) -> v1::Particle {
    v1::Particle {
        pos: [i as f64, 1.0, 2.0],
        vel: [0.5; 3],
        id: i as u64,
        age: 0.0,
    }
}

/// What one migration allocated at its peak beyond the state it started from.
struct Peak {
    case: &'static str,
    /// Bytes of the values whose type changed (old layout).
    changed: usize,
    /// Live bytes before the migration.
    before: usize,
    /// Extra bytes at the peak, a `realloc` counted as new-before-old.
    extra: usize,
    /// Extra bytes at the peak, a `realloc` counted as its growth.
    extra_resized: usize,
    /// Extra resident bytes at the peak (`None` where `/proc` does not tell).
    extra_rss: Option<usize>,
    /// Live bytes after the migration (the state at rest in its new layout).
    after: usize,
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`), or `None` without `/proc`.
fn status_bytes(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: usize = line[field.len()..]
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Resets the peak resident set (`VmHWM`) to the current one; `false` where that is not
/// possible.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn measure(case: &'static str, changed: usize, mut state: State, to: &Catalog) -> Peak {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let before_resized = LIVE_RESIZED.load(Ordering::Relaxed);
    PEAK_RESIZED.store(before_resized, Ordering::Relaxed);
    let rss_before = status_bytes("VmRSS");
    let rss_reset = reset_peak_rss();
    state
        .migrate_to(to)
        .expect("the bench's migration is planned");
    let hwm = status_bytes("VmHWM");
    let peak = PEAK.load(Ordering::Relaxed);
    let peak_resized = PEAK_RESIZED.load(Ordering::Relaxed);
    let after = LIVE.load(Ordering::Relaxed);
    drop(state);
    let extra_rss = match (rss_reset, rss_before, hwm) {
        (true, Some(before), Some(hwm)) => Some(hwm.saturating_sub(before)),
        _ => None,
    };
    Peak {
        case,
        changed,
        before,
        extra: peak - before,
        extra_resized: peak_resized - before_resized,
        extra_rss,
        after,
    }
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The environment variable that makes the bench run one case (its index) and print its row:
/// each case runs in a fresh process, so that no case's resident memory (pages the allocator
/// kept after an earlier case) hides another's.
const CASE_VAR: &str = "COO_PEAK_MEMORY_CASE";

/// How many cases [`run_case`] knows.
const CASES: usize = 4;

/// Builds the state of case `i` and measures its migration.
fn run_case(i: usize) -> Peak {
    let to = Catalog::from_descs([v2::Swarm::DESC, v2::Map::DESC, v2::Terrain::DESC])
        .expect("the bench's catalog is valid");
    let particle_bytes = std::mem::size_of::<v1::Particle>();
    let mut state = State::new();
    match i {
        0 => {
            state.insert(v1::Swarm {
                particles: (0..N).map(particle).collect(),
            });
            measure(
                "`Vec<Particle>` of 1M, `Particle` gained a field",
                N * particle_bytes,
                state,
                &to,
            )
        }
        1 => {
            state.insert(v1::Map {
                by_id: (0..N).map(|i| (i as u32, particle(i))).collect(),
            });
            measure(
                "`HashMap<u32, Particle>` of 1M, `Particle` gained a field",
                N * (particle_bytes + 4),
                state,
                &to,
            )
        }
        2 => {
            state.insert(v1::Terrain {
                heights: vec![0.5; 16 * N],
            });
            measure("`Vec<f32>` of 16M (64 MB), type unchanged", 0, state, &to)
        }
        3 => {
            state.insert(v1::Swarm {
                particles: (0..N).map(particle).collect(),
            });
            state.insert(v1::Terrain {
                heights: vec![0.5; 16 * N],
            });
            measure(
                "both: the `Vec<Particle>` changed, the 64 MB `Terrain` unchanged",
                N * particle_bytes,
                state,
                &to,
            )
        }
        _ => unreachable!("{CASES} cases"),
    }
}

fn row(p: &Peak) -> String {
    let ratio = |extra: usize| {
        if p.changed == 0 {
            "–".to_owned()
        } else {
            format!("{:.3}", extra as f64 / p.changed as f64)
        }
    };
    let (rss, rss_ratio) = match p.extra_rss {
        Some(extra) => (mb(extra), ratio(extra)),
        None => ("–".to_owned(), "–".to_owned()),
    };
    format!(
        "| {} | {} | {} | {} ({}) | {} ({}) | {rss} | {rss_ratio} | {} |",
        p.case,
        mb(p.changed),
        mb(p.before),
        mb(p.extra),
        ratio(p.extra),
        mb(p.extra_resized),
        ratio(p.extra_resized),
        mb(p.after)
    )
}

fn main() {
    // Criterion passes `--bench`; this bench has no options of its own.
    if let Ok(i) = std::env::var(CASE_VAR) {
        let i: usize = i.parse().expect("a case index");
        println!("{}", row(&run_case(i)));
        return;
    }
    println!(
        "| case | changed values | live before | extra: allocator, `realloc` as a copy (ratio) | extra: allocator, `realloc` resizing (ratio) | extra: resident (`VmHWM`) | ratio, resident (goal ≤ 1.1) | live after |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let exe = std::env::current_exe().expect("the bench's own executable");
    for i in 0..CASES {
        let out = std::process::Command::new(&exe)
            .env(CASE_VAR, i.to_string())
            .output()
            .expect("the bench runs itself");
        assert!(out.status.success(), "case {i}: {out:?}");
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
