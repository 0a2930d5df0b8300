//! `#[repr(packed)]` structs in the state as the host sees it: printed (`state`, `state --json`),
//! read and edited through paths (`set Thing.field 5`), and saved to and loaded from snapshots
//! (JSON and binary), with fields that lie unaligned and values reached through glue (an
//! `Option`, an enum, a nested struct) inside them.
#![allow(missing_debug_implementations, dead_code)]

use coo_runtime::{Catalog, CooType, State};
use hot_host::state_io::path::{self, Found, PathError};
use hot_host::state_io::show::{state_json, state_pretty};
use hot_host::state_io::snapshot;

#[derive(CooType, Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Idle,
    Run(u16),
}

#[derive(CooType, Clone, Copy, Debug, PartialEq)]
pub struct Inner {
    pub a: u16,
    pub b: f32,
}

/// `tag` puts every later field at an odd offset.
#[derive(CooType, Clone, Copy)]
#[repr(C, packed)]
pub struct Thing {
    pub tag: u8,
    pub field: u32,
    pub limit: Option<u16>,
    pub mode: Mode,
    pub inner: Inner,
    pub pos: [u16; 2],
}

#[derive(CooType)]
pub struct World {
    pub name: String,
    pub thing: Thing,
    pub things: Vec<Thing>,
}

fn thing(i: u16) -> Thing {
    Thing {
        tag: 1,
        field: 70_000 + u32::from(i),
        limit: Some(i),
        mode: Mode::Run(i + 1),
        inner: Inner { a: i, b: 0.5 },
        pos: [i, 2],
    }
}

fn state() -> State {
    let mut state = State::new();
    state.insert(World {
        name: "w".into(),
        thing: thing(3),
        things: vec![thing(0), thing(1)],
    });
    state.insert(thing(9));
    state
}

fn catalog() -> Catalog {
    Catalog::from_descs([World::DESC, Thing::DESC]).expect("no duplicate names")
}

fn thing_json(i: u16) -> String {
    format!(
        r#"{{"tag":1,"field":{},"limit":{i},"mode":{{"Run":{}}},"inner":{{"a":{i},"b":0.5}},"pos":[{i},2]}}"#,
        70_000 + u32::from(i),
        i + 1
    )
}

#[test]
fn state_prints_the_fields_of_packed_structs() {
    let state = state();
    assert_eq!(
        state_json(&state),
        format!(
            r#"{{"Thing":{},"World":{{"name":"w","thing":{},"things":[{},{}]}}}}"#,
            thing_json(9),
            thing_json(3),
            thing_json(0),
            thing_json(1)
        )
    );
    let pretty = state_pretty(&state);
    assert!(pretty.contains("limit: Some(\n"), "{pretty}");
    assert_eq!(
        path::get(&state, "World.things[1].mode").unwrap().json(),
        r#"{"Run":2}"#
    );
    assert_eq!(path::get(&state, "World.thing.limit").unwrap().json(), "3");
    assert_eq!(path::get(&state, "World.thing.pos[0]").unwrap().json(), "3");
    assert_eq!(path::get(&state, "Thing.mode.Run.0").unwrap().json(), "10");
    assert!(matches!(
        path::get(&state, "World.thing.inner"),
        Ok(Found::Value(v)) if v.is_unaligned()
    ));
}

#[test]
fn set_edits_a_packed_field_and_what_lies_inside_it() {
    let mut state = state();
    // The whole packed resource, then its fields one by one.
    let whole =
        r#"{"tag":2,"field":8,"limit":null,"mode":"Idle","inner":{"a":1,"b":2.0},"pos":[4,5]}"#;
    path::set(&mut state, "Thing", whole).unwrap();
    assert_eq!(path::get(&state, "Thing").unwrap().json(), whole);
    path::set(&mut state, "Thing", &thing_json(9)).unwrap();
    path::set(&mut state, "World.thing.field", "5").unwrap();
    path::set(&mut state, "World.things[1].limit", "null").unwrap();
    path::set(&mut state, "World.things[0].limit", "600").unwrap();
    path::set(&mut state, "World.things[0].mode.Run.0", "77").unwrap();
    path::set(&mut state, "Thing.inner.b", "-1.25").unwrap();
    path::set(&mut state, "Thing.mode", "Idle").unwrap();
    let w = state.get::<World>().unwrap();
    let (field, limit) = (w.thing.field, w.thing.limit);
    assert_eq!((field, limit), (5, Some(3)));
    let (limit0, mode0, limit1) = (w.things[0].limit, w.things[0].mode, w.things[1].limit);
    assert_eq!((limit0, mode0, limit1), (Some(600), Mode::Run(77), None));
    let t = state.get::<Thing>().unwrap();
    let (inner, mode, field) = (t.inner, t.mode, t.field);
    assert_eq!(
        (inner, mode, field),
        (Inner { a: 9, b: -1.25 }, Mode::Idle, 70_009)
    );
    // A value that does not fit is refused, and the field keeps its value.
    let err = path::set(&mut state, "World.thing.field", "-1").unwrap_err();
    assert!(matches!(err, PathError::Value(_)), "{err}");
    let field = state.get::<World>().unwrap().thing.field;
    assert_eq!(field, 5);
}

#[test]
fn snapshots_of_packed_structs_round_trip_as_json_and_binary() {
    let state = state();
    let before = state_json(&state);
    let text = snapshot::save(&state).expect("the state saves");
    let (loaded, report) = snapshot::load(&text, &catalog()).expect("loads");
    assert_eq!(state_json(&loaded), before);
    assert!(report.is_exact(), "{report}");
    assert_eq!(report.ty("Thing").unwrap().values, 4);
    let header = snapshot::Header {
        plugin: None,
        run: None,
    };
    let bytes = snapshot::encode(
        &hot_host::state_io::capture::Capture::of(&state).expect("the state is captured"),
        &header,
        hot_host::state_io::binary::Format::Binary,
    );
    let (loaded, report) = snapshot::load_bytes(&bytes, &catalog(), None).expect("loads");
    assert_eq!(state_json(&loaded), before);
    assert_eq!(report.ty("Thing").unwrap().values, 4);
    let t = loaded.get::<Thing>().unwrap();
    let (limit, mode, inner) = (t.limit, t.mode, t.inner);
    assert_eq!(
        (limit, mode, inner),
        (Some(9), Mode::Run(10), Inner { a: 9, b: 0.5 })
    );
}
