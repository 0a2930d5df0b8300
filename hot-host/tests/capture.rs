//! Captures (issue 15): the state copied out as owned bytes, then written as a JSON snapshot from
//! the copy alone. The snapshot's values must be exactly what `state_json` prints of the live
//! state, for every shape; the bytes must keep every bit of every number.
#![allow(missing_debug_implementations, dead_code)]

use coo_runtime::{CooType, Handle, Pool, State};
use hot_host::state_io::capture::Capture;
use hot_host::state_io::show::state_json;
use hot_host::state_io::snapshot;

#[derive(CooType, Debug, Clone, Copy, PartialEq)]
#[coo(name = "Widths")]
pub struct Widths {
    pub a: i8,
    pub b: i16,
    pub c: i32,
    pub d: i64,
    pub e: i128,
    pub f: isize,
    pub g: u8,
    pub h: u16,
    pub i: u32,
    pub j: u64,
    pub k: u128,
    pub l: usize,
    pub yes: bool,
    pub ch: char,
}

#[derive(CooType, Debug, Clone, Copy, PartialEq)]
#[coo(name = "Floats")]
pub struct Floats {
    pub payload_nan: f32,
    pub neg_zero: f64,
    pub inf: f64,
    pub tiny: f32,
    pub third: f64,
    pub big: f32,
}

/// Padding between fields: the plain fast path copies field runs, not the padding.
#[derive(CooType, Debug, Clone, Copy, PartialEq)]
#[coo(name = "Padded")]
pub struct Padded {
    pub flag: u8,
    pub value: u32,
    pub pair: [u16; 3],
}

#[derive(CooType, Debug, Clone, Copy, PartialEq)]
#[coo(name = "Pair")]
pub struct Pair(pub f32, pub i64);

#[derive(CooType, Debug, Clone, Copy, PartialEq)]
#[coo(name = "Meters")]
pub struct Meters(pub f64);

#[derive(CooType, Debug, Clone, Copy, PartialEq, Default)]
#[coo(name = "Nothing")]
pub struct Nothing;

#[derive(CooType, Debug, Clone, PartialEq)]
#[coo(name = "Phase")]
pub enum Phase {
    Idle,
    Named(String),
    Moving(f32, f32),
    Frozen { reason: String, ticks: u64 },
}

#[derive(CooType, Debug, Clone, PartialEq)]
#[coo(name = "Unit")]
pub struct Unit {
    pub hp: i32,
    pub name: String,
}

#[derive(CooType, Debug, Clone, PartialEq)]
#[coo(name = "Node")]
pub struct Node {
    pub value: u16,
    pub next: Option<Box<Node>>,
}

#[derive(CooType)]
#[coo(name = "World")]
pub struct World {
    pub widths: Widths,
    pub floats: Floats,
    pub padded: Vec<Padded>,
    pub pairs: [Pair; 2],
    pub meters: Meters,
    pub nothing: Nothing,
    pub phases: Vec<Phase>,
    pub units: Pool<Unit>,
    pub leader: Handle<Unit>,
    pub maybe: Option<Box<Floats>>,
    pub none: Option<u8>,
    pub list: Option<Box<Node>>,
    pub text: String,
    pub chars: Vec<char>,
    pub empty: Vec<Vec<u8>>,
}

fn widths(sign: i8) -> Widths {
    let max = sign > 0;
    Widths {
        a: if max { i8::MAX } else { i8::MIN },
        b: if max { i16::MAX } else { i16::MIN },
        c: if max { i32::MAX } else { i32::MIN },
        d: if max { i64::MAX } else { i64::MIN },
        e: if max { i128::MAX } else { i128::MIN },
        f: if max { isize::MAX } else { isize::MIN },
        g: if max { u8::MAX } else { 0 },
        h: if max { u16::MAX } else { 1 },
        i: if max { u32::MAX } else { 2 },
        j: if max { u64::MAX } else { 3 },
        k: if max { u128::MAX } else { 4 },
        l: if max { usize::MAX } else { 5 },
        yes: max,
        ch: if max { '🦀' } else { '\u{1}' },
    }
}

fn floats() -> Floats {
    Floats {
        payload_nan: f32::from_bits(0x7fc0_1234),
        neg_zero: -0.0,
        inf: f64::NEG_INFINITY,
        tiny: f32::from_bits(1),
        third: 1.0 / 3.0,
        big: 1e20,
    }
}

