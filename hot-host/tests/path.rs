//! Paths into the live state: reading one value with `get`, replacing one with `set`, and the
//! errors that say what is there when a path or a value does not fit.
#![allow(missing_debug_implementations, dead_code)]

use std::cell::Cell;

use coo_runtime::{CooType, Handle, Pool, State};
use hot_host::state_io::from_json::{ValueError, ValueErrorKind};
use hot_host::state_io::path::{self, Found, PathError};
use hot_host::state_io::show::{resource_json, value_json};

thread_local! {
    static DROPS: Cell<usize> = const { Cell::new(0) };
}

fn drops() -> usize {
    DROPS.with(|d| d.get())
}

/// A value whose drops are counted (per test thread).
#[derive(CooType, Debug, Default, PartialEq)]
#[coo(name = "Tracked")]
pub struct Tracked {
    pub id: u32,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
    }
}

#[derive(CooType, Debug, Clone, PartialEq)]
pub struct Vec2 {
    pub x: f32,
    pub y: f32,
}

#[derive(CooType, Debug, Clone, PartialEq)]
pub struct Particle {
    pub pos: Vec2,
    pub mass: f32,
}

#[derive(CooType, Debug, Clone, PartialEq)]
pub enum Phase {
    Idle,
    Running { speed: f32 },
    Moving(f32, f32),
}

#[derive(CooType, Debug, Clone, PartialEq)]
pub struct Stats {
    pub hp: u8,
    pub armor: i16,
}

#[derive(CooType, Debug, Clone, PartialEq)]
pub struct Enemy {
    pub name: String,
    pub stats: Stats,
}

#[derive(CooType, Debug, PartialEq)]
pub struct Unit {
    pub hp: i32,
}

#[derive(CooType, Debug, PartialEq)]
pub struct Pair(pub u8, pub String);

#[derive(CooType)]
pub struct World {
    pub particles: Vec<Particle>,
    pub target: Option<Vec2>,
    pub nothing: Option<Vec2>,
    pub boxed: Box<Vec2>,
    pub units: Pool<Unit>,
    pub leader: Handle<Unit>,
    pub grid: [u8; 3],
    pub name: String,
    pub tracked: Vec<Tracked>,
    pub count: u64,
    pub letter: char,
    pub flag: bool,
    pub huge: u128,
}

#[derive(CooType)]
pub struct Game {
    pub phase: Phase,
    pub enemies: Vec<Enemy>,
}

fn p(x: f32, y: f32, mass: f32) -> Particle {
    Particle {
        pos: Vec2 { x, y },
        mass,
    }
}

fn state() -> State {
    let mut units = Pool::new();
    units.insert(Unit { hp: 1 });
    let gone = units.insert(Unit { hp: 2 });
    let leader = units.insert(Unit { hp: 3 });
    units.remove(gone).unwrap();
    let mut state = State::new();
    state.insert(World {
        particles: vec![p(1.0, 2.0, 0.5), p(3.0, 4.0, 1.5)],
        target: Some(Vec2 { x: 9.0, y: 8.0 }),
        nothing: None,
        boxed: Box::new(Vec2 { x: 0.5, y: 0.25 }),
        units,
        leader,
        grid: [1, 2, 3],
        name: "world".into(),
        tracked: vec![Tracked { id: 1 }, Tracked { id: 2 }, Tracked { id: 3 }],
        count: 7,
        letter: 'a',
        flag: false,
        huge: 0,
    });
    state.insert(Game {
        phase: Phase::Running { speed: 2.5 },
        enemies: vec![
            Enemy {
                name: "orc".into(),
                stats: Stats { hp: 10, armor: 2 },
            },
            Enemy {
                name: "elf".into(),
                stats: Stats { hp: 20, armor: -1 },
            },
        ],
    });
    state.insert(Pair(7, "seven".into()));
    state.insert(Phase::Moving(1.0, 2.0));
    state
}

fn json(state: &State, p: &str) -> String {
    path::get(state, p)
        .unwrap_or_else(|e| panic!("{p}: {e}"))
        .json()
}

fn world(state: &State) -> &World {
    state.get::<World>().unwrap()
}

// ------------------------------------------------------------------------------------------ get

