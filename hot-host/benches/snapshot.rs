//! Snapshot throughput: writing and reading a state of 1,000,000 small structs (four `f32`s,
//! 16 MB live, about 40 MB of JSON), side by side with `serde_json` writing and reading an
//! equivalent plain `Vec` of `#[derive(Serialize, Deserialize)]` structs in the same run.
//!
//! Also what an autosave costs the loop: capturing the state, against a `memcpy` of the values;
//! and the binary format (`.coo`) saving and loading the same state, beside both.
//!
//! Run with `cargo bench -p hot-host --bench snapshot` (numbers in BENCHMARKS.md).

use coo_runtime::{Catalog, CooType, State, TypeDesc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hot_host::state_io::binary::Format;
use hot_host::state_io::capture::Capture;
use hot_host::state_io::snapshot::{self, Header};

const N: usize = 1_000_000;

#[derive(CooType, serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq)]
#[coo(name = "Particle")]
struct Particle {
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
}

#[derive(CooType, Debug, PartialEq)]
#[coo(name = "World")]
struct World {
    particles: Vec<Particle>,
}

/// Values with the digits real simulation state has (not round numbers).
fn particles() -> Vec<Particle> {
    (0..N)
        .map(|i| {
            let f = i as f32;
            Particle {
                x: f * 0.37 + 0.1,
                y: f * -1.13 / 7.0,
                vx: (f * 0.001).sin(),
                vy: 1.0 / (f + 3.0),
            }
        })
        .collect()
}

fn catalog() -> Catalog {
    let descs: [&'static TypeDesc; 2] = [World::desc(), Particle::desc()];
    Catalog::from_descs(descs).expect("no duplicate names")
}

fn bench(c: &mut Criterion) {
    let plain = particles();
    let mut state = State::new();
    state.insert(World {
        particles: plain.clone(),
    });
    let catalog = catalog();
    let json = snapshot::save(&state).expect("the state saves");
    let plain_json = serde_json::to_vec(&plain).unwrap();
    let header = Header {
        plugin: None,
        run: None,
    };
    let binary = snapshot::encode(
        &Capture::of(&state).expect("the state is captured"),
        &header,
        Format::Binary,
    );
    println!(
        "sizes: JSON snapshot {} bytes, serde_json {} bytes, binary snapshot {} bytes",
        json.len(),
        plain_json.len(),
        binary.len()
    );

    let mut write = c.benchmark_group("snapshot_write");
    write.sample_size(10);
    write.throughput(Throughput::Bytes(plain_json.len() as u64));
    write.bench_function("serde_json::to_writer Vec<Particle>", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(plain_json.len());
            serde_json::to_writer(&mut out, &plain).unwrap();
            out
        })
    });
    write.throughput(Throughput::Bytes(json.len() as u64));
    write.bench_function("snapshot::save JSON", |b| {
        b.iter(|| snapshot::save(&state).expect("the state saves"))
    });
    write.throughput(Throughput::Bytes(binary.len() as u64));
    write.bench_function("snapshot::encode binary (capture and encode)", |b| {
        b.iter(|| {
            snapshot::encode(
                &Capture::of(&state).expect("the state is captured"),
                &header,
                Format::Binary,
            )
        })
    });
    write.finish();

    // What an autosave costs the loop: the capture, against copying the same values.
    let mut capture = c.benchmark_group("snapshot_capture");
    capture.sample_size(10);
    capture.throughput(Throughput::Bytes((N * size_of::<Particle>()) as u64));
    capture.bench_function("Vec<Particle>::clone (memcpy)", |b| {
        b.iter(|| plain.clone())
    });
    capture.bench_function("Capture::of", |b| {
        b.iter(|| Capture::of(&state).expect("the state is captured"))
    });
    capture.finish();

    let mut read = c.benchmark_group("snapshot_read");
    read.sample_size(10);
    read.throughput(Throughput::Bytes(plain_json.len() as u64));
    read.bench_function("serde_json::from_reader Vec<Particle>", |b| {
        b.iter(|| serde_json::from_reader::<_, Vec<Particle>>(plain_json.as_slice()).unwrap())
    });
    read.throughput(Throughput::Bytes(json.len() as u64));
    read.bench_function("snapshot::load JSON", |b| {
        b.iter(|| snapshot::load(&json, &catalog).unwrap())
    });
    read.throughput(Throughput::Bytes(binary.len() as u64));
    read.bench_function("snapshot::load_bytes binary", |b| {
        b.iter(|| snapshot::load_bytes(&binary, &catalog, None).unwrap())
    });
    read.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
