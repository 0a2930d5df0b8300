//! Peak memory of a migration (issue 13): the bytes allocated at the peak of
//! [`State::migrate_to`] beyond what the state held before it, divided by the bytes of the values
//! whose type changed (the Coo seed's "avoid having all data duplicated at the same time"; goal
//! ≤ 1.1), and the same for a state whose types did not change (goal: nothing).
//!
//! A counting global allocator tracks the live heap bytes and their high-water mark; each case
//! builds its state, resets the mark to the live bytes, migrates, and reads the mark. Counts, not
//! times: the figures are the same on a busy machine. Run with
//! `cargo bench -p coo-runtime --bench peak_memory`; prints a markdown table.
#![allow(missing_debug_implementations)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use coo_runtime::{Catalog, CooType, State};

/// The system allocator, counting the live bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
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
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A `realloc` may copy: count the new block before the old one goes, as the worst case.
        // SAFETY: the caller's contract, forwarded; `ptr` came from `System` with `layout`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            grew(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
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
    /// Extra bytes at the peak.
    extra: usize,
    /// Live bytes after the migration (the state at rest in its new layout).
    after: usize,
}

fn measure(case: &'static str, changed: usize, mut state: State, to: &Catalog) -> Peak {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    state
        .migrate_to(to)
        .expect("the bench's migration is planned");
    let peak = PEAK.load(Ordering::Relaxed);
    let after = LIVE.load(Ordering::Relaxed);
    drop(state);
    Peak {
        case,
        changed,
        before,
        extra: peak - before,
        after,
    }
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn main() {
    // Criterion passes `--bench`; this bench has no options of its own.
    let to = Catalog::from_descs([v2::Swarm::DESC, v2::Map::DESC, v2::Terrain::DESC])
        .expect("the bench's catalog is valid");
    let particle_bytes = std::mem::size_of::<v1::Particle>();
    let mut peaks = Vec::new();

    let mut state = State::new();
    state.insert(v1::Swarm {
        particles: (0..N).map(particle).collect(),
    });
    peaks.push(measure(
        "`Vec<Particle>` of 1M, `Particle` gained a field",
        N * particle_bytes,
        state,
        &to,
    ));

    let mut state = State::new();
    state.insert(v1::Map {
        by_id: (0..N).map(|i| (i as u32, particle(i))).collect(),
    });
    peaks.push(measure(
        "`HashMap<u32, Particle>` of 1M, `Particle` gained a field",
        N * (particle_bytes + 4),
        state,
        &to,
    ));

    let mut state = State::new();
    state.insert(v1::Terrain {
        heights: vec![0.5; 16 * N],
    });
    peaks.push(measure(
        "`Vec<f32>` of 16M (64 MB), type unchanged",
        0,
        state,
        &to,
    ));

    let mut state = State::new();
    state.insert(v1::Swarm {
        particles: (0..N).map(particle).collect(),
    });
    state.insert(v1::Terrain {
        heights: vec![0.5; 16 * N],
    });
    peaks.push(measure(
        "both: the `Vec<Particle>` changed, the 64 MB `Terrain` unchanged",
        N * particle_bytes,
        state,
        &to,
    ));

    println!(
        "| case | changed values | live before | extra at the peak | ratio (goal ≤ 1.1) | live after |"
    );
    println!("|---|---|---|---|---|---|");
    for p in &peaks {
        let ratio = if p.changed == 0 {
            "–".to_owned()
        } else {
            format!("{:.3}", p.extra as f64 / p.changed as f64)
        };
        println!(
            "| {} | {} | {} | {} | {ratio} | {} |",
            p.case,
            mb(p.changed),
            mb(p.before),
            mb(p.extra),
            mb(p.after)
        );
    }
}
