//! `#[coo(opaque)]` fields in the state's text forms: shown through `Debug` (`state`), written by
//! their own serde or as their `Debug` text (`state --json`), and in snapshots: held through
//! their serde with `#[coo(opaque, serde)]` (JSON and binary), refused by name without it.
#![allow(missing_debug_implementations, dead_code)]

use std::time::Duration;

use coo_runtime::{Catalog, CooType, State};
use hot_host::state_io::binary::Format;
use hot_host::state_io::capture::{Capture, CaptureError, CaptureErrorKind};
use hot_host::state_io::show::{state_json, state_pretty};
use hot_host::state_io::snapshot;

/// A math crate's vector, which does not derive `CooType` (nor serde).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Vec3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

#[derive(CooType, Debug, PartialEq)]
pub struct Timer {
    #[coo(opaque, serde)]
    pub left: Duration,
    #[coo(opaque)]
    pub pos: Vec3,
    pub ticks: u32,
}

#[derive(CooType, Debug, PartialEq)]
pub struct Clock {
    #[coo(opaque, serde)]
    pub left: Duration,
    pub laps: Vec<Lap>,
}

#[derive(CooType, Debug, PartialEq)]
pub struct Lap {
    #[coo(opaque, serde)]
    pub time: Option<Duration>,
}

fn timer() -> State {
    let mut state = State::new();
    state.insert(Timer {
        left: Duration::from_millis(1500),
        pos: Vec3 {
            x: 1.0,
            y: 2.0,
            z: -0.5,
        },
        ticks: 3,
    });
    state
}

fn clock() -> Clock {
    Clock {
        left: Duration::new(7, 250),
        laps: vec![
            Lap {
                time: Some(Duration::from_secs(61)),
            },
            Lap { time: None },
        ],
    }
}

fn clock_state() -> State {
    let mut state = State::new();
    state.insert(clock());
    state
}

fn clock_catalog() -> Catalog {
    Catalog::from_descs([Clock::DESC]).expect("no duplicate names")
}

#[test]
fn state_shows_opaque_values_through_debug_and_their_serde() {
    let state = timer();
    assert_eq!(
        state_pretty(&state),
        "Timer {\n    left: 1.5s,\n    pos: Vec3 { x: 1.0, y: 2.0, z: -0.5 },\n    ticks: 3,\n}\n"
    );
    assert_eq!(
        state_json(&state),
        r#"{"Timer":{"left":{"secs":1,"nanos":500000000},"pos":"Vec3 { x: 1.0, y: 2.0, z: -0.5 }","ticks":3}}"#
    );
}

#[test]
fn a_snapshot_refuses_an_opaque_field_without_serde_naming_it() {
    let state = timer();
    let refused = snapshot::save(&state).expect_err("`pos` has no serde");
    assert_eq!(
        refused,
        CaptureError {
            path: "Timer.pos".to_owned(),
            kind: CaptureErrorKind::OpaqueWithoutSerde {
                ty: "opaque::Vec3".to_owned()
            },
        }
    );
    assert_eq!(
        refused.to_string(),
        "a snapshot cannot hold `Timer.pos`: it is an opaque `opaque::Vec3`, which Coo cannot \
         write; mark the field `#[coo(opaque, serde)]` (the type must implement `Serialize` and \
         `Deserialize`, and the plugin's `coo-runtime` dependency needs `features = [\"serde\"]`)"
    );
    assert!(matches!(
        Capture::of(&state),
        Err(CaptureError {
            kind: CaptureErrorKind::OpaqueWithoutSerde { .. },
            ..
        })
    ));
}

#[test]
fn opaque_values_with_serde_round_trip_through_a_json_snapshot() {
    let text = snapshot::save(&clock_state()).expect("the state saves");
    assert!(
        text.contains(r#""Clock":{"left":{"secs":7,"nanos":250},"laps":[{"time":{"secs":61,"nanos":0}},{"time":null}]}"#),
        "{text}"
    );
    let (loaded, report) = snapshot::load(&text, &clock_catalog()).expect("loads");
    assert!(report.is_exact(), "{report}");
    assert_eq!(loaded.get::<Clock>(), Some(&clock()));
}

#[test]
fn opaque_values_with_serde_round_trip_through_a_binary_snapshot() {
    let header = snapshot::Header {
        plugin: None,
        run: None,
    };
    let capture = Capture::of(&clock_state()).expect("the state is captured");
    let bytes = snapshot::encode(&capture, &header, Format::Binary);
    let (loaded, report) = snapshot::load_bytes(&bytes, &clock_catalog(), None).expect("loads");
    assert!(report.is_exact(), "{report}");
    assert_eq!(loaded.get::<Clock>(), Some(&clock()));
}
