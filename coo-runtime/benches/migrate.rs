//! Migration throughput: 1,000,000 and 10,000,000 values of a 64-byte struct that gained a field, against a
//! `memcpy` of the same bytes into fresh memory; and an unchanged type, whose cost must not grow
//! with the number of values.
//!
//! Run with `cargo bench -p coo-runtime --bench migrate`; `taskset -c 0` before it for one core
//! (the migration builds large vectors on every core the process may use).
#![allow(missing_debug_implementations)]

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
    #[coo(name = "Swarm")]
    pub struct Swarm {
        pub particles: Vec<Particle>,
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
    #[coo(name = "Swarm")]
    pub struct Swarm {
        pub particles: Vec<Particle>,
    }
}

mod v2_same {
    use super::*;
    #[derive(CooType)]
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
}

const N: usize = 1_000_000;

fn swarm(n: usize) -> State {
    assert_eq!(std::mem::size_of::<v1::Particle>(), 64);
    let particles = (0..n)
        .map(|i| v1::Particle {
            pos: [i as f64, 1.0, 2.0],
            vel: [0.5; 3],
            id: i as u64,
            age: 0.0,
        })
        .collect();
    let mut state = State::new();
    state.insert(v1::Swarm { particles });
    state
}

fn bench(c: &mut Criterion) {
    let changed = Catalog::from_descs([v2::Swarm::DESC]).unwrap();
    let unchanged = Catalog::from_descs([v2_same::Swarm::DESC]).unwrap();

    // 1M, and 10M to show the time scales linearly with the values (issue 13).
    for (n, name, samples) in [
        (N, "migrate 1M x 64 B", 20),
        (10 * N, "migrate 10M x 64 B", 10),
    ] {
        let mut group = c.benchmark_group(name);
        group.sample_size(samples);
        group.bench_function("memcpy into fresh memory", |b| {
            let src: Vec<v1::Particle> = (0..n)
                .map(|i| v1::Particle {
                    pos: [i as f64; 3],
                    vel: [0.5; 3],
                    id: i as u64,
                    age: 0.0,
                })
                .collect();
            b.iter(|| {
                let mut dst: Vec<v1::Particle> = Vec::with_capacity(n);
                // SAFETY: `dst` has room for `n` elements and does not overlap `src`.
                unsafe {
                    std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr(), n);
                    dst.set_len(n);
                }
                black_box(dst)
            })
        });
        group.bench_function("struct gained a field", |b| {
            b.iter_batched(
                || swarm(n),
                |mut state| {
                    state.migrate_to(&changed).unwrap();
                    state
                },
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }

    let mut group = c.benchmark_group("unchanged type");
    for n in [1_000, N] {
        group.bench_function(format!("{n} values"), |b| {
            b.iter_batched(
                || swarm(n),
                |mut state| {
                    state.migrate_to(&unchanged).unwrap();
                    state
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
