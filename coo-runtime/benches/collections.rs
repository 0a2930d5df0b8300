//! Migrating collections: 1,000,000 entries of a `HashMap<u32, Particle>`, a
//! `BTreeMap<u32, Particle>` and a `VecDeque<Particle>` whose `Particle` gained a field, each
//! beside building the same new collection from the old one with `collect` in plain Rust (the
//! baseline: what a hand-written migration costs), in one run.
//!
//! Run with `cargo bench -p coo-runtime --bench collections`.
#![allow(missing_debug_implementations)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hint::black_box;

use coo_runtime::{Catalog, CooType, State};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

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
    #[coo(name = "Maps")]
    pub struct Maps {
        pub hash: HashMap<u32, Particle>,
        pub btree: BTreeMap<u32, Particle>,
        pub deque: VecDeque<Particle>,
    }
}

mod v2 {
    use super::*;
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
    #[coo(name = "Maps")]
    pub struct Maps {
        pub hash: HashMap<u32, Particle>,
        pub btree: BTreeMap<u32, Particle>,
        pub deque: VecDeque<Particle>,
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

/// The plain-Rust migration of one value.
fn widen(p: &v1::Particle) -> v2::Particle {
    v2::Particle {
        pos: p.pos,
        vel: p.vel,
        id: p.id,
        age: p.age,
        mass: 1.0,
    }
}

/// A state whose one collection of the three holds `N` entries (`which`: 0 hash, 1 B-tree,
/// 2 deque).
fn state(which: usize) -> State {
    let n = |w: usize| if w == which { N } else { 0 };
    let mut state = State::new();
    state.insert(v1::Maps {
        hash: (0..n(0)).map(|i| (i as u32, particle(i))).collect(),
        btree: (0..n(1)).map(|i| (i as u32, particle(i))).collect(),
        deque: (0..n(2)).map(particle).collect(),
    });
    state
}

fn bench(c: &mut Criterion) {
    let new = Catalog::from_descs([v2::Maps::DESC]).unwrap();
    let old_hash: HashMap<u32, v1::Particle> = (0..N).map(|i| (i as u32, particle(i))).collect();
    let old_btree: BTreeMap<u32, v1::Particle> = (0..N).map(|i| (i as u32, particle(i))).collect();
    let old_deque: VecDeque<v1::Particle> = (0..N).map(particle).collect();

    let mut group = c.benchmark_group("1M entries, value gained a field");
    group.sample_size(10);
    group.bench_function("HashMap: collect", |b| {
        b.iter(|| {
            black_box(
                old_hash
                    .iter()
                    .map(|(k, p)| (*k, widen(p)))
                    .collect::<HashMap<u32, v2::Particle>>(),
            )
        })
    });
    group.bench_function("HashMap: migrate", |b| {
        b.iter_batched(
            || state(0),
            |mut state| {
                state.migrate_to(&new).unwrap();
                state
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("BTreeMap: collect", |b| {
        b.iter(|| {
            black_box(
                old_btree
                    .iter()
                    .map(|(k, p)| (*k, widen(p)))
                    .collect::<BTreeMap<u32, v2::Particle>>(),
            )
        })
    });
    group.bench_function("BTreeMap: migrate", |b| {
        b.iter_batched(
            || state(1),
            |mut state| {
                state.migrate_to(&new).unwrap();
                state
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("VecDeque: collect", |b| {
        b.iter(|| {
            black_box(
                old_deque
                    .iter()
                    .map(widen)
                    .collect::<VecDeque<v2::Particle>>(),
            )
        })
    });
    group.bench_function("VecDeque: migrate", |b| {
        b.iter_batched(
            || state(2),
            |mut state| {
                state.migrate_to(&new).unwrap();
                state
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
