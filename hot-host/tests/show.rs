//! `state --json` prints exactly what serde_json prints for `#[derive(Serialize)]` of the same
//! types; `state` prints what `{:#?}` prints; handles and pools, which serde has no counterpart
//! for, are checked against literal expected output.
#![allow(missing_debug_implementations)]
// `Box<String>` and `Box<Vec<_>>` are here on purpose: a `Box` of any shape must print.
#![allow(clippy::box_collection)]

use std::collections::BTreeMap;

use coo_runtime::{CooType, FieldView, Handle, Pool, State};
use hot_host::state_io::show::{
    PRETTY_MAX_ELEMENTS, resource_json, resource_pretty, state_json, state_pretty, value_json,
    value_pretty,
};
use serde::Serialize;

#[derive(CooType, Serialize, Debug, Clone, PartialEq)]
pub struct Scalars {
    yes: bool,
    no: bool,
    letter: char,
    quote: char,
    newline: char,
    control: char,
    crab: char,
    i8s: [i8; 3],
    i16s: [i16; 3],
    i32s: [i32; 3],
    i64s: [i64; 3],
    i128s: [i128; 3],
    isizes: [isize; 3],
    u8s: [u8; 2],
    u16s: [u16; 2],
    u32s: [u32; 2],
    u64s: [u64; 2],
    u128s: [u128; 3],
    usizes: [usize; 2],
}

#[derive(CooType, Serialize, Debug)]
pub struct Floats {
    f64s: Vec<f64>,
    f32s: Vec<f32>,
}

#[derive(CooType, Serialize, Debug)]
pub struct Strings {
    all: Vec<String>,
    char_escapes: Vec<char>,
}

#[derive(CooType, Serialize, Debug, Clone, PartialEq)]
pub struct Vec2 {
    x: f32,
    y: f32,
}

#[derive(CooType, Serialize, Debug)]
pub struct Enemy {
    hp: u32,
    name: String,
}

/// A newtype: serde prints the inner value.
#[derive(CooType, Serialize, Debug)]
pub struct Meters(f64);

#[derive(CooType, Serialize, Debug)]
pub struct Pair(u8, String);

#[derive(CooType, Serialize, Debug)]
pub struct Marker;

#[derive(CooType, Serialize, Debug)]
pub struct NoFields {}

#[derive(CooType, Serialize, Debug)]
pub struct NoTupleFields();

#[derive(CooType, Serialize, Debug)]
pub enum Mode {
    Idle,
    Named(String),
    Moving(f32, f32),
    Frozen { reason: String },
    Nested(Option<Box<Mode>>),
    NoTupleFields(),
    NoFields {},
}

#[derive(CooType, Serialize, Debug)]
pub struct World {
    pos: Vec2,
    meters: Meters,
    pair: Pair,
    marker: Marker,
    no_fields: NoFields,
    no_tuple_fields: NoTupleFields,
    modes: Vec<Mode>,
    some: Option<u32>,
    none: Option<String>,
    some_none: Option<Option<u8>>,
    boxed: Box<Vec2>,
    boxed_str: Box<String>,
    boxed_vec: Box<Vec<i16>>,
    grid: [[u8; 2]; 3],
    crowd: Vec<Option<Box<Enemy>>>,
    empty: Vec<u32>,
    nothing: [u32; 0],
    r#type: u8,
}

/// A type under another stable name: the JSON key is that name.
#[derive(CooType, Serialize, Debug)]
#[coo(name = "game::Score")]
pub struct Score {
    points: u64,
}

fn scalars() -> Scalars {
    Scalars {
        yes: true,
        no: false,
        letter: 'a',
        quote: '"',
        newline: '\n',
        control: '\u{1}',
        crab: '🦀',
        i8s: [i8::MIN, -1, i8::MAX],
        i16s: [i16::MIN, 0, i16::MAX],
        i32s: [i32::MIN, 42, i32::MAX],
        i64s: [i64::MIN, -7, i64::MAX],
        i128s: [i128::MIN, 0, i128::MAX],
        isizes: [isize::MIN, 3, isize::MAX],
        u8s: [0, u8::MAX],
        u16s: [1, u16::MAX],
        u32s: [2, u32::MAX],
        u64s: [3, u64::MAX],
        u128s: [0, i128::MAX as u128 + 1, u128::MAX],
        usizes: [4, usize::MAX],
    }
}