#[test]
fn get_reaches_resources_fields_elements_variants_and_slots() {
    let state = state();
    let found = path::get(&state, "World").unwrap();
    assert!(matches!(found, Found::Resource(_)));
    assert_eq!(
        found.json(),
        resource_json(state.resource("World").unwrap())
    );
    assert_eq!(
        json(&state, "World.particles[0].pos"),
        r#"{"x":1.0,"y":2.0}"#
    );
    assert_eq!(json(&state, "World.particles[1].pos.x"), "3.0");
    assert_eq!(
        path::get(&state, "World.particles[1].pos.x")
            .unwrap()
            .type_text(),
        "f32"
    );
    assert_eq!(json(&state, "Game.phase"), r#"{"Running":{"speed":2.5}}"#);
    assert_eq!(
        json(&state, "Game.phase.Running"),
        r#"{"Running":{"speed":2.5}}"#
    );
    assert_eq!(json(&state, "Game.phase.Running.speed"), "2.5");
    assert_eq!(
        json(&state, "Game.enemies[1].stats"),
        r#"{"hp":20,"armor":-1}"#
    );
    assert_eq!(json(&state, "Pair.0"), "7");
    assert_eq!(json(&state, "Pair.1"), r#""seven""#);
    assert_eq!(json(&state, "Phase.Moving.1"), "2.0");
    // An option: itself at the end of the path, its payload when the path goes on.
    assert_eq!(json(&state, "World.target"), r#"{"x":9.0,"y":8.0}"#);
    assert_eq!(json(&state, "World.nothing"), "null");
    assert_eq!(json(&state, "World.target.y"), "8.0");
    // A box is seen through.
    assert_eq!(json(&state, "World.boxed.y"), "0.25");
    // Pool slots by index.
    assert_eq!(json(&state, "World.units[2]"), r#"{"hp":3}"#);
    assert_eq!(json(&state, "World.units[2].hp"), "3");
    assert_eq!(json(&state, "World.grid[2]"), "3");
    assert_eq!(
        path::get(&state, " World.particles[ 1 ] ").unwrap().json(),
        r#"{"pos":{"x":3.0,"y":4.0},"mass":1.5}"#,
        "whitespace around the path and inside brackets is fine"
    );
    let pretty = path::get(&state, "Game.enemies[0]").unwrap().pretty();
    assert!(
        pretty.starts_with("Enemy {\n    name: \"orc\","),
        "{pretty}"
    );
    let view = match path::get(&state, "World.leader").unwrap() {
        Found::Value(view) => view,
        Found::Resource(_) => panic!("a field is a value"),
    };
    assert_eq!(
        value_json(view),
        r#"{"handle":"Unit","index":2,"generation":0}"#
    );
}

#[test]
fn path_errors_name_the_prefix_that_failed_and_what_is_there() {
    let state = state();
    let err = |p: &str| path::get(&state, p).expect_err(p);

    let e = err("World.nope");
    assert!(
        matches!(&e, PathError::NoField { prefix, ty, field, fields }
            if prefix.to_string() == "World" && ty == "World" && field == "nope"
                && fields.contains(&"particles".to_owned())),
        "{e}"
    );
    assert!(e.to_string().contains("`particles`"), "{e}");

    let e = err("World.particles[5].pos");
    assert!(
        matches!(&e, PathError::OutOfRange { prefix, index: 5, len: 2 }
            if prefix.to_string() == "World.particles"),
        "{e}"
    );
    assert!(e.to_string().contains("has 2 elements"), "{e}");

    let e = err("Game.phase.Idle");
    assert!(
        matches!(&e, PathError::NotThatVariant { prefix, wanted, current, .. }
            if prefix.to_string() == "Game.phase" && wanted == "Idle" && current == "Running"),
        "{e}"
    );
    assert!(e.to_string().contains("`Running`"), "{e}");

    let e = err("Game.phase.speed");
    assert!(
        matches!(&e, PathError::NoVariant { name, current, .. }
            if name == "speed" && current == "Running"),
        "{e}"
    );
    assert!(e.to_string().contains("Game.phase.Running.<field>"), "{e}");

    let e = err("Game.phase.Running.accel");
    assert!(
        matches!(&e, PathError::NoField { prefix, ty, fields, .. }
            if prefix.to_string() == "Game.phase.Running" && ty == "Phase::Running"
                && fields == &["speed"]),
        "{e}"
    );

    let e = err("World.nothing.x");
    assert!(
        matches!(&e, PathError::IsNone { prefix } if prefix.to_string() == "World.nothing"),
        "{e}"
    );

    let e = err("World.units[1]");
    assert!(
        matches!(
            &e,
            PathError::VacantSlot {
                index: 1,
                generation: 1,
                ..
            }
        ),
        "{e}"
    );
    let e = err("World.units[3]");
    assert!(
        matches!(
            &e,
            PathError::NoSlot {
                index: 3,
                slots: 3,
                ..
            }
        ),
        "{e}"
    );

    let e = err("World.count.x");
    assert!(
        matches!(&e, PathError::Cannot { prefix, ty, step, .. }
            if prefix.to_string() == "World.count" && ty == "u64" && step == ".x"),
        "{e}"
    );
    let e = err("World.particles.x");
    assert!(
        matches!(&e, PathError::Cannot { prefix, ty, step, has }
            if prefix.to_string() == "World.particles" && ty == "Vec<Particle>" && step == ".x"
                && has == "has elements, not fields (use `[i]`)"),
        "{e}"
    );
    let e = err("World[0]");
    assert!(
        matches!(&e, PathError::Cannot { prefix, ty, step, has }
            if prefix.to_string() == "World" && ty == "World" && step == "[0]"
                && has == "has fields, not elements (use `.field`)"),
        "{e}"
    );

    let e = err("Nope.x");
    assert!(
        matches!(&e, PathError::NoResource { name, resources }
            if name == "Nope" && resources.contains(&"World".to_owned())),
        "{e}"
    );

    // A bare word in brackets is a string key, which a struct has none of.
    let e = err("World[x]");
    assert!(
        matches!(&e, PathError::Cannot { prefix, step, .. }
            if prefix.to_string() == "World" && step == "[\"x\"]"),
        "{e}"
    );
    for bad in ["", "World.", "World[x y]", "World..a", "World[1", "World]"] {
        assert!(
            matches!(path::get(&state, bad), Err(PathError::Syntax { .. })),
            "{bad:?}"
        );
    }
}

// ------------------------------------------------------------------------------------------ set

fn set(state: &mut State, p: &str, value: &str) {
    path::set(state, p, value).unwrap_or_else(|e| panic!("set {p} {value}: {e}"));
}

#[test]
fn set_writes_primitives_exactly() {
    let mut state = state();
    set(&mut state, "World.particles[0].pos.x", "5");
    set(&mut state, "World.particles[0].pos.y", "0.1");
    set(&mut state, "World.count", "18446744073709551615");
    set(
        &mut state,
        "World.huge",
        "340282366920938463463374607431768211455",
    );
    set(&mut state, "World.letter", r#""é""#);
    set(&mut state, "World.flag", "true");
    set(&mut state, "World.grid[1]", "2e1");
    set(&mut state, "Game.enemies[1].stats.armor", "-300");
    let w = world(&state);
    assert_eq!(w.particles[0].pos, Vec2 { x: 5.0, y: 0.1 });
    assert_eq!(w.count, u64::MAX);
    assert_eq!(w.huge, u128::MAX);
    assert_eq!((w.letter, w.flag, w.grid), ('é', true, [1, 20, 3]));
    assert_eq!(state.get::<Game>().unwrap().enemies[1].stats.armor, -300);
}

#[test]
fn set_takes_a_bare_word_as_a_string() {
    let mut state = state();
    set(&mut state, "World.name", "ada");
    assert_eq!(world(&state).name, "ada");
    set(&mut state, "World.name", r#""with spaces and \"quotes\"""#);
    assert_eq!(world(&state).name, r#"with spaces and "quotes""#);
    set(&mut state, "Game.phase", "Idle");
    assert_eq!(state.get::<Game>().unwrap().phase, Phase::Idle);
    // Not a bare word: JSON that does not parse is an error.
    assert!(matches!(
        path::set(&mut state, "World.name", "two words"),
        Err(PathError::Json(_))
    ));
    assert!(matches!(
        path::set(&mut state, "World.name", r#"{"a":1"#),
        Err(PathError::Json(_))
    ));
}

#[test]
fn set_replaces_whole_values_from_json() {
    let mut state = state();
    set(
        &mut state,
        "World.particles[1]",
        r#"{"pos":{"x":0,"y":-1},"mass":2.5}"#,
    );
    assert_eq!(world(&state).particles[1], p(0.0, -1.0, 2.5));
    set(&mut state, "Game.phase", r#"{"Moving":[1,2]}"#);
    assert_eq!(state.get::<Game>().unwrap().phase, Phase::Moving(1.0, 2.0));
    set(&mut state, "Game.phase", r#"{"Running":{"speed":3}}"#);
    set(&mut state, "Game.phase.Running.speed", "4");
    assert_eq!(
        state.get::<Game>().unwrap().phase,
        Phase::Running { speed: 4.0 }
    );
    // A path that ends at the current variant sets the variant's fields.
    set(&mut state, "Game.phase.Running", r#"{"speed":9}"#);
    assert_eq!(
        state.get::<Game>().unwrap().phase,
        Phase::Running { speed: 9.0 }
    );
    set(&mut state, "World.target", "null");
    assert_eq!(world(&state).target, None);
    set(&mut state, "World.nothing", r#"{"x":1,"y":2}"#);
    assert_eq!(world(&state).nothing, Some(Vec2 { x: 1.0, y: 2.0 }));
    set(&mut state, "World.boxed", r#"{"x":7,"y":7}"#);
    assert_eq!(*world(&state).boxed, Vec2 { x: 7.0, y: 7.0 });
    set(&mut state, "World.units[2].hp", "33");
    let w = world(&state);
    assert_eq!(w.units[w.leader].hp, 33);
    set(&mut state, "Pair", r#"[1,"one"]"#);
    assert_eq!(state.get::<Pair>(), Some(&Pair(1, "one".into())));
    set(&mut state, "Phase", "Idle");
    assert_eq!(state.get::<Phase>(), Some(&Phase::Idle));

    // A whole resource.
    let start = drops();
    set(
        &mut state,
        "World",
        r#"{"particles":[],"target":null,"nothing":null,"boxed":{"x":0,"y":0},
            "units":[{"index":4,"generation":2,"value":{"hp":5}}],
            "leader":{"handle":"Unit","index":4,"generation":2},
            "grid":[0,0,0],"name":"new","tracked":[{"id":9}],"count":0,"letter":"z",
            "flag":true,"huge":1}"#,
    );
    assert_eq!(
        drops() - start,
        3,
        "the old world's three `Tracked` were dropped"
    );
    let w = world(&state);
    assert_eq!(w.units[w.leader].hp, 5);
    assert_eq!(w.units.len(), 1);
    assert_eq!(w.tracked, vec![Tracked { id: 9 }]);
}

#[test]
fn set_drops_the_old_value_once_and_keeps_the_new_one() {
    let mut state = state();
    let ids = |state: &State| {
        world(state)
            .tracked
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>()
    };
    let start = drops();
    set(&mut state, "World.tracked", r#"[{"id":5},{"id":6}]"#);
    assert_eq!(drops() - start, 3);
    assert_eq!(ids(&state), [5, 6]);
    set(&mut state, "World.tracked[1]", r#"{"id":7}"#);
    assert_eq!(drops() - start, 4);
    assert_eq!(ids(&state), [5, 7]);
    drop(state);
    assert_eq!(drops() - start, 6);
}

#[test]
fn a_failed_set_leaves_the_old_value_and_says_why() {
    let mut state = state();
    let before = hot_host::state_io::show::state_json(&state);
    let start = drops();
    let fail = |state: &mut State, p: &str, value: &str| match path::set(state, p, value) {
        Err(PathError::Value(e)) => e,
        other => panic!("set {p} {value}: expected a build error, got {other:?}"),
    };

    // A whole struct must give every field, by its name, and nothing else.
    let e = fail(&mut state, "World.particles[0]", r#"{"pos":{"x":1,"y":2}}"#);
    assert!(
        matches!(&e, ValueError { kind: ValueErrorKind::FieldNotGiven { ty, field, .. }, path }
            if path.to_string() == "World.particles[0]" && ty == "Particle" && field == "mass"),
        "{e}"
    );
    let e = fail(
        &mut state,
        "World.particles[0]",
        r#"{"pos":{"x":1,"y":2},"mass":1,"spin":3}"#,
    );
    assert!(
        matches!(&e, ValueError { kind: ValueErrorKind::UnknownField { field, fields, .. }, .. }
            if field == "spin" && fields == &["pos", "mass"]),
        "{e}"
    );
    assert!(e.to_string().contains("`pos`, `mass`"), "{e}");

    // Numbers must fit exactly.
    let e = fail(&mut state, "World.count", "-1");
    assert!(
        matches!(&e, ValueError { kind: ValueErrorKind::DoesNotFit { value, .. }, path }
            if path.to_string() == "World.count" && value == "-1"),
        "{e}"
    );
    let e = fail(&mut state, "World.count", "1.5");
    assert!(
        matches!(
            &e,
            ValueError {
                kind: ValueErrorKind::NotIntegral { .. },
                ..
            }
        ),
        "{e}"
    );
    let e = fail(&mut state, "World.particles[0].mass", "16777217");
    assert!(
        matches!(
            &e,
            ValueError {
                kind: ValueErrorKind::NotExact { .. },
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("16777217.0"), "{e}");
    let e = fail(
        &mut state,
        "Game.enemies[0]",
        r#"{"name":"troll","stats":{"hp":300,"armor":1}}"#,
    );
    assert!(
        matches!(&e, ValueError { kind: ValueErrorKind::DoesNotFit { value, ty: coo_runtime::Prim::U8 }, path }
            if path.to_string() == "Game.enemies[0].stats.hp" && value == "300"),
        "{e}"
    );

    // Types, variants and lengths.
    let e = fail(&mut state, "World.name", "12");
    assert!(
        matches!(&e, ValueError { kind: ValueErrorKind::Expected { found, .. }, .. } if found == "the number 12"),
        "{e}"
    );
    let e = fail(&mut state, "Game.phase", "Sleeping");
    assert!(
        matches!(&e, ValueError { kind: ValueErrorKind::UnknownVariant { variant, variants, .. }, .. }
            if variant == "Sleeping" && variants == &["Idle", "Running", "Moving"]),
        "{e}"
    );
    let e = fail(&mut state, "World.grid", "[1,2]");
    assert!(
        matches!(
            &e,
            ValueError {
                kind: ValueErrorKind::ArrayTooShort {
                    len: 3,
                    found: 2,
                    ..
                },
                ..
            }
        ),
        "{e}"
    );
    let e = fail(&mut state, "World.letter", r#""ab""#);
    assert!(
        matches!(
            &e,
            ValueError {
                kind: ValueErrorKind::NotAChar { .. },
                ..
            }
        ),
        "{e}"
    );
    let e = fail(
        &mut state,
        "World.leader",
        r#"{"handle":"Enemy","index":0,"generation":0}"#,
    );
    assert!(
        matches!(
            &e,
            ValueError {
                kind: ValueErrorKind::HandleTarget { .. },
                ..
            }
        ),
        "{e}"
    );

    // A value that fails halfway: what was built is dropped, the old value stays.
    let e = fail(&mut state, "World.tracked", r#"[{"id":5},{"id":-1}]"#);
    assert_eq!(e.path.to_string(), "World.tracked[1].id");
    assert_eq!(
        drops() - start,
        1,
        "only the new `Tracked` built before the error"
    );

    // Errors below a variant name it once.
    let e = fail(&mut state, "Game.phase.Running", r#"{"speed":"fast"}"#);
    assert_eq!(e.path.to_string(), "Game.phase.Running.speed");

    // A path error leaves everything as well.
    assert!(matches!(
        path::set(&mut state, "Game.phase.Idle", "null"),
        Err(PathError::NotThatVariant { .. })
    ));

    assert_eq!(hot_host::state_io::show::state_json(&state), before);
    assert_eq!(
        world(&state).tracked,
        vec![Tracked { id: 1 }, Tracked { id: 2 }, Tracked { id: 3 }]
    );
}
