//! Snapshots: saved under one version of the types, loaded under the same or a later one (modules
//! `v1`, `v2`, … sharing stable names through `#[coo(name)]`), migrating by name as a reload does.
#![allow(missing_debug_implementations, dead_code)]

use coo_runtime::migration::casts::InexactCast;
use std::cell::Cell;

use coo_runtime::{Catalog, CooType, Handle, Pool, StaleHandle, State, TypeDesc};
use hot_host::state_io::from_json::{ValueError, ValueErrorKind};
use hot_host::state_io::show::state_json;
use hot_host::state_io::snapshot::{self, SnapshotError};

// ------------------------------------------------------------------ counting drops and memory

thread_local! {
    static DROPS: Cell<usize> = const { Cell::new(0) };
}

fn drops() -> usize {
    DROPS.with(|d| d.get())
}

#[path = "support/live_bytes.rs"]
mod live_bytes;
use live_bytes::live_bytes;

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

/// Values at the edges of their types, which must come back bit for bit.
#[derive(CooType, Debug, Clone, PartialEq)]
#[coo(name = "Extremes")]
pub struct Extremes {
    pub u: u128,
    pub i: i128,
    pub f: f32,
    pub d: f64,
    pub neg_zero: f64,
    pub tiny: f32,
    pub huge: f64,
    pub nan: f32,
    pub c: char,
    pub s: String,
    pub yes: bool,
}

fn extremes() -> Extremes {
    Extremes {
        u: u128::MAX,
        i: i128::MIN,
        f: 0.1,
        d: 0.1 + 0.2,
        neg_zero: -0.0,
        tiny: f32::from_bits(1),
        huge: f64::MAX,
        nan: f32::NAN,
        c: '🦀',
        s: "quote \" backslash \\ newline \n control \u{1} é".into(),
        yes: true,
    }
}