fn floats() -> Floats {
    Floats {
        f64s: vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.1,
            0.3,
            2.5e-3,
            1e-5,
            1.5e-5,
            9.99e-6,
            1e-4,
            1e-7,
            1e15,
            9_007_199_254_740_993.0,
            1e16,
            1e20,
            1.25e21,
            123_456.789,
            core::f64::consts::PI,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ],
        f32s: vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            1.0 / 3.0,
            1e-6,
            1e-7,
            1e12,
            1e13,
            16_777_217.0,
            1e20,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            1e-45,
            f32::NAN,
            f32::NEG_INFINITY,
        ],
    }
}

fn strings() -> Strings {
    Strings {
        all: vec![
            String::new(),
            "plain".into(),
            r#"quote " backslash \ slash / apostrophe '"#.into(),
            "line\nbreak\ttab\rreturn\u{8}backspace\u{c}formfeed".into(),
            "\0nul \u{1}\u{1f} unit-sep \u{7f} delete \u{80} \u{9f}".into(),
            "unicode é 日本 🦀 \u{2028}\u{2029} \u{feff}".into(),
            "\u{1b}[31mred\u{1b}[0m".into(),
        ],
        char_escapes: vec!['\\', '\t', '\0', '\u{1f}', '\u{7f}', 'é', '\''],
    }
}

fn world() -> World {
    World {
        pos: Vec2 { x: 1.5, y: -0.25 },
        meters: Meters(0.1),
        pair: Pair(7, "seven".into()),
        marker: Marker,
        no_fields: NoFields {},
        no_tuple_fields: NoTupleFields(),
        modes: vec![
            Mode::Idle,
            Mode::Named("audit".into()),
            Mode::Moving(1.0, 2.0),
            Mode::Frozen {
                reason: "au\"dit".into(),
            },
            Mode::Nested(Some(Box::new(Mode::Moving(0.5, -0.5)))),
            Mode::Nested(None),
            Mode::NoTupleFields(),
            Mode::NoFields {},
        ],
        some: Some(3),
        none: None,
        some_none: Some(None),
        boxed: Box::new(Vec2 { x: 0.0, y: 1e20 }),
        boxed_str: Box::new("boxed\n".into()),
        boxed_vec: Box::new(vec![-1, 0, 1]),
        grid: [[1, 2], [3, 4], [5, 6]],
        crowd: vec![
            Some(Box::new(Enemy {
                hp: 10,
                name: "orc".into(),
            })),
            None,
            Some(Box::new(Enemy {
                hp: 0,
                name: String::new(),
            })),
        ],
        empty: Vec::new(),
        nothing: [],
        r#type: 9,
    }
}