fn world() -> State {
    let mut units = Pool::new();
    let gone = units.insert(Unit {
        hp: 1,
        name: "gone".into(),
    });
    let leader = units.insert(Unit {
        hp: -7,
        name: "lead \"er\"".into(),
    });
    units.insert(Unit {
        hp: 3,
        name: "last".into(),
    });
    units.remove(gone).unwrap();
    let mut list = None;
    for value in 0..5 {
        list = Some(Box::new(Node { value, next: list }));
    }
    let mut state = State::new();
    state.insert(World {
        widths: widths(1),
        floats: floats(),
        padded: (0..5)
            .map(|i| Padded {
                flag: i as u8,
                value: i * 1000,
                pair: [i as u16, 7, u16::MAX],
            })
            .collect(),
        pairs: [Pair(0.1, -1), Pair(f32::MAX, i64::MIN)],
        meters: Meters(2.5e-300),
        nothing: Nothing,
        phases: vec![
            Phase::Idle,
            Phase::Named("tab\tnew\nline \u{7f} é".into()),
            Phase::Moving(1.0, -2.5),
            Phase::Frozen {
                reason: "audit".into(),
                ticks: 9,
            },
        ],
        units,
        leader,
        maybe: Some(Box::new(floats())),
        none: None,
        list,
        text: String::new(),
        chars: vec!['a', '"', '\\', '\u{0}'],
        empty: vec![vec![], vec![1, 2]],
    });
    state.insert(widths(-1));
    state.insert(Phase::Frozen {
        reason: "top".into(),
        ticks: 0,
    });
    state
}

#[test]
fn a_snapshot_written_from_a_capture_holds_exactly_what_state_json_prints() {
    let state = world();
    let text = snapshot::save(&state).expect("the state saves");
    let expected = format!(",\"state\":{}}}", state_json(&state));
    assert!(
        text.ends_with(&expected),
        "snapshot:\n{text}\nexpected it to end with:\n{expected}"
    );
    // And it loads back as the same state.
    let catalog = coo_runtime::Catalog::from_descs([
        World::desc(),
        Widths::desc(),
        Floats::desc(),
        Padded::desc(),
        Pair::desc(),
        Meters::desc(),
        Nothing::desc(),
        Phase::desc(),
        Unit::desc(),
        Node::desc(),
    ])
    .unwrap();
    let (loaded, report) = snapshot::load(&text, &catalog).unwrap();
    assert!(report.is_exact());
    assert_eq!(state_json(&loaded), state_json(&state));
}

#[test]
fn a_capture_keeps_every_bit_of_every_number() {
    let mut state = State::new();
    state.insert(floats());
    let f = floats();
    let expected: Vec<u8> = [
        f.payload_nan.to_bits().to_le_bytes().to_vec(),
        f.neg_zero.to_bits().to_le_bytes().to_vec(),
        f.inf.to_bits().to_le_bytes().to_vec(),
        f.tiny.to_bits().to_le_bytes().to_vec(),
        f.third.to_bits().to_le_bytes().to_vec(),
        f.big.to_bits().to_le_bytes().to_vec(),
    ]
    .concat();
    let capture = Capture::of(&state).expect("the state is captured");
    assert_eq!(capture.bytes, expected);
    assert_eq!(capture.resources, ["Floats"]);

    let mut state = State::new();
    state.insert(widths(-1));
    let w = widths(-1);
    let expected: Vec<u8> = [
        w.a.to_le_bytes().to_vec(),
        w.b.to_le_bytes().to_vec(),
        w.c.to_le_bytes().to_vec(),
        w.d.to_le_bytes().to_vec(),
        w.e.to_le_bytes().to_vec(),
        (w.f as i64).to_le_bytes().to_vec(),
        w.g.to_le_bytes().to_vec(),
        w.h.to_le_bytes().to_vec(),
        w.i.to_le_bytes().to_vec(),
        w.j.to_le_bytes().to_vec(),
        w.k.to_le_bytes().to_vec(),
        (w.l as u64).to_le_bytes().to_vec(),
        vec![0],
        u32::from(w.ch).to_le_bytes().to_vec(),
    ]
    .concat();
    assert_eq!(
        Capture::of(&state).expect("the state is captured").bytes,
        expected
    );
}

/// A value nested far deeper than the native stack allows recursing: captured and written
/// with explicit work stacks.
#[test]
fn a_value_nested_a_million_levels_deep_is_captured_and_written() {
    const DEPTH: u16 = 60_000;
    let mut list = None;
    for i in 0..(1_000_000 / u32::from(DEPTH)) {
        for value in 0..DEPTH {
            list = Some(Box::new(Node {
                value: value.wrapping_add(i as u16),
                next: list,
            }));
        }
    }
    let mut state = State::new();
    state.insert(Node {
        value: 0,
        next: list,
    });
    let capture = Capture::of(&state).expect("the state is captured");
    let text = capture.snapshot_json(&snapshot::Header {
        plugin: None,
        run: None,
    });
    assert_eq!(
        text.matches("\"next\":{").count(),
        1_000_000 / 60_000 * 60_000
    );
    assert!(text.ends_with(&format!(",\"state\":{}}}", state_json(&state))));
    // Dropping a list this long recurses in its own drop glue: take it apart one node at a time.
    let mut node = state
        .remove("Node")
        .and_then(|mut r| r.downcast_mut::<Node>().and_then(|n| n.next.take()));
    while let Some(mut n) = node {
        node = n.next.take();
    }
}