fn catalog(descs: &[&'static TypeDesc]) -> Catalog {
    Catalog::from_descs(descs.iter().copied()).expect("no duplicate names")
}

fn build_error(err: SnapshotError) -> ValueError {
    match err {
        SnapshotError::Value(e) => e,
        other => panic!("expected a build error, got {other}"),
    }
}

// ----------------------------------------------------------------------------------- versions

pub mod v1 {
    use super::*;

    #[derive(CooType, Debug, Clone, PartialEq)]
    #[coo(name = "Vec2")]
    pub struct Vec2 {
        pub x: f32,
        pub y: f32,
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Particle")]
    pub struct Particle {
        pub pos: Vec2,
        pub mass: f32,
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Phase")]
    pub enum Phase {
        Idle,
        Running { speed: f32 },
        Paused(u32),
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Unit")]
    pub struct Unit {
        pub hp: i32,
        pub name: String,
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Pair")]
    pub struct Pair(pub u8, pub String);

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Meters")]
    pub struct Meters(pub f64);

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Marker")]
    pub struct Marker;

    #[derive(CooType)]
    #[coo(name = "World")]
    pub struct World {
        pub particles: Vec<Particle>,
        pub phase: Phase,
        pub phases: Vec<Phase>,
        pub score: i32,
        pub legacy: String,
        pub hp: u16,
        pub small: i64,
        pub units: Pool<Unit>,
        pub leader: Handle<Unit>,
        pub stale: Handle<Unit>,
        pub target: Option<Vec2>,
        pub nothing: Option<Vec2>,
        pub boxed: Box<Vec2>,
        pub grid: [u8; 3],
        pub pair: Pair,
        pub meters: Meters,
        pub marker: Marker,
        pub tracked: Vec<Tracked>,
        pub extremes: Extremes,
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Settings")]
    pub struct Settings {
        pub volume: u8,
    }
}

pub mod v2 {
    use super::*;

    #[derive(CooType, Debug, Clone, PartialEq, Default)]
    #[coo(name = "Vec2")]
    pub struct Vec2 {
        pub x: f32,
        pub y: f32,
    }

    /// Gained `vel`, and `mass` widened to `f64`.
    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Particle")]
    pub struct Particle {
        pub pos: Vec2,
        pub vel: Vec2,
        pub mass: f64,
    }

    /// `Running` gained a field, `Paused` became `Halted`, `Stopped` is new.
    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Phase")]
    pub enum Phase {
        Idle,
        Running {
            speed: f32,
            accel: f32,
        },
        #[coo(rename_from = "Paused")]
        Halted(u32),
        Stopped {
            at: u64,
        },
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Unit")]
    pub struct Unit {
        pub hp: i32,
        pub name: String,
    }

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Pair")]
    pub struct Pair(pub u8, pub String);

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Meters")]
    pub struct Meters(pub f64);

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Marker")]
    pub struct Marker;

    #[derive(CooType)]
    #[coo(name = "World")]
    pub struct World {
        pub particles: Vec<Particle>,
        pub phase: Phase,
        pub phases: Vec<Phase>,
        /// Widened from `i32`.
        pub score: i64,
        // `legacy` is gone.
        #[coo(rename_from = "hp")]
        pub health: u16,
        pub small: i64,
        pub units: Pool<Unit>,
        pub leader: Handle<Unit>,
        pub stale: Handle<Unit>,
        pub target: Option<Vec2>,
        pub nothing: Option<Vec2>,
        pub boxed: Box<Vec2>,
        /// Grew from 3 elements.
        pub grid: [u8; 5],
        pub pair: Pair,
        pub meters: Meters,
        pub marker: Marker,
        pub tracked: Vec<Tracked>,
        pub extremes: Extremes,
        #[coo(default = 3)]
        pub lives: u8,
        pub motto: String,
    }

    /// Renamed from `Settings`.
    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Config", rename_from = "Settings")]
    pub struct Config {
        pub volume: u8,
    }
}

/// `small` narrowed to `i8` (after `tracked`, so `tracked` is built before `small` fails).
pub mod v2_narrow {
    pub use super::v1::{Marker, Meters, Pair, Particle, Phase, Unit, Vec2};
    use super::*;

    #[derive(CooType)]
    #[coo(name = "World")]
    pub struct World {
        pub tracked: Vec<Tracked>,
        pub particles: Vec<Particle>,
        pub phase: Phase,
        pub phases: Vec<Phase>,
        pub score: i32,
        pub legacy: String,
        pub hp: u16,
        pub small: i8,
        pub units: Pool<Unit>,
        pub leader: Handle<Unit>,
        pub stale: Handle<Unit>,
        pub target: Option<Vec2>,
        pub nothing: Option<Vec2>,
        pub boxed: Box<Vec2>,
        pub grid: [u8; 3],
        pub pair: Pair,
        pub meters: Meters,
        pub marker: Marker,
        pub extremes: Extremes,
    }
}

/// A new field whose type has no `Default`.
pub mod v2_missing {
    use super::*;

    #[derive(CooType)]
    #[coo(name = "NoDefault")]
    pub struct NoDefault {
        pub v: u8,
    }

    #[derive(CooType)]
    #[coo(name = "World")]
    pub struct World {
        pub tracked: Vec<Tracked>,
        pub anchor: NoDefault,
    }
}

/// `wide` widened from `f32` to `f64`, `narrow` narrowed from `f64` to `f32`: floats convert from
/// the type they were saved as.
pub mod v2_floats {
    use super::*;

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Reading")]
    pub struct Reading {
        pub wide: f64,
        pub narrow: f32,
    }
}

pub mod v1_floats {
    use super::*;

    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Reading")]
    pub struct Reading {
        pub wide: f32,
        pub narrow: f64,
    }
}

/// The lookup error of `world_v1`'s stale handle: slot 1, removed at generation 0, is at 1.
const STALE: StaleHandle = StaleHandle {
    index: 1,
    handle: 0,
    current: 1,
};

fn world_v1() -> State {
    let mut units = Pool::new();
    let first = units.insert(v1::Unit {
        hp: 10,
        name: "ada".into(),
    });
    let gone = units.insert(v1::Unit {
        hp: 20,
        name: "bob".into(),
    });
    let leader = units.insert(v1::Unit {
        hp: 30,
        name: "cy".into(),
    });
    let last = units.insert(v1::Unit {
        hp: 40,
        name: "dee".into(),
    });
    units.remove(gone).unwrap();
    units.remove(last).unwrap();
    // Slot 3 again, at generation 1; slot 1 stays vacant at generation 1.
    let _again = units.insert(v1::Unit {
        hp: 41,
        name: "eve".into(),
    });
    let _ = first;
    let mut state = State::new();
    state.insert(v1::World {
        particles: vec![
            v1::Particle {
                pos: v1::Vec2 { x: 1.5, y: -2.0 },
                mass: 0.1,
            },
            v1::Particle {
                pos: v1::Vec2 { x: 3.0, y: 4.25 },
                mass: 2.0,
            },
        ],
        phase: v1::Phase::Running { speed: 2.5 },
        phases: vec![v1::Phase::Idle, v1::Phase::Paused(7)],
        score: -1234,
        legacy: "old".into(),
        hp: 75,
        small: 1000,
        units,
        leader,
        stale: gone,
        target: Some(v1::Vec2 { x: 9.0, y: 8.0 }),
        nothing: None,
        boxed: Box::new(v1::Vec2 { x: 0.5, y: 0.25 }),
        grid: [1, 2, 3],
        pair: v1::Pair(7, "seven".into()),
        meters: v1::Meters(12.5),
        marker: v1::Marker,
        tracked: vec![Tracked { id: 1 }, Tracked { id: 2 }, Tracked { id: 3 }],
        extremes: extremes(),
    });
    state.insert(v1::Settings { volume: 11 });
    state
}

/// [`world_v1`] without its `Settings`, for versions that have no type for it.
fn world_only_v1() -> State {
    let mut state = world_v1();
    state.remove("Settings");
    state
}

fn v1_catalog() -> Catalog {
    catalog(&[v1::World::DESC, v1::Settings::DESC])
}

// ----------------------------------------------------------------------------------- format

#[test]
fn a_snapshot_holds_the_format_version_the_types_and_exactly_state_json() {
    let state = world_v1();
    let text = snapshot::save(&state).expect("the state saves");
    let json: serde_json::Value = serde_json::from_str(&text).expect("a snapshot is JSON");
    assert_eq!(json["coo_snapshot"], 1);
    let world = &json["types"]["World"];
    assert_eq!(world["kind"], "struct");
    assert_eq!(world["style"], "named");
    let fields = world["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["name"] == name).unwrap();
    assert_eq!(field("particles")["type"], "Vec<Particle>");
    assert_eq!(field("units")["type"], "Pool<Unit>");
    assert_eq!(field("leader")["type"], "Handle<Unit>");
    assert_eq!(field("grid")["type"], "[u8; 3]");
    assert_eq!(field("target")["type"], "Option<Vec2>");
    let phase = &json["types"]["Phase"];
    assert_eq!(phase["kind"], "enum");
    assert_eq!(phase["variants"][1]["name"], "Running");
    assert_eq!(phase["variants"][1]["fields"][0]["type"], "f32");
    for nested in [
        "Vec2", "Particle", "Unit", "Pair", "Meters", "Tracked", "Extremes",
    ] {
        assert!(json["types"][nested].is_object(), "{nested} is listed");
    }
    assert_eq!(
        json["vacant_slots"]["World.units"],
        serde_json::json!([[1, 1]])
    );
    // `state` is `state_json` itself, byte for byte.
    let state_text = state_json(&state);
    assert!(
        text.ends_with(&format!(r#","state":{state_text}}}"#)),
        "{text}"
    );
}

// -------------------------------------------------------------------------------- round trip

#[test]
fn save_then_load_under_the_same_types_round_trips_exactly() {
    let state = world_v1();
    let before = state_json(&state);
    let text = snapshot::save(&state).expect("the state saves");
    let (loaded, report) = snapshot::load(&text, &v1_catalog()).expect("loads");
    assert_eq!(state_json(&loaded), before);
    assert!(report.is_exact(), "{report}");
    assert_eq!(report.ty("World").unwrap().values, 1);
    assert_eq!(report.ty("Vec2").unwrap().values, 2 + 1 + 1);
    assert_eq!(report.ty("Unit").unwrap().values, 3);
    // Bit for bit, including what JSON cannot tell apart by eye: `-0.0`, the smallest subnormal,
    // NaN, the extremes of 128-bit integers.
    let world = loaded.get::<v1::World>().expect("a v1 World");
    assert_eq!(world.extremes.u, u128::MAX);
    assert_eq!(world.extremes.i, i128::MIN);
    assert_eq!(world.extremes.f.to_bits(), 0.1f32.to_bits());
    assert_eq!(world.extremes.d.to_bits(), (0.1f64 + 0.2).to_bits());
    assert_eq!(world.extremes.neg_zero.to_bits(), (-0.0f64).to_bits());
    assert_eq!(world.extremes.tiny.to_bits(), 1);
    assert_eq!(world.extremes.huge, f64::MAX);
    assert!(world.extremes.nan.is_nan());
    assert_eq!(world.extremes.c, '🦀');
    assert_eq!(world.extremes.s, extremes().s);
    assert_eq!(world.particles[0].mass.to_bits(), 0.1f32.to_bits());
    assert_eq!(world.boxed.x, 0.5);
    assert_eq!(world.pair, v1::Pair(7, "seven".into()));
    // And the snapshot of the loaded state is the snapshot that was loaded.
    assert_eq!(snapshot::save(&loaded).expect("the state saves"), text);
}

#[test]
fn handles_and_pools_survive_with_their_slots_and_generations() {
    let mut state = world_v1();
    let text = snapshot::save(&state).expect("the state saves");
    let (mut loaded, _) = snapshot::load(&text, &v1_catalog()).unwrap();
    let world = loaded.get::<v1::World>().unwrap();
    assert_eq!(world.units[world.leader].name, "cy");
    assert_eq!(
        world.units.get(world.stale).err(),
        Some(STALE),
        "a stale handle stays stale"
    );
    assert_eq!(world.units.len(), 3);
    let handles: Vec<_> = world.units.iter().map(|(h, _)| h).collect();
    let original: Vec<_> = state
        .get::<v1::World>()
        .unwrap()
        .units
        .iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(handles, original);
    // The vacant slot kept its generation: the next value goes there with the same handle in
    // both states, and the stale handle does not reach it.
    let unit = || v1::Unit {
        hp: 1,
        name: "new".into(),
    };
    let fresh = loaded.get_mut::<v1::World>().unwrap().units.insert(unit());
    let expected = state.get_mut::<v1::World>().unwrap().units.insert(unit());
    assert_eq!(fresh, expected);
    let world = loaded.get::<v1::World>().unwrap();
    assert_ne!(fresh, world.stale);
    assert_eq!(world.units.get(world.stale).err(), Some(STALE));
}

// --------------------------------------------------------------------------------- migration

#[test]
fn loading_under_new_types_migrates_by_name_and_reports_what_changed() {
    let state = world_v1();
    let text = snapshot::save(&state).expect("the state saves");
    let (loaded, report) =
        snapshot::load(&text, &catalog(&[v2::World::DESC, v2::Config::DESC])).expect("loads");
    let world = loaded.get::<v2::World>().expect("a v2 World");

    // Widened, renamed, added with `#[coo(default)]` and with the type's `Default`.
    assert_eq!(world.score, -1234i64);
    assert_eq!(world.health, 75);
    assert_eq!(world.lives, 3);
    assert_eq!(world.motto, "");
    // A nested struct in a `Vec` gained a field and widened another; an `f32` widens exactly.
    assert_eq!(world.particles.len(), 2);
    assert_eq!(world.particles[0].pos, v2::Vec2 { x: 1.5, y: -2.0 });
    assert_eq!(world.particles[0].vel, v2::Vec2::default());
    assert_eq!(world.particles[0].mass, f64::from(0.1f32));
    assert_eq!(world.particles[1].mass, 2.0);
    // Enum variants: a field added to one, one renamed, one new in the type.
    assert_eq!(
        world.phase,
        v2::Phase::Running {
            speed: 2.5,
            accel: 0.0
        }
    );
    assert_eq!(world.phases, vec![v2::Phase::Idle, v2::Phase::Halted(7)]);
    // An array that grew is filled with defaults.
    assert_eq!(world.grid, [1, 2, 3, 0, 0]);
    // Handles into the pool still reach their values.
    assert_eq!(world.units[world.leader].name, "cy");
    assert_eq!(world.units.get(world.stale).err(), Some(STALE));
    assert!(world.extremes.nan.is_nan());
    let without_nan = |e: &Extremes| Extremes {
        nan: 0.0,
        ..e.clone()
    };
    assert_eq!(without_nan(&world.extremes), without_nan(&extremes()));
    // A renamed type takes the resource of its old name.
    assert_eq!(loaded.get::<v2::Config>(), Some(&v2::Config { volume: 11 }));

    let w = report.ty("World").unwrap();
    assert!(
        w.added.contains("lives") && w.added.contains("motto"),
        "{report}"
    );
    assert!(w.dropped.contains("legacy"), "{report}");
    assert!(
        w.renamed.contains(&("hp".to_owned(), "health".to_owned())),
        "{report}"
    );
    let p = report.ty("Particle").unwrap();
    assert_eq!(p.values, 2);
    assert!(p.added.contains("vel"), "{report}");
    let phase = report.ty("Phase").unwrap();
    assert!(phase.added.contains("Running.accel"), "{report}");
    assert!(
        phase
            .renamed
            .contains(&("Paused".to_owned(), "Halted".to_owned())),
        "{report}"
    );
    assert_eq!(report.elements_filled, 2);
    assert!(
        report
            .resources
            .contains(&("Settings".to_owned(), "Config".to_owned()))
    );
    assert!(!report.is_exact());
    assert_eq!(report.saved.get("World").unwrap().name, "World");
    let text = report.to_string();
    assert!(text.contains("Config (from Settings)"), "{text}");
    assert!(text.contains("+ lives (default)"), "{text}");
    assert!(text.contains("- legacy (dropped)"), "{text}");
    assert!(text.contains("> hp -> health (renamed)"), "{text}");
}

#[test]
fn an_integer_that_no_longer_fits_is_an_error_naming_the_path_and_the_value() {
    let text = snapshot::save(&world_only_v1()).expect("the state saves");
    let err = build_error(snapshot::load(&text, &catalog(&[v2_narrow::World::DESC])).unwrap_err());
    match &err {
        ValueError {
            kind: ValueErrorKind::CheckedCast(InexactCast { value, from, to }),
            path,
        } => {
            assert_eq!(path.to_string(), "World.small");
            assert_eq!(value, "1000");
            assert_eq!(
                (*from, *to),
                (coo_runtime::Prim::I64, coo_runtime::Prim::I8)
            );
        }
        other => panic!("expected a checked cast error, got {other}"),
    }
    let message = err.to_string();
    assert!(message.contains("`World.small`"), "{message}");
    assert!(message.contains("1000"), "{message}");
}

#[test]
fn without_saved_types_an_integer_that_does_not_fit_is_still_refused() {
    let json = r#"{"coo_snapshot":1,"state":{"Settings":{"volume":300}}}"#;
    let err = build_error(snapshot::load(json, &catalog(&[v1::Settings::DESC])).unwrap_err());
    assert!(
        matches!(&err, ValueError { kind: ValueErrorKind::DoesNotFit { value, .. }, path }
            if path.to_string() == "Settings.volume" && value == "300"),
        "{err}"
    );
}

#[test]
fn floats_convert_from_the_type_they_were_saved_as() {
    let mut state = State::new();
    state.insert(v1_floats::Reading {
        wide: 0.1,
        narrow: 0.5,
    });
    let text = snapshot::save(&state).expect("the state saves");
    let (loaded, _) = snapshot::load(&text, &catalog(&[v2_floats::Reading::DESC])).unwrap();
    let r = loaded.get::<v2_floats::Reading>().unwrap();
    assert_eq!(r.wide, f64::from(0.1f32), "an `f32` widens exactly");
    assert_eq!(r.narrow, 0.5);

    // An `f64` that an `f32` does not hold is refused, as a checked cast.
    let mut state = State::new();
    state.insert(v1_floats::Reading {
        wide: 0.5,
        narrow: 0.1,
    });
    let text = snapshot::save(&state).expect("the state saves");
    let err =
        build_error(snapshot::load(&text, &catalog(&[v2_floats::Reading::DESC])).unwrap_err());
    assert!(
        matches!(&err, ValueError { kind: ValueErrorKind::CheckedCast(InexactCast { value, .. }), path }
            if path.to_string() == "Reading.narrow" && value == "0.1"),
        "{err}"
    );
}

#[test]
fn a_missing_field_without_a_default_is_an_error_saying_what_to_add() {
    let start = drops();
    let text = snapshot::save(&world_only_v1()).expect("the state saves");
    let err = build_error(snapshot::load(&text, &catalog(&[v2_missing::World::DESC])).unwrap_err());
    match &err {
        ValueError {
            kind:
                ValueErrorKind::MissingField {
                    ty,
                    field,
                    field_ty,
                    fix,
                },
            path,
        } => {
            assert_eq!(path.to_string(), "World");
            assert_eq!((ty.as_str(), field.as_str()), ("World", "anchor"));
            assert_eq!(field_ty, "NoDefault");
            assert!(fix.contains("#[coo(default = ...)]"), "{fix}");
            assert!(fix.contains("implement `Default` for `NoDefault`"), "{fix}");
            assert!(fix.contains("rename_from"), "{fix}");
        }
        other => panic!("expected a missing field error, got {other}"),
    }
    // Checked before anything was built: nothing to drop.
    assert_eq!(drops() - start, 3, "only the three of the saved state");
}

#[test]
fn an_unknown_variant_is_an_error_naming_the_path_and_the_variants() {
    let text = snapshot::save(&world_v1())
        .expect("the state saves")
        .replace(r#""Paused":7"#, r#""Frozen":7"#);
    let err = build_error(snapshot::load(&text, &v1_catalog()).unwrap_err());
    match &err {
        ValueError {
            kind:
                ValueErrorKind::UnknownVariant {
                    ty,
                    variant,
                    variants,
                },
            path,
        } => {
            assert_eq!(path.to_string(), "World.phases[1]");
            assert_eq!((ty.as_str(), variant.as_str()), ("Phase", "Frozen"));
            assert_eq!(variants, &["Idle", "Running", "Paused"]);
        }
        other => panic!("expected an unknown variant error, got {other}"),
    }
}

#[test]
fn an_array_longer_than_its_type_is_an_error_naming_both_lengths() {
    let text = snapshot::save(&world_v1())
        .expect("the state saves")
        .replace(r#""grid":[1,2,3]"#, r#""grid":[1,2,3,4]"#);
    let err = build_error(snapshot::load(&text, &v1_catalog()).unwrap_err());
    assert!(
        matches!(&err, ValueError { kind: ValueErrorKind::ArrayTooLong { len: 3, found: 4, .. }, path }
            if path.to_string() == "World.grid"),
        "{err}"
    );
}

#[test]
fn snapshot_level_errors_are_typed() {
    let catalog = v1_catalog();
    assert!(matches!(
        snapshot::load("{", &catalog),
        Err(SnapshotError::Json(_))
    ));
    assert!(matches!(
        snapshot::load(r#"{"state":{}}"#, &catalog),
        Err(SnapshotError::Format(_))
    ));
    assert!(matches!(
        snapshot::load(r#"{"coo_snapshot":2,"state":{}}"#, &catalog),
        Err(SnapshotError::Version { found }) if found == "2"
    ));
    let err = snapshot::load(r#"{"coo_snapshot":1,"state":{"Gone":{}}}"#, &catalog).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::UnknownType { name, types }
            if name == "Gone" && types.contains(&"World".to_owned())),
        "{err}"
    );
    let both = catalog_with_renamed_settings();
    let err = snapshot::load(
        r#"{"coo_snapshot":1,"state":{"Config":{"volume":1},"Settings":{"volume":2}}}"#,
        &both,
    )
    .unwrap_err();
    assert!(
        matches!(&err, SnapshotError::DuplicateResource { ty, .. } if ty == "Config"),
        "{err}"
    );
}

fn catalog_with_renamed_settings() -> Catalog {
    catalog(&[v2::Config::DESC])
}

// ------------------------------------------------------------------------ failure is clean

/// Loads `text` under `catalog`, expecting an error; checks that every `Tracked` value the loader
/// built before the error was dropped exactly once, and that it gave back every byte it took.
fn assert_clean_failure(text: &str, catalog: &Catalog, built_tracked: usize) -> ValueError {
    // Warm up: anything allocated once per thread on first use is allocated now.
    let _ = snapshot::load(text, catalog);
    let (bytes, start) = (live_bytes(), drops());
    // The error is dropped at once, so that only what the load kept could still be allocated.
    let failed = snapshot::load(text, catalog).is_err();
    let (leaked, dropped) = (live_bytes() - bytes, drops() - start);
    // Once more for the error itself, to say which case failed.
    let err = build_error(snapshot::load(text, catalog).expect_err("the load fails"));
    assert!(failed);
    assert_eq!(leaked, 0, "the failed load leaked memory: {err}");
    assert_eq!(
        dropped, built_tracked,
        "each value built before the error is dropped once: {err}"
    );
    err
}

#[derive(CooType)]
#[coo(name = "Holder")]
pub struct Holder {
    pub list: Vec<Tracked>,
    pub boxed: Box<Tracked>,
    pub maybe: Option<Box<Tracked>>,
    pub array: [Tracked; 2],
    pub pool: Pool<Item>,
    pub choice: Choice,
    pub nested: Vec<Vec<Tracked>>,
    pub last: u8,
}

#[derive(CooType)]
#[coo(name = "Item")]
pub struct Item {
    pub tag: Tracked,
    pub n: u8,
}

#[derive(CooType)]
#[coo(name = "Choice")]
pub enum Choice {
    Empty,
    Two(Tracked, Tracked, u8),
}

const HOLDER_OK: &str = r#"{"coo_snapshot":1,"state":{"Holder":{
    "list":[{"id":1},{"id":2},{"id":3}],
    "boxed":{"id":4},
    "maybe":{"id":5},
    "array":[{"id":6},{"id":7}],
    "pool":[{"index":0,"generation":0,"value":{"tag":{"id":8},"n":1}},
            {"index":2,"generation":5,"value":{"tag":{"id":9},"n":2}}],
    "choice":{"Two":[{"id":10},{"id":11},1]},
    "nested":[[{"id":12}],[{"id":13},{"id":14}]],
    "last":1}}}"#;

#[test]
fn a_failing_load_drops_what_it_built_once_and_leaks_nothing() {
    let catalog = catalog(&[Holder::DESC]);
    let start = drops();
    let (state, report) = snapshot::load(HOLDER_OK, &catalog).expect("the valid holder loads");
    assert_eq!(report.ty("Tracked").unwrap().values, 14);
    assert_eq!(drops(), start);
    drop(state);
    assert_eq!(drops() - start, 14);

    // Each case breaks one value; the number is how many `Tracked` were built before it.
    let cases: [(&str, &str, usize, &str); 10] = [
        (r#"{"id":3}"#, r#"{"id":-3}"#, 2, "Holder.list[2].id"),
        (
            r#""boxed":{"id":4}"#,
            r#""boxed":{"id":"x"}"#,
            3,
            "Holder.boxed.id",
        ),
        (
            r#""maybe":{"id":5}"#,
            r#""maybe":{"id":5.5}"#,
            4,
            "Holder.maybe.id",
        ),
        (r#"{"id":7}"#, r#"{"id":1e10}"#, 6, "Holder.array[1].id"),
        (r#""n":2"#, r#""n":256"#, 9, "Holder.pool[2].n"),
        (
            r#"{"id":11}"#,
            r#"{"id":[11]}"#,
            10,
            "Holder.choice.Two.1.id",
        ),
        (
            r#"{"id":11},1]"#,
            r#"{"id":11},-1]"#,
            11,
            "Holder.choice.Two.2",
        ),
        (
            r#"{"id":14}"#,
            r#"{"id":null}"#,
            13,
            "Holder.nested[1][1].id",
        ),
        (r#""last":1"#, r#""last":true"#, 14, "Holder.last"),
        // Pool slots are checked before any of their values is built.
        (
            r#""generation":5"#,
            r#""generation":-5"#,
            7,
            "Holder.pool[1].generation",
        ),
    ];
    for (from, to, built, path) in cases {
        assert!(HOLDER_OK.contains(from), "{from}");
        let text = HOLDER_OK.replacen(from, to, 1);
        let err = assert_clean_failure(&text, &catalog, built);
        assert_eq!(err.path.to_string(), path, "{err}");
    }
}

#[test]
fn a_failing_load_of_a_whole_state_drops_the_resources_built_before() {
    let text = snapshot::save(&world_v1()).expect("the state saves");
    // `World` comes after `Settings` in the state, and fails after its `tracked` were built.
    let text = text.replace(r#""yes":true"#, r#""yes":1"#);
    let err = assert_clean_failure(&text, &v1_catalog(), 3);
    assert_eq!(err.path.to_string(), "World.extremes.yes");
}

#[derive(CooType)]
#[coo(name = "Zone")]
pub struct Zone {
    pub units: Pool<Tracked>,
}

#[derive(CooType)]
#[coo(name = "Mode")]
pub enum Mode {
    Idle,
    Active { pool: Pool<Tracked> },
}

#[derive(CooType)]
#[coo(name = "Map")]
pub struct Map {
    pub zones: Vec<Zone>,
    pub mode: Mode,
    pub spare: Option<Box<Zone>>,
}

#[test]
fn vacant_slots_of_nested_pools_are_kept_by_path() {
    /// A pool whose slot 0 was emptied twice and slot 2 once; slot 1 holds `id`.
    fn pool(id: u32) -> Pool<Tracked> {
        let mut pool = Pool::new();
        let a = pool.insert(Tracked { id: 0 });
        pool.insert(Tracked { id });
        let c = pool.insert(Tracked { id: 0 });
        pool.remove(a).unwrap();
        let a = pool.insert(Tracked { id: 0 });
        pool.remove(a).unwrap();
        pool.remove(c).unwrap();
        pool
    }
    let mut state = State::new();
    state.insert(Map {
        zones: vec![Zone { units: Pool::new() }, Zone { units: pool(1) }],
        mode: Mode::Active { pool: pool(2) },
        spare: Some(Box::new(Zone { units: pool(3) })),
    });
    let text = snapshot::save(&state).expect("the state saves");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = serde_json::json!([[0, 2], [2, 1]]);
    for path in [
        "Map.zones[1].units",
        "Map.mode.Active.pool",
        "Map.spare.units",
    ] {
        assert_eq!(json["vacant_slots"][path], expected, "{path}: {text}");
    }
    assert_eq!(
        json["vacant_slots"].as_object().unwrap().len(),
        3,
        "an empty pool has no vacant slots"
    );

    let (mut loaded, _) = snapshot::load(&text, &catalog(&[Map::DESC])).unwrap();
    assert_eq!(state_json(&loaded), state_json(&state));
    assert_eq!(snapshot::save(&loaded).expect("the state saves"), text);
    let next = |state: &mut State| {
        let map = state.get_mut::<Map>().unwrap();
        let Mode::Active { pool } = &mut map.mode else {
            panic!("active")
        };
        [
            pool.insert(Tracked { id: 9 }),
            pool.insert(Tracked { id: 9 }),
        ]
    };
    assert_eq!(next(&mut loaded), next(&mut state));
}

#[test]
fn a_retired_pool_slot_stays_retired_across_save_and_load() {
    let mut units = Pool::new();
    units.insert(Tracked { id: 1 });
    let last = units.__insert_at_generation(Tracked { id: 2 }, u32::MAX);
    units.remove(last).unwrap();
    let mut state = State::new();
    state.insert(Zone { units });
    let text = snapshot::save(&state).expect("the state saves");
    let (mut loaded, _) = snapshot::load(&text, &catalog(&[Zone::DESC])).unwrap();
    let zone = loaded.get_mut::<Zone>().unwrap();
    let new = zone.units.insert(Tracked { id: 3 });
    assert_eq!(
        (new.index(), new.generation()),
        (2, 0),
        "not the retired slot"
    );
    let first = Handle::<Tracked>::from_raw(last.index(), 0);
    assert_eq!(
        zone.units.get(first).map(|t| t.id),
        Err(coo_runtime::StaleHandle {
            index: last.index(),
            handle: 0,
            current: u32::MAX,
        })
    );
}
// ------------------------------------------------------------------------ enum representation

mod repr {
    use super::*;
    pub const TOP: i8 = 10;
    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Gear")]
    #[repr(C, i8)]
    pub enum Gear {
        Reverse = -1,
        Neutral,
        Drive(u8) = TOP,
    }
    #[derive(CooType, Debug)]
    #[coo(name = "Car")]
    pub struct Car {
        pub gear: Gear,
    }
}

#[test]
fn a_snapshot_records_enum_reprs_and_discriminants_and_reads_them_back() {
    let mut state = State::new();
    state.insert(repr::Car {
        gear: repr::Gear::Drive(3),
    });
    let text = snapshot::save(&state).expect("the state saves");
    let json: serde_json::Value = serde_json::from_str(&text).expect("a snapshot is JSON");
    let gear = &json["types"]["Gear"];
    assert_eq!(
        gear["repr"],
        serde_json::json!({"c": true, "transparent": false, "int": "i8", "align": null})
    );
    let discriminants: Vec<&serde_json::Value> = gear["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["discriminant"])
        .collect();
    assert_eq!(discriminants, [-1, 0, 10]);

    let catalog = catalog(&[repr::Car::DESC]);
    let (loaded, report) = snapshot::load(&text, &catalog).expect("loads");
    assert_eq!(
        report.saved.get("Gear"),
        coo_runtime::Schema::from_catalog(&catalog).get("Gear")
    );
    assert_eq!(
        loaded.get::<repr::Car>().unwrap().gear,
        repr::Gear::Drive(3)
    );
}

/// A saved field type is text that the loader parses by recursing once per level of nesting:
/// one nesting a million levels (a corrupt or crafted snapshot) is refused, not a stack overflow.
#[test]
fn a_saved_field_type_nesting_a_million_levels_is_a_format_error() {
    const LEVELS: usize = 1_000_000;
    let deep = format!("{}u8{}", "Vec<".repeat(LEVELS), ">".repeat(LEVELS));
    let text = snapshot::save(&world_only_v1()).expect("the state saves");
    let grid = r#""type":"[u8; 3]""#;
    assert!(text.contains(grid), "{text}");
    let text = text.replacen(grid, &format!(r#""type":"{deep}""#), 1);
    let err = snapshot::load(&text, &catalog(&[v1::World::DESC])).unwrap_err();
    let SnapshotError::Format(message) = err else {
        panic!("expected a format error, got {err}");
    };
    assert!(
        message.starts_with(
            "its `types` are not type layouts: a field type nests more than 256 levels deep \
             (in `<` and `[`); no field type in source does"
        ),
        "{message}"
    );
}

#[test]
fn a_snapshot_from_before_reprs_were_recorded_still_loads() {
    let mut state = State::new();
    state.insert(repr::Car {
        gear: repr::Gear::Reverse,
    });
    let text = snapshot::save(&state)
        .expect("the state saves")
        .replace(
            r#","repr":{"c":true,"transparent":false,"int":"i8","align":null}"#,
            "",
        )
        .replace(r#""discriminant":-1,"#, "")
        .replace(r#""discriminant":0,"#, "")
        .replace(r#""discriminant":10,"#, "");
    assert!(
        !text.contains(r#""repr""#) && !text.contains("discriminant"),
        "{text}"
    );
    let (loaded, report) = snapshot::load(&text, &catalog(&[repr::Car::DESC])).expect("loads");
    assert_eq!(loaded.get::<repr::Car>().unwrap().gear, repr::Gear::Reverse);
    // Read as no `repr` and implicit discriminants: the layouts of such snapshots are for
    // messages and number conversion; values go by variant name.
    let Some(coo_runtime::descriptors::schema::LayoutKind::Enum { repr, variants }) =
        report.saved.get("Gear").map(|t| &t.kind)
    else {
        panic!("`Gear` is saved as an enum");
    };
    assert_eq!(*repr, coo_runtime::descriptors::layout::EnumRepr::RUST);
    let discriminants: Vec<i128> = variants.iter().map(|v| v.discriminant).collect();
    assert_eq!(discriminants, [0, 1, 2]);
}

mod gauge_v1 {
    use coo_runtime::CooType;

    #[derive(CooType, Debug)]
    pub struct Gauge {
        pub level: u32,
    }
}

mod gauge_v2 {
    use coo_runtime::CooType;

    #[derive(CooType, Debug)]
    pub struct Gauge {
        pub level: u32,
        #[coo(default = panic!("no reading today"))]
        pub reading: u32,
    }
}

#[test]
fn a_new_field_whose_default_panics_is_an_error_saying_what_to_write() {
    let mut state = State::new();
    state.insert(gauge_v1::Gauge { level: 4 });
    let text = snapshot::save(&state).expect("the state saves");
    let err = build_error(snapshot::load(&text, &catalog(&[gauge_v2::Gauge::DESC])).unwrap_err());
    assert!(
        matches!(&err, ValueError { kind: ValueErrorKind::Default { .. }, path } if path.to_string() == "Gauge.reading")
    );
    assert_eq!(
        err.to_string(),
        "the default of `Gauge.reading` panicked: no reading today; make the `Default` impl or \
         `#[coo(default = ...)]` expression that makes it not panic, or give the field a \
         `#[coo(default = ...)]` that does not"
    );
}

// -------------------------------------------------- which new item continues which old one

/// Loading a snapshot matches types, fields and variants by the rule a reload plans with
/// (`coo_runtime::descriptors::matching`): a claim that a reload refuses is refused here too,
/// never moved to another name or dropped.
mod claims {
    use super::*;

    pub mod v1 {
        use super::*;

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Mood")]
        pub enum Mood {
            Calm,
            Angry,
        }

        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Claim")]
        pub struct Claim {
            pub a: u8,
            pub c: u8,
            pub mood: Mood,
        }
    }

    /// `b` claims `a`, which the field named `a` continues; its next name `c` is free.
    pub mod v2_field {
        pub use super::v1::Mood;
        use super::*;

        #[derive(CooType)]
        #[coo(name = "Claim")]
        pub struct Claim {
            pub a: u8,
            #[coo(rename_from = "a", rename_from = "c")]
            pub b: u8,
            pub mood: Mood,
        }
    }

    /// `Serene` claims `Calm`, which the variant named `Calm` continues.
    pub mod v2_variant {
        use super::*;

        #[derive(CooType)]
        #[coo(name = "Mood")]
        pub enum Mood {
            Calm,
            #[coo(rename_from = "Calm")]
            Serene,
            Angry,
        }

        #[derive(CooType)]
        #[coo(name = "Claim")]
        pub struct Claim {
            pub a: u8,
            pub c: u8,
            pub mood: Mood,
        }
    }

    /// `Other` claims `Claim`, which the type named `Claim` continues.
    pub mod v2_type {
        pub use super::v1::Claim;
        use super::*;

        #[derive(CooType)]
        #[coo(name = "Other", rename_from = "Claim")]
        pub struct Other {
            pub a: u8,
        }
    }

    /// A resource holding a handle to `Claim`, which `Other` claims too (see `v2_type`).
    #[derive(CooType)]
    #[coo(name = "Holder")]
    pub struct Holder {
        pub fav: Handle<v1::Claim>,
    }

    pub fn state() -> State {
        let mut state = State::new();
        state.insert(v1::Claim {
            a: 1,
            c: 2,
            mood: v1::Mood::Calm,
        });
        state
    }

    /// The one problem a reload to `catalog` reports: its type, field and fix.
    pub fn plan_problem(catalog: &Catalog) -> (String, Option<String>, String) {
        let err = state().plan(catalog).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        let p = &err.problems[0];
        assert_eq!(p.kind, coo_runtime::ProblemKind::Ambiguous, "{err}");
        (p.ty.clone(), p.field.clone(), p.fix.clone())
    }
}

#[test]
fn a_field_claiming_an_old_field_another_continues_is_refused_as_a_reload_refuses_it() {
    use claims::*;
    let catalog = catalog(&[v2_field::Claim::DESC]);
    let fix = "old field `a` is already continued by the new field of that name; \
               remove `rename_from = \"a\"` from `b` or rename the other field";
    assert_eq!(
        plan_problem(&catalog),
        ("Claim".to_owned(), Some("b".to_owned()), fix.to_owned())
    );
    let text = snapshot::save(&state()).expect("the state saves");
    let err = build_error(snapshot::load(&text, &catalog).unwrap_err());
    let ValueError {
        path,
        kind: ValueErrorKind::Conflict { conflict },
    } = &err
    else {
        panic!("expected a conflict, got {err}");
    };
    assert_eq!(path.to_string(), "Claim");
    assert_eq!(
        (
            conflict.old.as_str(),
            conflict.holder.as_str(),
            conflict.claimant.as_str()
        ),
        ("a", "a", "b")
    );
    assert!(!conflict.holder_renamed);
    assert_eq!(conflict.fix(), fix);
}

#[test]
fn a_variant_claiming_an_old_variant_another_continues_is_refused_as_a_reload_refuses_it() {
    use claims::*;
    let catalog = catalog(&[v2_variant::Claim::DESC]);
    let fix = "old variant `Calm` is already continued by the new variant of that name; \
               remove `rename_from = \"Calm\"` from `Serene` or rename the other variant";
    assert_eq!(
        plan_problem(&catalog),
        ("Mood".to_owned(), Some("Serene".to_owned()), fix.to_owned())
    );
    let text = snapshot::save(&state()).expect("the state saves");
    let err = build_error(snapshot::load(&text, &catalog).unwrap_err());
    let ValueError {
        path,
        kind: ValueErrorKind::Conflict { conflict },
    } = &err
    else {
        panic!("expected a conflict, got {err}");
    };
    assert_eq!(path.to_string(), "Claim.mood");
    assert_eq!(
        (
            conflict.old.as_str(),
            conflict.holder.as_str(),
            conflict.claimant.as_str()
        ),
        ("Calm", "Calm", "Serene")
    );
    assert_eq!(conflict.fix(), fix);
}

#[test]
fn a_type_claiming_an_old_type_another_continues_is_refused_as_a_reload_refuses_it() {
    use claims::*;
    let catalog = catalog(&[v2_type::Claim::DESC, v2_type::Other::DESC]);
    let fix = "old type `Claim` is already continued by the new type of that name; \
               remove `rename_from = \"Claim\"` from `Other` or rename the other type";
    assert_eq!(
        plan_problem(&catalog),
        ("Claim".to_owned(), None, fix.to_owned())
    );
    let text = snapshot::save(&state()).expect("the state saves");
    let err = snapshot::load(&text, &catalog).unwrap_err();
    let SnapshotError::AmbiguousType { name, conflict } = &err else {
        panic!("expected an ambiguous type, got {err}");
    };
    assert_eq!(name, "Claim");
    assert_eq!(
        (conflict.holder.as_str(), conflict.claimant.as_str()),
        ("Claim", "Other")
    );
    assert_eq!(conflict.fix(), fix);
}

#[test]
fn a_handle_to_a_type_two_new_types_claim_is_refused_as_ambiguous() {
    use claims::*;
    let mut state = State::new();
    let mut pool = Pool::new();
    let fav = pool.insert(v1::Claim {
        a: 1,
        c: 2,
        mood: v1::Mood::Calm,
    });
    state.insert(Holder { fav });
    let catalog = catalog(&[Holder::DESC, v2_type::Claim::DESC, v2_type::Other::DESC]);
    let err = state.plan(&catalog).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    let p = &err.problems[0];
    assert_eq!(p.kind, coo_runtime::ProblemKind::Ambiguous, "{err}");
    assert_eq!((p.ty.as_str(), p.field.as_deref()), ("Holder", Some("fav")));
    assert_eq!(
        p.fix,
        "old type `Claim` is already continued by the new type of that name; \
         remove `rename_from = \"Claim\"` from `Other` or rename the other type"
    );
}

// ------------------------------------------------------------------------------ binary format

mod bin {
    use super::*;

    #[derive(CooType, Debug, Clone, PartialEq)]
    #[coo(name = "Outline")]
    pub enum Outline {
        Dot,
        Circle { r: f32 },
        Poly(Vec<v1::Vec2>),
    }

    /// No pool (those go through the JSON rules): every other kind of field.
    #[derive(CooType)]
    #[coo(name = "Scene")]
    pub struct Scene {
        pub particles: Vec<v1::Particle>,
        pub outlines: Vec<Outline>,
        pub boxed: Box<v1::Vec2>,
        pub maybe: Option<Box<Outline>>,
        pub none: Option<u8>,
        pub grid: [[u16; 2]; 3],
        pub extremes: Extremes,
        pub payload: f64,
        pub names: Vec<String>,
        pub flags: Vec<bool>,
        pub size: usize,
        pub offset: isize,
        pub tracked: Vec<Tracked>,
        pub pair: v1::Pair,
        pub marker: v1::Marker,
        pub leader: Handle<v1::Unit>,
        pub phase: v1::Phase,
    }
}

/// A NaN with a payload: JSON writes it as `null`, the binary format keeps its bits.
const PAYLOAD: u64 = 0x7ff8_dead_beef_0001;

fn scene() -> State {
    let mut units = Pool::new();
    let leader = units.insert(v1::Unit {
        hp: 1,
        name: "ada".into(),
    });
    let mut state = State::new();
    state.insert(bin::Scene {
        particles: (0..50)
            .map(|i| v1::Particle {
                pos: v1::Vec2 {
                    x: i as f32 * 0.37,
                    y: -(i as f32) / 7.0,
                },
                mass: 1.0 / (i as f32 + 3.0),
            })
            .collect(),
        outlines: vec![
            bin::Outline::Dot,
            bin::Outline::Circle { r: 0.1 },
            bin::Outline::Poly(vec![v1::Vec2 { x: 1.0, y: 2.0 }]),
        ],
        boxed: Box::new(v1::Vec2 { x: 0.5, y: 0.25 }),
        maybe: Some(Box::new(bin::Outline::Circle { r: 2.5 })),
        none: None,
        grid: [[1, 2], [3, 4], [u16::MAX, 0]],
        extremes: extremes(),
        payload: f64::from_bits(PAYLOAD),
        names: vec!["é".into(), String::new(), "🦀".into()],
        flags: vec![true, false, true],
        size: usize::MAX,
        offset: isize::MIN,
        tracked: vec![Tracked { id: 7 }],
        pair: v1::Pair(7, "seven".into()),
        marker: v1::Marker,
        leader,
        phase: v1::Phase::Paused(9),
    });
    state.insert(v1::Settings { volume: 11 });
    state
}

fn scene_catalog() -> Catalog {
    catalog(&[bin::Scene::DESC, v1::Settings::DESC])
}

fn binary_of(state: &State) -> Vec<u8> {
    let header = snapshot::Header {
        plugin: None,
        run: None,
    };
    snapshot::encode(
        &hot_host::state_io::capture::Capture::of(state).expect("the state is captured"),
        &header,
        Format::Binary,
    )
}

use hot_host::state_io::binary::{BinaryError, BinaryErrorKind, Format};

#[test]
fn a_binary_snapshot_round_trips_bit_for_bit_and_reports_as_json_does() {
    let state = scene();
    let bytes = binary_of(&state);
    assert!(bytes.starts_with(&hot_host::state_io::binary::MAGIC));
    let (loaded, report) = snapshot::load_bytes(&bytes, &scene_catalog(), None).expect("loads");
    assert_eq!(state_json(&loaded), state_json(&state));
    let scene = loaded.get::<bin::Scene>().expect("a Scene");
    // Bits JSON cannot keep: a NaN's payload.
    assert_eq!(scene.payload.to_bits(), PAYLOAD);
    assert_eq!(scene.extremes.nan.to_bits(), f32::NAN.to_bits());
    assert_eq!(scene.extremes.tiny.to_bits(), 1);
    assert_eq!(scene.extremes.neg_zero.to_bits(), (-0.0f64).to_bits());
    assert_eq!(scene.extremes.u, u128::MAX);
    assert_eq!(scene.extremes.i, i128::MIN);
    assert_eq!(scene.size, usize::MAX);
    assert_eq!(scene.offset, isize::MIN);
    assert_eq!(
        scene.maybe.as_deref(),
        Some(&bin::Outline::Circle { r: 2.5 })
    );
    assert_eq!(
        scene.particles[49].mass.to_bits(),
        (1.0f32 / 52.0).to_bits()
    );
    assert_eq!(
        loaded.get::<v1::Settings>(),
        Some(&v1::Settings { volume: 11 })
    );
    // The same report as loading the JSON snapshot of the same state.
    let (_, json_report) = snapshot::load(
        &snapshot::save(&state).expect("the state saves"),
        &scene_catalog(),
    )
    .unwrap();
    assert_eq!(report, json_report);
    assert!(report.is_exact());
    assert_eq!(report.ty("Vec2").unwrap().values, 50 + 1 + 1);
    // Saved again, the loaded state gives the same bytes.
    assert_eq!(binary_of(&loaded), bytes);
}

#[test]
fn a_binary_snapshot_under_new_types_migrates_as_its_json_does() {
    let state = world_v1();
    let bytes = binary_of(&state);
    let text = snapshot::save(&state).expect("the state saves");
    let v2 = catalog(&[v2::World::DESC, v2::Config::DESC]);
    let (from_binary, binary_report) = snapshot::load_bytes(&bytes, &v2, None).expect("loads");
    let (from_json, json_report) = snapshot::load(&text, &v2).unwrap();
    assert_eq!(state_json(&from_binary), state_json(&from_json));
    assert_eq!(binary_report, json_report);
    let world = from_binary.get::<v2::World>().unwrap();
    assert_eq!(world.lives, 3);
    assert_eq!(world.particles[0].mass, f64::from(0.1f32));
    assert_eq!(world.units[world.leader].name, "cy");
    // A migration error is the JSON format's, path and all.
    let err = snapshot::load_bytes(
        &binary_of(&world_only_v1()),
        &catalog(&[v2_narrow::World::DESC]),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            SnapshotError::Value(ValueError {
                kind: ValueErrorKind::CheckedCast(_),
                ..
            })
        ),
        "{err}"
    );
}

/// Every truncation and every single bit flip of a real binary snapshot is refused with an
/// error (naming the offset where it is a damaged file), never a panic nor a state.
#[test]
fn every_truncation_and_bit_flip_of_a_binary_snapshot_is_an_error() {
    let bytes = binary_of(&scene());
    let catalog = scene_catalog();
    let binary = |err: &SnapshotError| match err {
        SnapshotError::Binary(BinaryError { offset, kind }) => Some((*offset, kind.clone())),
        _ => None,
    };
    for len in 0..bytes.len() {
        let err = snapshot::load_bytes(&bytes[..len], &catalog, None).unwrap_err();
        match len {
            // No magic: neither a binary snapshot nor JSON text.
            0..8 => assert!(
                matches!(err, SnapshotError::Json(_) | SnapshotError::Format(_)),
                "{len}: {err}"
            ),
            _ => {
                let (offset, kind) = binary(&err).unwrap_or_else(|| panic!("{len}: {err}"));
                assert!(
                    matches!(kind, BinaryErrorKind::Truncated { .. }),
                    "{len}: {err}"
                );
                assert_eq!(offset, len as u64, "{err}");
            }
        }
    }
    let checksum_at = (bytes.len() - 8) as u64;
    for bit in 0..bytes.len() * 8 {
        let mut damaged = bytes.clone();
        damaged[bit / 8] ^= 1 << (bit % 8);
        let err = snapshot::load_bytes(&damaged, &catalog, None).unwrap_err();
        let byte = bit / 8;
        match byte {
            0..8 => assert!(
                matches!(err, SnapshotError::Json(_) | SnapshotError::Format(_)),
                "{bit}: {err}"
            ),
            8..12 => assert!(matches!(err, SnapshotError::Version { .. }), "{bit}: {err}"),
            _ => {
                let (offset, kind) = binary(&err).unwrap_or_else(|| panic!("{bit}: {err}"));
                match kind {
                    BinaryErrorKind::Checksum => assert_eq!(offset, checksum_at),
                    // A length changed: the sections no longer end where the file does.
                    BinaryErrorKind::Truncated { .. } => {
                        assert_eq!(offset, bytes.len() as u64)
                    }
                    BinaryErrorKind::Trailing { .. } => assert!(offset < bytes.len() as u64),
                    other => panic!("{bit}: {other}"),
                }
            }
        }
    }
}

// ------------------------------------------------------ JSON read by the current layouts

/// A JSON snapshot of the current layouts is read straight by them (no tree of JSON values);
/// whatever that reader does not take (here: one string written with an escape, which means
/// the same) goes by the general rules. Both give the same state and the same report.
#[test]
fn a_json_snapshot_of_the_current_layouts_loads_as_the_general_rules_load_it() {
    let state = scene();
    let text = snapshot::save(&state).expect("the state saves");
    let (fast, fast_report) = snapshot::load(&text, &scene_catalog()).expect("loads");
    // `"é"` written as `"\u00e9"`: the same JSON, which the direct reader leaves to the rules.
    let escaped = text.replacen("\"é\"", "\"\\u00e9\"", 1);
    assert_ne!(escaped, text);
    let (general, general_report) = snapshot::load(&escaped, &scene_catalog()).expect("loads");
    assert_eq!(state_json(&fast), state_json(&state));
    assert_eq!(state_json(&general), state_json(&fast));
    assert_eq!(fast_report, general_report);
    assert!(fast_report.is_exact());
    let scene = fast.get::<bin::Scene>().unwrap();
    assert_eq!(scene.extremes.tiny.to_bits(), 1);
    assert_eq!(scene.extremes.u, u128::MAX);
    assert_eq!(scene.size, usize::MAX);
    assert_eq!(
        scene.particles[49].mass.to_bits(),
        (1.0f32 / 52.0).to_bits()
    );
}

/// Texts the general rules refuse are refused the same way, never taken by the direct reader.
#[test]
fn a_json_snapshot_the_rules_refuse_is_refused_with_their_error() {
    let text = snapshot::save(&scene()).expect("the state saves");
    let catalog = scene_catalog();
    let refused = |text: &str| snapshot::load(text, &catalog).unwrap_err();
    // A number with a leading zero is not JSON.
    let leading_zero = text.replacen("\"size\":", "\"size\":0", 1);
    assert!(
        matches!(refused(&leading_zero), SnapshotError::Json(_)),
        "{}",
        refused(&leading_zero)
    );
    // A repeated member is not taken.
    let repeated = text.replacen("\"none\":null", "\"none\":null,\"none\":null", 1);
    assert!(matches!(refused(&repeated), SnapshotError::Json(_)));
    // Trailing text after the snapshot.
    assert!(matches!(
        refused(&format!("{text} x")),
        SnapshotError::Json(_)
    ));
    // A value that does not fit its field names the path, as the rules say.
    let too_big = text.replacen("\"volume\":11", "\"volume\":300", 1);
    let err = build_error(refused(&too_big));
    assert_eq!(err.path.to_string(), "Settings.volume");
    assert!(
        matches!(err.kind, ValueErrorKind::DoesNotFit { .. }),
        "{err}"
    );
    // A float written as an integer converts exactly or is refused, by the rules.
    let exact = text.replacen("\"payload\":null", "\"payload\":3", 1);
    let (loaded, _) = snapshot::load(&exact, &catalog).unwrap();
    assert_eq!(loaded.get::<bin::Scene>().unwrap().payload, 3.0);
}