/// Every test resource, borrowed from the state, for serde: serialized untagged, each is its
/// value alone.
#[derive(Serialize)]
#[serde(untagged)]
enum Any<'a> {
    Scalars(&'a Scalars),
    Floats(&'a Floats),
    Strings(&'a Strings),
    World(&'a World),
    Meters(&'a Meters),
    Pair(&'a Pair),
    Marker(&'a Marker),
    NoFields(&'a NoFields),
    NoTupleFields(&'a NoTupleFields),
    Mode(&'a Mode),
    Score(&'a Score),
}

fn rich_state() -> State {
    let mut state = State::new();
    state.insert(scalars());
    state.insert(floats());
    state.insert(strings());
    state.insert(world());
    state.insert(Meters(-2.5));
    state.insert(Pair(0, "zero".into()));
    state.insert(Marker);
    state.insert(NoFields {});
    state.insert(NoTupleFields());
    state.insert(Mode::Frozen {
        reason: "audit".into(),
    });
    state.insert(Score { points: 12 });
    state
}

/// The state's values as serde sees them, keyed by type name in a map ordered as the state is.
fn serde_view(state: &State) -> BTreeMap<&'static str, Any<'_>> {
    let mut map = BTreeMap::new();
    let mut add = |name, value| assert!(map.insert(name, value).is_none());
    add("Scalars", Any::Scalars(state.get().unwrap()));
    add("Floats", Any::Floats(state.get().unwrap()));
    add("Strings", Any::Strings(state.get().unwrap()));
    add("World", Any::World(state.get().unwrap()));
    add("Meters", Any::Meters(state.get().unwrap()));
    add("Pair", Any::Pair(state.get().unwrap()));
    add("Marker", Any::Marker(state.get().unwrap()));
    add("NoFields", Any::NoFields(state.get().unwrap()));
    add("NoTupleFields", Any::NoTupleFields(state.get().unwrap()));
    add("Mode", Any::Mode(state.get().unwrap()));
    add("game::Score", Any::Score(state.get().unwrap()));
    assert_eq!(map.len(), state.len());
    map
}

#[test]
fn state_json_is_serde_json_of_the_same_values() {
    let state = rich_state();
    let ours = state_json(&state);
    let theirs = serde_json::to_string(&serde_view(&state)).unwrap();
    assert_eq!(ours, theirs);
    assert!(!ours.contains('\n'), "one line: {ours}");
    let parsed: serde_json::Value = serde_json::from_str(&ours).unwrap();
    assert_eq!(parsed["Mode"]["Frozen"]["reason"], "audit");
    assert_eq!(parsed["World"]["type"], 9);
    assert_eq!(parsed["Marker"], serde_json::Value::Null);
}

#[test]
fn json_spells_things_as_serde_does() {
    let state = rich_state();
    let json = state_json(&state);
    for expected in [
        r#""Marker":null"#,
        r#""Meters":-2.5"#,
        r#""Pair":[0,"zero"]"#,
        r#""NoFields":{}"#,
        r#""NoTupleFields":[]"#,
        r#""modes":["Idle",{"Named":"audit"},{"Moving":[1.0,2.0]},{"Frozen":{"reason":"au\"dit"}},{"Nested":{"Moving":[0.5,-0.5]}},{"Nested":null},{"NoTupleFields":[]},{"NoFields":{}}]"#,
        r#""some":3,"none":null,"some_none":null"#,
        r#""boxed":{"x":0.0,"y":1e+20},"boxed_str":"boxed\n","boxed_vec":[-1,0,1]"#,
        r#""crowd":[{"hp":10,"name":"orc"},null,{"hp":0,"name":""}]"#,
        r#""u128s":[0,170141183460469231731687303715884105728,340282366920938463463374607431768211455]"#,
        r#""i128s":[-170141183460469231731687303715884105728,0,170141183460469231731687303715884105727]"#,
        "\"\\u0000nul \\u0001\\u001f unit-sep \u{7f} delete \u{80} \u{9f}\"",
        r#""game::Score":{"points":12}"#,
    ] {
        assert!(json.contains(expected), "{expected}\nnot in\n{json}");
    }
}

/// Floats as serde_json prints them, for many values of both widths: read at their own width
/// through the view (an `f32` `0.1` stays `0.1`), subnormals, powers of ten around the switch to
/// exponential notation, NaNs and infinities.
#[test]
fn floats_match_serde_json_over_many_values() {
    let mut f64s = Vec::new();
    let mut f32s = Vec::new();
    for exponent in -330..=310 {
        let power: f64 = format!("1e{exponent}").parse().unwrap();
        f64s.extend([power, power.next_up(), power.next_down(), -power * 1.5]);
        let power: f32 = format!("1e{exponent}").parse().unwrap();
        f32s.extend([power, power.next_up(), power.next_down(), -power * 1.5]);
    }
    // xorshift64: random bit patterns, covering subnormals, NaNs and infinities too.
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..100_000 {
        let bits = next();
        f64s.push(f64::from_bits(bits));
        f32s.push(f32::from_bits(bits as u32));
        // Short decimals, the usual kind of value.
        f64s.push((bits % 100_000) as f64 / 1000.0);
        f32s.push((bits % 100_000) as f32 / 1000.0);
    }
    let mut state = State::new();
    state.insert(Floats { f64s, f32s });
    let floats: &Floats = state.get().unwrap();
    let view = state.resource("Floats").unwrap().view();
    for (ours, value) in [
        (
            value_json(view.field("f64s").unwrap()),
            &floats.f64s as &dyn erased::Json,
        ),
        (value_json(view.field("f32s").unwrap()), &floats.f32s),
    ] {
        let theirs = value.json();
        if ours != theirs {
            let first = ours
                .split(',')
                .zip(theirs.split(','))
                .find(|(a, b)| a != b)
                .unwrap();
            panic!("first difference: ours {} theirs {}", first.0, first.1);
        }
    }
}

mod erased {
    /// serde_json of values of different types, side by side.
    pub trait Json {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

#[test]
fn value_json_prints_one_value() {
    let state = rich_state();
    let world: &World = state.get().unwrap();
    let view = state.resource("World").unwrap().view();
    let field = |name| view.field(name).unwrap();
    let json = |value: &dyn erased::Json| value.json();
    assert_eq!(value_json(field("pos")), json(&world.pos));
    assert_eq!(value_json(field("modes")), json(&world.modes));
    assert_eq!(value_json(field("crowd")), json(&world.crowd));
    assert_eq!(value_json(field("boxed")), json(&world.boxed));
    let second: FieldView<'_> = field("grid").elements().unwrap()[1];
    assert_eq!(value_json(second), "[3,4]");
    assert_eq!(
        resource_json(state.resource("Mode").unwrap()),
        r#"{"Frozen":{"reason":"audit"}}"#
    );
    assert_eq!(resource_json(state.resource("Marker").unwrap()), "null");
}

#[derive(CooType)]
pub struct Arena {
    enemies: Pool<Enemy>,
    target: Handle<Enemy>,
    targets: Vec<Option<Handle<Enemy>>>,
    nobody: Pool<Enemy>,
}

fn arena() -> Arena {
    let mut enemies = Pool::new();
    let orc = enemies.insert(Enemy {
        hp: 10,
        name: "orc".into(),
    });
    let gone = enemies.insert(Enemy {
        hp: 1,
        name: "imp".into(),
    });
    let troll = enemies.insert(Enemy {
        hp: 30,
        name: "troll".into(),
    });
    enemies.remove(gone).unwrap();
    let bat = enemies.insert(Enemy {
        hp: 2,
        name: "bat".into(),
    });
    assert_eq!((bat.index(), bat.generation()), (1, 1));
    Arena {
        enemies,
        target: troll,
        targets: vec![Some(orc), None, Some(gone)],
        nobody: Pool::new(),
    }
}

#[test]
fn json_of_handles_and_pools() {
    let mut state = State::new();
    state.insert(arena());
    let json = state_json(&state);
    assert_eq!(
        json,
        concat!(
            r#"{"Arena":{"#,
            r#""enemies":[{"index":0,"generation":0,"value":{"hp":10,"name":"orc"}},"#,
            r#"{"index":1,"generation":1,"value":{"hp":2,"name":"bat"}},"#,
            r#"{"index":2,"generation":0,"value":{"hp":30,"name":"troll"}}],"#,
            r#""target":{"handle":"Enemy","index":2,"generation":0},"#,
            r#""targets":[{"handle":"Enemy","index":0,"generation":0},null,"#,
            r#"{"handle":"Enemy","index":1,"generation":0}],"#,
            r#""nobody":[]}}"#,
        )
    );
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["Arena"]["enemies"][1]["value"]["name"], "bat");
    // A handle read back from its JSON finds the value it named.
    let target = &parsed["Arena"]["target"];
    let handle = Handle::<Enemy>::from_raw(
        target["index"].as_u64().unwrap() as u32,
        target["generation"].as_u64().unwrap() as u32,
    );
    assert_eq!(state.get::<Arena>().unwrap().enemies[handle].name, "troll");
}

#[test]
fn pretty_is_debug_alternate_of_the_same_values() {
    let state = rich_state();
    let pretty = state_pretty(&state);
    let mut expected = String::new();
    for (name, value) in serde_view(&state) {
        let debug = match value {
            Any::Scalars(v) => format!("{v:#?}"),
            Any::Floats(v) => format!("{v:#?}"),
            Any::Strings(v) => format!("{v:#?}"),
            Any::World(v) => format!("{v:#?}"),
            Any::Meters(v) => format!("{v:#?}"),
            Any::Pair(v) => format!("{v:#?}"),
            Any::Marker(v) => format!("{v:#?}"),
            Any::NoFields(v) => format!("{v:#?}"),
            Any::NoTupleFields(v) => format!("{v:#?}"),
            // An enum resource is prefixed with its type.
            Any::Mode(v) => format!("Mode::{v:#?}"),
            // Printed under its stable name, not its Rust name.
            Any::Score(v) => format!("{v:#?}").replacen("Score", name, 1),
        };
        expected.push_str(&debug);
        expected.push('\n');
    }
    assert_eq!(pretty, expected);
}

#[test]
fn pretty_of_handles_pools_and_long_vecs() {
    #[derive(CooType)]
    pub struct Log {
        lines: Vec<u16>,
        exactly: [u8; PRETTY_MAX_ELEMENTS],
        empty: Vec<Mode>,
        title: Option<Box<String>>,
    }

    let mut state = State::new();
    state.insert(arena());
    state.insert(Log {
        lines: (0..70).collect(),
        exactly: [7; PRETTY_MAX_ELEMENTS],
        empty: Vec::new(),
        title: Some(Box::new("the \"log\"\n".into())),
    });
    state.insert(Mode::Moving(0.5, -1.0));
    state.insert(Marker);
    let pretty = state_pretty(&state);

    let lines: String = (0..64).map(|i| format!("        {i},\n")).collect();
    let exactly = "        7,\n".repeat(64);
    let expected = format!(
        r#"Arena {{
    enemies: Pool<Enemy> {{
        0v0: Enemy {{
            hp: 10,
            name: "orc",
        }},
        1v1: Enemy {{
            hp: 2,
            name: "bat",
        }},
        2v0: Enemy {{
            hp: 30,
            name: "troll",
        }},
    }},
    target: Handle<Enemy>(2v0),
    targets: [
        Some(
            Handle<Enemy>(0v0),
        ),
        None,
        Some(
            Handle<Enemy>(1v0),
        ),
    ],
    nobody: Pool<Enemy> {{}},
}}
Log {{
    lines: [
{lines}        ... (6 more)
    ],
    exactly: [
{exactly}    ],
    empty: [],
    title: Some(
        "the \"log\"\n",
    ),
}}
Marker
Mode::Moving(
    0.5,
    -1.0,
)
"#
    );
    assert_eq!(pretty, expected);

    let arena = state.resource("Arena").unwrap();
    assert!(resource_pretty(arena).starts_with("Arena {\n    enemies: Pool<Enemy> {\n"));
    let target = arena.view().field("target").unwrap();
    assert_eq!(value_pretty(target), "Handle<Enemy>(2v0)");
    let title = state
        .resource("Log")
        .unwrap()
        .view()
        .field("title")
        .unwrap();
    assert_eq!(value_pretty(title), "Some(\n    \"the \\\"log\\\"\\n\",\n)");
}

/// 65 fields, one more than the pretty rendering shows of a `Vec`.
macro_rules! wide {
    ($($field:ident)*) => {
        #[derive(CooType, Default)]
        pub struct Wide {
            $($field: u8,)*
            pool: Pool<Enemy>,
        }
    };
}
wide!(f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 f12 f13 f14 f15 f16 f17 f18 f19 f20 f21 f22 f23 f24 f25 f26 f27 f28 f29 f30 f31 f32 f33 f34 f35 f36 f37 f38 f39 f40 f41 f42 f43 f44 f45 f46 f47 f48 f49 f50 f51 f52 f53 f54 f55 f56 f57 f58 f59 f60 f61 f62 f63 f64);

#[test]
fn pretty_shows_every_field_but_not_every_pool_entry() {
    let mut wide = Wide::default();
    for hp in 0..66 {
        wide.pool.insert(Enemy {
            hp,
            name: String::new(),
        });
    }
    let mut state = State::new();
    state.insert(wide);
    let pretty = state_pretty(&state);
    assert!(pretty.contains("\n    f64: 0,\n    pool: Pool<Enemy> {\n        0v0: Enemy {\n"));
    assert!(pretty.ends_with(concat!(
        "        63v0: Enemy {\n",
        "            hp: 63,\n",
        "            name: \"\",\n",
        "        },\n",
        "        ... (2 more)\n",
        "    },\n",
        "}\n",
    )));
    // JSON always prints everything.
    let json: serde_json::Value = serde_json::from_str(&state_json(&state)).unwrap();
    assert_eq!(json["Wide"]["pool"].as_array().unwrap().len(), 66);
}

#[test]
fn empty_state() {
    let state = State::new();
    assert_eq!(state_json(&state), "{}");
    assert_eq!(state_pretty(&state), "");
}
