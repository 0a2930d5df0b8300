//! In-process migration tests: two versions of the same types in one binary (modules `v1`, `v2`,
//! … sharing stable names through `#[coo(name)]`), one test per rule of the migration table.
#![allow(missing_debug_implementations, dead_code)]

use coo_runtime::migration::casts::InexactCast;
use std::cell::Cell;

use coo_runtime::migration::execute::Seg;
use coo_runtime::{
    Catalog, CooType, DefaultPanicked, ExecuteError, ExecuteErrorKind, Handle, MigrationError,
    Pool, ProblemKind, StaleHandle, State, TypeDesc,
};

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
    id: u32,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
    }
}

fn catalog(descs: &[&'static TypeDesc]) -> Catalog {
    Catalog::from_descs(descs.iter().copied()).expect("no duplicate names")
}

fn state_with<T: CooType>(value: T) -> State {
    let mut state = State::new();
    state.insert(value);
    state
}

fn migrate(
    state: &mut State,
    new: &[&'static TypeDesc],
) -> Result<coo_runtime::Report, MigrationError> {
    state.migrate_to(&catalog(new))
}

fn problems(err: MigrationError) -> Vec<coo_runtime::Problem> {
    match err {
        MigrationError::Plan(p) => p.problems,
        other => panic!("expected a plan error, got {other}"),
    }
}

fn migrate_error(err: MigrationError) -> ExecuteError {
    match err {
        MigrationError::Migrate(e) => e,
        other => panic!("expected a migrate error, got {other}"),
    }
}

mod same {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug)]
        #[coo(name = "Counter")]
        pub struct Counter {
            pub count: u64,
            pub label: String,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Debug)]
        #[coo(name = "Counter")]
        pub struct Counter {
            pub count: u64,
            pub label: String,
        }
    }

    #[test]
    fn unchanged_type_is_kept_in_place_not_copied() {
        let mut state = state_with(v1::Counter {
            count: 41,
            label: "hits".into(),
        });
        let before = state.resource("Counter").unwrap().as_ptr();
        let label_buf = state.get::<v1::Counter>().unwrap().label.as_ptr();
        let report = migrate(&mut state, &[v2::Counter::DESC]).unwrap();
        assert_eq!(report.kept, vec!["Counter"]);
        assert!(report.types.is_empty(), "no changed types: {report}");
        let res = state.resource("Counter").unwrap();
        assert_eq!(res.as_ptr(), before, "the value was not moved");
        let c = state.get::<v2::Counter>().expect("now a v2::Counter");
        assert_eq!((c.count, c.label.as_str()), (41, "hits"));
        assert_eq!(c.label.as_ptr(), label_buf);
        assert!(state.get::<v1::Counter>().is_none());
    }
}

mod rename_field {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Player")]
        pub struct Player {
            pub hp: i32,
            pub name: String,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Player")]
        pub struct Player {
            pub name: String,
            #[coo(rename_from = "hp")]
            pub health: i32,
        }
    }
    pub mod v2_no_rename {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Player")]
        pub struct Player {
            pub name: String,
            pub health: i32,
        }
    }

    #[test]
    fn rename_from_copies_the_old_field() {
        let mut state = state_with(v1::Player {
            hp: 75,
            name: "ada".into(),
        });
        let report = migrate(&mut state, &[v2::Player::DESC]).unwrap();
        let p = state.get::<v2::Player>().unwrap();
        assert_eq!((p.health, p.name.as_str()), (75, "ada"));
        let text = report.to_string();
        assert!(text.contains("hp -> health"), "{text}");
    }

    #[test]
    fn renames_are_never_guessed_from_position() {
        let mut state = state_with(v1::Player {
            hp: 75,
            name: "ada".into(),
        });
        let report = migrate(&mut state, &[v2_no_rename::Player::DESC]).unwrap();
        let p = state.get::<v2_no_rename::Player>().unwrap();
        assert_eq!(p.health, 0, "a new field with its type's default, not `hp`");
        let text = report.to_string();
        assert!(text.contains("+ health: i32"), "{text}");
        assert!(text.contains("- hp: i32 (values dropped)"), "{text}");
    }
}

mod casts {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Nums")]
        pub struct Nums {
            pub a: i8,
            pub b: u32,
            pub c: f32,
            pub d: i16,
            pub e: u64,
            pub big: i64,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Nums")]
        pub struct Nums {
            pub a: i128,
            pub b: i64,
            pub c: f64,
            pub d: f64,
            pub e: u128,
            pub big: i32,
        }
    }

    fn nums(big: i64) -> v1::Nums {
        v1::Nums {
            a: -5,
            b: u32::MAX,
            c: 1.5,
            d: -300,
            e: u64::MAX,
            big,
        }
    }

    #[test]
    fn lossless_widening_casts() {
        let mut state = state_with(nums(12));
        let report = migrate(&mut state, &[v2::Nums::DESC]).unwrap();
        let n = state.get::<v2::Nums>().unwrap();
        assert_eq!(n.a, -5);
        assert_eq!(n.b, u32::MAX as i64);
        assert_eq!(n.c, 1.5);
        assert_eq!(n.d, -300.0);
        assert_eq!(n.e, u64::MAX as u128);
        assert_eq!(n.big, 12);
        assert_eq!(report.ty("Nums").unwrap().values, 1);
    }

    #[test]
    fn checked_narrowing_is_refused_naming_the_value_then_accepted_when_it_fits() {
        let mut state = state_with(nums(1 << 40));
        let before = state.resource("Nums").unwrap().as_ptr();
        let err = migrate_error(migrate(&mut state, &[v2::Nums::DESC]).unwrap_err());
        match &err {
            ExecuteError {
                path,
                kind: ExecuteErrorKind::CheckedCast(InexactCast { from, to, value }),
            } => {
                assert_eq!(path.to_string(), "Nums.big");
                assert_eq!((from.name(), to.name()), ("i64", "i32"));
                assert_eq!(value, &(1i64 << 40).to_string());
            }
            other => panic!("{other}"),
        }
        // Nothing changed: the old value is still there, untouched.
        assert_eq!(state.resource("Nums").unwrap().as_ptr(), before);
        assert_eq!(state.get::<v1::Nums>().unwrap().big, 1 << 40);
        // The user fixes the value; the same reload now goes through.
        state.get_mut::<v1::Nums>().unwrap().big = -7;
        migrate(&mut state, &[v2::Nums::DESC]).unwrap();
        assert_eq!(state.get::<v2::Nums>().unwrap().big, -7);
    }
}

mod new_fields {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Ship")]
        pub struct Ship {
            pub x: f32,
        }
    }
    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Engine")]
    pub struct Engine {
        pub power: u32,
    }
    impl Default for Engine {
        fn default() -> Self {
            Engine { power: 9 }
        }
    }
    #[derive(CooType, Debug, PartialEq)]
    #[coo(name = "Cargo")]
    pub struct CargoHold {
        pub tons: u32,
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Ship")]
        pub struct Ship {
            pub x: f32,
            #[coo(default = 100)]
            pub fuel: u32,
            #[coo(default = String::from("unnamed"))]
            pub name: String,
            pub speed: f64,
            pub tags: Vec<String>,
            pub engine: Engine,
            pub spare: Option<CargoHold>,
        }
    }
    pub mod v2_no_default {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Ship")]
        pub struct Ship {
            pub x: f32,
            pub hold: CargoHold,
            pub dock: Handle<CargoHold>,
        }
    }

    #[test]
    fn new_fields_take_their_default_attribute_or_their_types_default() {
        let mut state = state_with(v1::Ship { x: 2.5 });
        let report = migrate(&mut state, &[v2::Ship::DESC]).unwrap();
        let s = state.get::<v2::Ship>().unwrap();
        assert_eq!(s.x, 2.5);
        assert_eq!(s.fuel, 100);
        assert_eq!(s.name, "unnamed");
        assert_eq!(s.speed, 0.0);
        assert!(s.tags.is_empty());
        assert_eq!(s.engine, Engine { power: 9 });
        assert_eq!(s.spare, None);
        let text = report.to_string();
        assert!(text.contains("+ fuel: u32"), "{text}");
    }

    #[test]
    fn a_new_field_without_any_default_is_refused_saying_what_to_add() {
        let mut state = state_with(v1::Ship { x: 2.5 });
        let problems = problems(migrate(&mut state, &[v2_no_default::Ship::DESC]).unwrap_err());
        assert_eq!(problems.len(), 2, "every problem at once: {problems:?}");
        assert!(problems.iter().all(|p| p.kind == ProblemKind::NoDefault));
        let hold = &problems[0];
        assert_eq!(hold.ty, "Ship");
        assert_eq!(hold.field.as_deref(), Some("hold"));
        assert_eq!(hold.new_ty.as_deref(), Some("Cargo"));
        assert!(hold.fix.contains("#[coo(default = ...)]"), "{}", hold.fix);
        assert!(
            hold.fix.contains("implement `Default` for `Cargo`"),
            "{}",
            hold.fix
        );
        assert_eq!(problems[1].field.as_deref(), Some("dock"));
        assert_eq!(state.get::<v1::Ship>().unwrap().x, 2.5, "untouched");
    }

    fn no_fuel_today() -> u32 {
        panic!("no fuel today")
    }

    pub mod v2_panicking_default {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Ship")]
        pub struct Ship {
            pub x: f32,
            #[coo(default = no_fuel_today())]
            pub fuel: u32,
        }
    }

    #[test]
    fn a_panicking_default_is_refused_saying_what_to_write() {
        let mut state = state_with(v1::Ship { x: 2.5 });
        let err =
            migrate_error(migrate(&mut state, &[v2_panicking_default::Ship::DESC]).unwrap_err());
        assert!(
            matches!(&err, ExecuteError { path, kind: ExecuteErrorKind::Default(DefaultPanicked { message }) }
                if path.to_string() == "Ship.fuel" && message == "no fuel today"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "the default of `Ship.fuel` panicked: no fuel today; make the `Default` impl or \
             `#[coo(default = ...)]` expression that makes it not panic, or give the field a \
             `#[coo(default = ...)]` that does not"
        );
        assert_eq!(state.get::<v1::Ship>().unwrap().x, 2.5, "untouched");
    }
}

mod removed_fields {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Bag")]
        pub struct Bag {
            pub keep: u32,
            pub gone: Vec<Tracked>,
            pub also_gone: String,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Bag")]
        pub struct Bag {
            pub keep: u32,
        }
    }

    #[test]
    fn removed_fields_are_dropped_once_and_reported() {
        let start = drops();
        let mut state = state_with(v1::Bag {
            keep: 3,
            gone: vec![Tracked { id: 1 }, Tracked { id: 2 }],
            also_gone: "x".into(),
        });
        let report = migrate(&mut state, &[v2::Bag::DESC]).unwrap();
        assert_eq!(
            drops() - start,
            2,
            "the removed Vec's elements dropped exactly once"
        );
        assert_eq!(state.get::<v2::Bag>().unwrap().keep, 3);
        let text = report.to_string();
        assert!(
            text.contains("- gone: Vec<Tracked> (values dropped)"),
            "{text}"
        );
        assert!(
            text.contains("- also_gone: String (values dropped)"),
            "{text}"
        );
        drop(state);
        assert_eq!(drops() - start, 2);
    }
}

mod containers {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug, Clone, PartialEq, Default)]
        #[coo(name = "Cell")]
        pub struct Cell {
            pub v: i32,
        }
        #[derive(CooType, Debug)]
        #[coo(name = "Grid")]
        pub struct Grid {
            pub grow: [Cell; 2],
            pub shrink: [Cell; 3],
            pub list: Vec<Cell>,
            pub maybe: Option<Cell>,
            pub none: Option<Cell>,
            pub boxed: Box<Cell>,
            pub nested: Vec<Option<Box<Cell>>>,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Cell")]
        pub struct Cell {
            pub v: i64,
            #[coo(default = 7)]
            pub w: u8,
        }
        impl Default for Cell {
            fn default() -> Self {
                Cell { v: -1, w: 1 }
            }
        }
        #[derive(CooType, Debug)]
        #[coo(name = "Grid")]
        pub struct Grid {
            pub grow: [Cell; 4],
            pub shrink: [Cell; 1],
            pub list: Vec<Cell>,
            pub maybe: Option<Cell>,
            pub none: Option<Cell>,
            pub boxed: Box<Cell>,
            pub nested: Vec<Option<Box<Cell>>>,
        }
    }

    fn c(v: i32) -> v1::Cell {
        v1::Cell { v }
    }

    fn grid(shrink_tail: i32) -> v1::Grid {
        v1::Grid {
            grow: [c(1), c(2)],
            shrink: [c(5), c(0), c(shrink_tail)],
            list: vec![c(10), c(11), c(12)],
            maybe: Some(c(20)),
            none: None,
            boxed: Box::new(c(30)),
            nested: vec![Some(Box::new(c(40))), None, Some(Box::new(c(41)))],
        }
    }

    fn n(v: i64) -> v2::Cell {
        v2::Cell { v, w: 7 }
    }

    #[test]
    fn containers_around_a_changed_type_migrate_element_wise() {
        let mut state = state_with(grid(0));
        let report = migrate(&mut state, &[v2::Grid::DESC]).unwrap();
        let g = state.get::<v2::Grid>().unwrap();
        assert_eq!(
            g.grow,
            [n(1), n(2), v2::Cell::default(), v2::Cell::default()]
        );
        assert_eq!(g.shrink, [n(5)]);
        assert_eq!(g.list, vec![n(10), n(11), n(12)]);
        assert_eq!(g.maybe, Some(n(20)));
        assert_eq!(g.none, None);
        assert_eq!(*g.boxed, n(30));
        assert_eq!(
            g.nested,
            vec![Some(Box::new(n(40))), None, Some(Box::new(n(41)))]
        );
        // 2 + 2 (shrink keeps 1 of 3: its first element, the two dropped ones are not migrated)
        assert_eq!(report.ty("Cell").unwrap().values, 2 + 1 + 3 + 1 + 1 + 2);
    }

    #[test]
    fn shrinking_an_array_that_holds_non_default_values_is_refused() {
        let mut state = state_with(grid(9));
        let err = migrate_error(migrate(&mut state, &[v2::Grid::DESC]).unwrap_err());
        match &err {
            ExecuteError {
                path,
                kind:
                    ExecuteErrorKind::ArrayShrink {
                        old_len,
                        new_len,
                        index,
                    },
            } => {
                assert_eq!(path.to_string(), "Grid.shrink");
                assert_eq!((*old_len, *new_len, *index), (3, 1, 2));
            }
            other => panic!("{other}"),
        }
        assert_eq!(state.get::<v1::Grid>().unwrap().shrink[2], c(9));
    }
}

mod enums {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug)]
        #[coo(name = "Door")]
        pub enum Door {
            Open,
            Closed { locks: u8 },
            Frozen(String),
        }
        #[derive(CooType, Debug)]
        #[coo(name = "House")]
        pub struct House {
            pub doors: Vec<Door>,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Door")]
        pub enum Door {
            Open,
            Closed {
                locks: u32,
                #[coo(rename_from = "unused")]
                keys: Vec<u8>,
            },
            Frozen(String),
            Ajar(f32),
        }
        #[derive(CooType, Debug)]
        #[coo(name = "House")]
        pub struct House {
            pub doors: Vec<Door>,
        }
    }
    pub mod v3 {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Door")]
        pub enum Door {
            Open,
            Closed { locks: u8 },
        }
        #[derive(CooType, Debug)]
        #[coo(name = "House")]
        pub struct House {
            pub doors: Vec<Door>,
        }
    }
    pub mod v4 {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Door")]
        pub enum Door {
            Open,
            Closed { locks: String },
            Frozen(String),
        }
        #[derive(CooType, Debug)]
        #[coo(name = "House")]
        pub struct House {
            pub doors: Vec<Door>,
        }
    }

    fn house() -> v1::House {
        v1::House {
            doors: vec![
                v1::Door::Open,
                v1::Door::Closed { locks: 3 },
                v1::Door::Frozen("ice".into()),
            ],
        }
    }

    #[test]
    fn variants_added_and_variant_fields_widened() {
        let mut state = state_with(house());
        let report = migrate(&mut state, &[v2::House::DESC]).unwrap();
        let h = state.get::<v2::House>().unwrap();
        assert_eq!(
            h.doors,
            vec![
                v2::Door::Open,
                v2::Door::Closed {
                    locks: 3,
                    keys: vec![]
                },
                v2::Door::Frozen("ice".into()),
            ]
        );
        let text = report.to_string();
        assert!(text.contains("+ variant Ajar"), "{text}");
        assert!(text.contains("~ variant Closed"), "{text}");
        assert!(text.contains("~ locks: u8 -> u32"), "{text}");
    }

    #[test]
    fn a_removed_variant_with_live_values_is_refused_naming_the_value() {
        let mut state = state_with(house());
        let err = migrate_error(migrate(&mut state, &[v3::House::DESC]).unwrap_err());
        match &err {
            ExecuteError {
                path,
                kind: ExecuteErrorKind::VariantRemoved { ty, variant },
            } => {
                assert_eq!(path.to_string(), "House.doors[2]");
                assert_eq!((ty.as_str(), variant.as_str()), ("Door", "Frozen"));
            }
            other => panic!("{other}"),
        }
        assert_eq!(state.get::<v1::House>().unwrap().doors.len(), 3);
    }

    #[test]
    fn a_removed_variant_without_live_values_is_fine() {
        let mut state = state_with(v1::House {
            doors: vec![v1::Door::Closed { locks: 1 }],
        });
        migrate(&mut state, &[v3::House::DESC]).unwrap();
        assert_eq!(
            state.get::<v3::House>().unwrap().doors,
            vec![v3::Door::Closed { locks: 1 }]
        );
    }

    #[test]
    fn an_incompatible_variant_field_is_refused_without_a_hook() {
        let mut state = state_with(house());
        let problems = problems(migrate(&mut state, &[v4::House::DESC]).unwrap_err());
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert_eq!(p.kind, ProblemKind::Incompatible);
        assert_eq!(p.ty, "Door");
        assert_eq!(p.field.as_deref(), Some("Closed.locks"));
        assert_eq!(p.old_ty.as_deref(), Some("u8"));
        assert_eq!(p.new_ty.as_deref(), Some("String"));
        assert!(p.fix.contains("#[coo(migrate = your_fn)]"), "{}", p.fix);
    }
}

mod type_rename_and_removal {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Monster")]
        pub struct Monster {
            pub hp: u32,
        }
        #[derive(CooType)]
        #[coo(name = "Level")]
        pub struct Level {
            pub monsters: Vec<Monster>,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Enemy", rename_from = "Monster")]
        pub struct Enemy {
            pub hp: u32,
            pub armor: u8,
        }
        #[derive(CooType)]
        #[coo(name = "Level")]
        pub struct Level {
            pub monsters: Vec<Enemy>,
        }
    }
    pub mod v3 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Other")]
        pub struct Other {
            pub x: u8,
        }
    }

    #[test]
    fn a_renamed_type_migrates_as_the_same_type() {
        let mut state = state_with(v1::Level {
            monsters: vec![v1::Monster { hp: 5 }, v1::Monster { hp: 6 }],
        });
        let report = migrate(&mut state, &[v2::Level::DESC]).unwrap();
        let hps: Vec<_> = state
            .get::<v2::Level>()
            .unwrap()
            .monsters
            .iter()
            .map(|m| (m.hp, m.armor))
            .collect();
        assert_eq!(hps, vec![(5, 0), (6, 0)]);
        assert_eq!(report.ty("Enemy").unwrap().values, 2);
        assert!(report.to_string().contains("Enemy (renamed from Monster)"));
    }

    #[test]
    fn removing_a_type_with_live_values_is_refused() {
        let mut state = state_with(v1::Monster { hp: 1 });
        let problems = problems(migrate(&mut state, &[v3::Other::DESC]).unwrap_err());
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].kind,
            ProblemKind::TypeRemoved { live_values: 1 }
        );
        assert!(
            problems[0]
                .to_string()
                .contains("1 live value of it remains")
        );
    }
}

mod incompatible {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Score")]
        pub struct Score {
            pub points: String,
            pub level: u8,
        }
        #[derive(CooType)]
        #[coo(name = "Shape")]
        pub struct Shape {
            pub w: u32,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Debug)]
        #[coo(name = "Score")]
        pub struct Score {
            pub points: u32,
            pub level: bool,
        }
        #[derive(CooType)]
        #[coo(name = "Shape")]
        pub enum Shape {
            Square(u32),
        }
    }
    pub mod v2_hook {
        use super::*;
        use coo_runtime::ValueView;
        #[derive(CooType, Debug)]
        #[coo(name = "Score", migrate = upgrade)]
        pub struct Score {
            pub points: u32,
            pub level: bool,
        }
        fn upgrade(old: &ValueView<'_>, new: &mut Score) -> Result<(), String> {
            let text = old.str("points").map_err(|e| e.to_string())?;
            new.points = text
                .parse()
                .map_err(|e| format!("points {text:?} is not a number: {e}"))?;
            new.level = old.get::<u8>("level").map_err(|e| e.to_string())? > 0;
            if text == "999" {
                panic!("hook panicked on purpose");
            }
            Ok(())
        }
    }

    #[test]
    fn incompatible_fields_and_kinds_are_refused_all_at_once() {
        let mut state = state_with(v1::Score {
            points: "12".into(),
            level: 1,
        });
        state.insert(v1::Shape { w: 1 });
        let problems =
            problems(migrate(&mut state, &[v2::Score::DESC, v2::Shape::DESC]).unwrap_err());
        let described: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 3, "{described:#?}");
        assert!(
            described
                .iter()
                .any(|d| d
                    .contains("`Score.points` cannot be converted (old: `String`, new: `u32`)")),
            "{described:#?}"
        );
        assert!(
            described
                .iter()
                .any(|d| d.contains("`Score.level` cannot be converted (old: `u8`, new: `bool`)")),
            "{described:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.kind == ProblemKind::KindChanged && p.ty == "Shape")
        );
    }

    #[test]
    fn a_hook_converts_what_the_automatic_mapping_cannot() {
        let mut state = state_with(v1::Score {
            points: "12".into(),
            level: 1,
        });
        migrate(&mut state, &[v2_hook::Score::DESC]).unwrap();
        let s = state.get::<v2_hook::Score>().unwrap();
        assert_eq!((s.points, s.level), (12, true));
    }

    #[test]
    fn a_failing_hook_rolls_back_with_its_message() {
        let mut state = state_with(v1::Score {
            points: "twelve".into(),
            level: 1,
        });
        let err = migrate_error(migrate(&mut state, &[v2_hook::Score::DESC]).unwrap_err());
        match &err {
            ExecuteError {
                path,
                kind: ExecuteErrorKind::Hook { ty, message },
            } => {
                assert_eq!(path.to_string(), "Score");
                assert_eq!(ty, "Score");
                assert_eq!(
                    message,
                    "points \"twelve\" is not a number: invalid digit found in string"
                );
            }
            other => panic!("{other}"),
        }
        assert_eq!(state.get::<v1::Score>().unwrap().points, "twelve");
    }

    #[test]
    fn a_panicking_hook_rolls_back_with_the_panic_message() {
        let mut state = state_with(v1::Score {
            points: "999".into(),
            level: 1,
        });
        let err = migrate_error(migrate(&mut state, &[v2_hook::Score::DESC]).unwrap_err());
        assert!(
            matches!(&err, ExecuteError { kind: ExecuteErrorKind::Hook { message, .. }, .. }
                if message == "the hook panicked: hook panicked on purpose"),
            "{err}"
        );
        assert_eq!(state.get::<v1::Score>().unwrap().points, "999");
    }
}

mod handles {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug)]
        #[coo(name = "Unit")]
        pub struct Unit {
            pub hp: u16,
        }
        #[derive(CooType)]
        #[coo(name = "Army")]
        pub struct Army {
            pub units: Pool<Unit>,
            pub leader: Option<Handle<Unit>>,
            pub fallen: Handle<Unit>,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Debug)]
        #[coo(name = "Unit")]
        pub struct Unit {
            pub name: String,
            pub hp: u32,
        }
        #[derive(CooType)]
        #[coo(name = "Army")]
        pub struct Army {
            pub units: Pool<Unit>,
            pub leader: Option<Handle<Unit>>,
            pub fallen: Handle<Unit>,
        }
    }

    #[test]
    fn handles_survive_migration_and_stale_ones_stay_stale() {
        let mut units = Pool::new();
        let a = units.insert(v1::Unit { hp: 10 });
        let b = units.insert(v1::Unit { hp: 20 });
        let c = units.insert(v1::Unit { hp: 30 });
        units.remove(b).unwrap();
        let mut state = state_with(v1::Army {
            units,
            leader: Some(c),
            fallen: b,
        });
        migrate(&mut state, &[v2::Army::DESC]).unwrap();
        let army = state.get::<v2::Army>().unwrap();
        let leader = army.leader.unwrap();
        assert_eq!(army.units.get(leader).unwrap().hp, 30);
        assert_eq!(
            army.units
                .get(Handle::from_raw(a.index(), a.generation()))
                .unwrap()
                .hp,
            10
        );
        assert_eq!(
            army.units.get(army.fallen).map(|u| u.hp),
            Err(StaleHandle {
                index: b.index(),
                handle: b.generation(),
                current: b.generation() + 1,
            }),
            "stale before, stale after"
        );
        assert_eq!(army.units.len(), 2);
        // The free slot is reused with a new generation, never handing out the stale handle.
        let army = state.get_mut::<v2::Army>().unwrap();
        let d = army.units.insert(v2::Unit {
            name: "new".into(),
            hp: 1,
        });
        assert_eq!(d.index(), b.index());
        assert_ne!(d.generation(), b.generation());
    }
}

mod rollback {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Item")]
        pub struct Item {
            pub tag: Tracked,
            pub weight: i64,
        }
        #[derive(CooType)]
        #[coo(name = "Inventory")]
        pub struct Inventory {
            pub items: Vec<Item>,
            pub owner: String,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Item")]
        pub struct Item {
            pub tag: Tracked,
            pub weight: i16,
        }
        #[derive(CooType)]
        #[coo(name = "Inventory")]
        pub struct Inventory {
            pub items: Vec<Item>,
            pub owner: String,
        }
    }

    fn inventory(weights: &[i64]) -> v1::Inventory {
        v1::Inventory {
            items: weights
                .iter()
                .enumerate()
                .map(|(i, &w)| v1::Item {
                    tag: Tracked { id: i as u32 },
                    weight: w,
                })
                .collect(),
            owner: "me".into(),
        }
    }

    fn fingerprint(state: &State) -> (usize, usize, Vec<(u32, i64)>, usize) {
        let inv = state.get::<v1::Inventory>().unwrap();
        (
            state.resource("Inventory").unwrap().as_ptr() as usize,
            inv.items.as_ptr() as usize,
            inv.items.iter().map(|i| (i.tag.id, i.weight)).collect(),
            inv.owner.as_ptr() as usize,
        )
    }

    #[test]
    fn a_refused_migration_leaves_the_old_state_exactly_as_it_was_and_leaks_nothing() {
        let start = drops();
        let mut state = state_with(inventory(&[1, 2, 3, 1 << 20, 5]));
        let before = fingerprint(&state);
        let err = migrate_error(migrate(&mut state, &[v2::Inventory::DESC]).unwrap_err());
        assert_eq!(
            err.path.0,
            vec![
                Seg::Name("Inventory".into()),
                Seg::Name("items".into()),
                Seg::Index(3),
                Seg::Name("weight".into())
            ]
        );
        assert_eq!(err.path.to_string(), "Inventory.items[3].weight");
        // The new items built before the failure shared their tags with the old items (moved,
        // not copied): taking them apart dropped nothing.
        assert_eq!(drops() - start, 0);
        assert_eq!(fingerprint(&state), before, "same addresses, same values");
        drop(state);
        assert_eq!(drops() - start, 5, "every item dropped exactly once");
    }

    thread_local! {
        static GRADES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    /// A default that works twice, then panics (per test thread).
    fn third_grade_panics() -> u8 {
        let n = GRADES.with(|g| {
            g.set(g.get() + 1);
            g.get()
        });
        assert!(n < 3, "no third grade");
        n as u8
    }

    /// Each item gains a field whose default panics for the third item.
    pub mod v3 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Item")]
        pub struct Item {
            pub tag: Tracked,
            pub weight: i64,
            #[coo(default = third_grade_panics())]
            pub grade: u8,
        }
        #[derive(CooType)]
        #[coo(name = "Inventory")]
        pub struct Inventory {
            pub items: Vec<Item>,
            pub owner: String,
        }
    }

    /// The same, with a new `String` field besides, whose default is not a plain write (the
    /// items are then built step by step, not by the plain ops).
    pub mod v4 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Item")]
        pub struct Item {
            pub tag: Tracked,
            pub label: String,
            pub weight: i64,
            #[coo(default = third_grade_panics())]
            pub grade: u8,
        }
        #[derive(CooType)]
        #[coo(name = "Inventory")]
        pub struct Inventory {
            pub items: Vec<Item>,
            pub owner: String,
        }
    }

    fn refused_at_the_third_item(new: &'static TypeDesc) {
        GRADES.with(|g| g.set(0));
        let start = drops();
        let mut state = state_with(inventory(&[1, 2, 3, 4]));
        let before = fingerprint(&state);
        let err = migrate_error(migrate(&mut state, &[new]).unwrap_err());
        assert!(
            matches!(&err, ExecuteError { path, kind: ExecuteErrorKind::Default(DefaultPanicked { message }) }
                if path.to_string() == "Inventory.items[2].grade" && message == "no third grade"),
            "{err:?}"
        );
        assert_eq!(
            GRADES.with(|g| g.get()),
            3,
            "no item after the third was started"
        );
        assert_eq!(drops() - start, 0, "the two items built shared their tags");
        assert_eq!(fingerprint(&state), before, "same addresses, same values");
        drop(state);
        assert_eq!(drops() - start, 4, "every item dropped exactly once");
    }

    #[test]
    fn a_default_panicking_inside_a_vector_of_plain_items_leaves_the_old_state() {
        refused_at_the_third_item(v3::Inventory::DESC);
    }

    #[test]
    fn a_default_panicking_inside_a_vector_of_items_built_step_by_step_leaves_the_old_state() {
        refused_at_the_third_item(v4::Inventory::DESC);
    }

    #[test]
    fn plain_items_that_gained_a_field_keep_every_value() {
        GRADES.with(|g| g.set(0));
        let start = drops();
        let mut state = state_with(inventory(&[7, -8]));
        migrate(&mut state, &[v3::Inventory::DESC]).unwrap();
        let inv = state.get::<v3::Inventory>().unwrap();
        let items: Vec<(u32, i64, u8)> = inv
            .items
            .iter()
            .map(|i| (i.tag.id, i.weight, i.grade))
            .collect();
        assert_eq!(items, vec![(0, 7, 1), (1, -8, 2)]);
        assert_eq!(inv.owner, "me");
        assert_eq!(drops() - start, 0);
        drop(state);
        assert_eq!(drops() - start, 2);
    }

    #[test]
    fn a_committed_migration_drops_each_old_value_once() {
        let start = drops();
        let mut state = state_with(inventory(&[1, 2, 3]));
        migrate(&mut state, &[v2::Inventory::DESC]).unwrap();
        assert_eq!(
            drops() - start,
            0,
            "the items moved: nothing dropped at commit"
        );
        let ids: Vec<u32> = state
            .get::<v2::Inventory>()
            .unwrap()
            .items
            .iter()
            .map(|i| i.tag.id)
            .collect();
        assert_eq!(ids, vec![0, 1, 2]);
        drop(state);
        assert_eq!(drops() - start, 3, "each item dropped exactly once");
    }
}

mod nested {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug)]
        #[coo(name = "Vec2")]
        pub struct Vec2 {
            pub x: f32,
            pub y: f32,
        }
        #[derive(CooType)]
        #[coo(name = "Body")]
        pub struct Body {
            pub pos: Vec2,
            pub vel: Vec2,
        }
        #[derive(CooType)]
        #[coo(name = "Sim")]
        pub struct Sim {
            pub bodies: Vec<Body>,
            pub gravity: Vec2,
            pub steps: u64,
        }
        #[derive(CooType)]
        #[coo(name = "Config")]
        pub struct Config {
            pub title: String,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Vec2")]
        pub struct Vec2 {
            pub x: f64,
            pub y: f64,
            pub z: f64,
        }
        #[derive(CooType)]
        #[coo(name = "Body")]
        pub struct Body {
            pub pos: Vec2,
            pub vel: Vec2,
            #[coo(default = 1.0)]
            pub mass: f32,
        }
        #[derive(CooType)]
        #[coo(name = "Sim")]
        pub struct Sim {
            pub bodies: Vec<Body>,
            pub gravity: Vec2,
            pub steps: u64,
        }
        #[derive(CooType)]
        #[coo(name = "Config")]
        pub struct Config {
            pub title: String,
        }
    }

    #[test]
    fn nested_changes_migrate_recursively_and_unchanged_resources_stay() {
        let mut state = State::new();
        state.insert(v1::Sim {
            bodies: (0..4)
                .map(|i| v1::Body {
                    pos: v1::Vec2 {
                        x: i as f32,
                        y: 0.5,
                    },
                    vel: v1::Vec2 { x: 1.0, y: -1.0 },
                })
                .collect(),
            gravity: v1::Vec2 { x: 0.0, y: -9.5 },
            steps: 77,
        });
        state.insert(v1::Config {
            title: "sim".into(),
        });
        let config_at = state.resource("Config").unwrap().as_ptr();
        let report = migrate(&mut state, &[v2::Sim::DESC, v2::Config::DESC]).unwrap();
        assert_eq!(report.kept, vec!["Config"]);
        assert_eq!(report.migrated, vec!["Sim"]);
        assert_eq!(state.resource("Config").unwrap().as_ptr(), config_at);
        let sim = state.get::<v2::Sim>().unwrap();
        assert_eq!(sim.steps, 77);
        assert_eq!(
            sim.gravity,
            v2::Vec2 {
                x: 0.0,
                y: -9.5,
                z: 0.0
            }
        );
        assert_eq!(sim.bodies.len(), 4);
        assert_eq!(
            sim.bodies[3].pos,
            v2::Vec2 {
                x: 3.0,
                y: 0.5,
                z: 0.0
            }
        );
        assert_eq!(sim.bodies[3].mass, 1.0);
        assert_eq!(report.ty("Vec2").unwrap().values, 9);
        assert_eq!(report.ty("Body").unwrap().values, 4);
        assert_eq!(state.get::<v2::Config>().unwrap().title, "sim");
    }
}

mod removed_inside_containers {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Inner")]
        pub struct Inner {
            pub keep: u32,
            pub gone: Tracked,
        }
        #[derive(CooType)]
        #[coo(name = "Choice")]
        pub enum Choice {
            Empty,
            Full { keep: u8, gone: Tracked },
        }
        #[derive(CooType)]
        #[coo(name = "Holder")]
        pub struct Holder {
            pub boxed: Box<Inner>,
            pub maybe: Option<Inner>,
            pub list: Vec<Inner>,
            pub pool: Pool<Inner>,
            pub choice: Choice,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Inner")]
        pub struct Inner {
            pub keep: u32,
        }
        #[derive(CooType)]
        #[coo(name = "Choice")]
        pub enum Choice {
            Empty,
            Full { keep: u8 },
        }
        #[derive(CooType)]
        #[coo(name = "Holder")]
        pub struct Holder {
            pub boxed: Box<Inner>,
            pub maybe: Option<Inner>,
            pub list: Vec<Inner>,
            pub pool: Pool<Inner>,
            pub choice: Choice,
        }
    }

    fn inner(keep: u32) -> v1::Inner {
        v1::Inner {
            keep,
            gone: Tracked { id: keep },
        }
    }

    #[test]
    fn fields_removed_deep_inside_boxes_options_vecs_pools_and_enums_drop_once() {
        let start = drops();
        let mut pool = Pool::new();
        pool.insert(inner(5));
        let mut state = state_with(v1::Holder {
            boxed: Box::new(inner(1)),
            maybe: Some(inner(2)),
            list: vec![inner(3), inner(4)],
            pool,
            choice: v1::Choice::Full {
                keep: 6,
                gone: Tracked { id: 6 },
            },
        });
        migrate(&mut state, &[v2::Holder::DESC]).unwrap();
        assert_eq!(
            drops() - start,
            6,
            "each removed `gone` dropped exactly once, at commit"
        );
        let h = state.get::<v2::Holder>().unwrap();
        assert_eq!(h.boxed.keep, 1);
        assert_eq!(h.maybe.as_ref().unwrap().keep, 2);
        assert_eq!(
            h.list.iter().map(|i| i.keep).collect::<Vec<_>>(),
            vec![3, 4]
        );
        assert_eq!(
            h.pool.iter().map(|(_, i)| i.keep).collect::<Vec<_>>(),
            vec![5]
        );
        assert!(matches!(h.choice, v2::Choice::Full { keep: 6 }));
        drop(state);
        assert_eq!(drops() - start, 6);
    }
}

mod mutual_recursion {
    //! `Tree` reaches itself through `Link`, and the field that leads there (`children`) comes
    //! before the field that changed (`value`): the comparison of `Link` runs while `Tree` is
    //! provisionally assumed unchanged, so `Link` must not be remembered as unchanged once
    //! `Tree` turns out changed. Both versions of `Tree` have the same size (the widened field
    //! takes the padding), so only the field comparison can tell them apart.
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Tree")]
        pub struct Tree {
            pub children: Vec<Link>,
            pub value: u16,
            pub tag: u16,
        }
        #[derive(CooType)]
        #[coo(name = "Link")]
        pub struct Link {
            pub weight: u16,
            pub target: Option<Box<Tree>>,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Tree")]
        pub struct Tree {
            pub children: Vec<Link>,
            pub value: u32,
            pub tag: u16,
        }
        #[derive(CooType)]
        #[coo(name = "Link")]
        pub struct Link {
            pub weight: u16,
            pub target: Option<Box<Tree>>,
        }
    }

    fn leaf(value: u16) -> v1::Tree {
        v1::Tree {
            children: Vec::new(),
            value,
            tag: value + 1,
        }
    }

    /// `(weight, (target's value, target's tag))` of each link, depth first.
    fn flatten(tree: &v2::Tree, out: &mut Vec<(u16, Option<(u32, u16)>)>) {
        for link in &tree.children {
            out.push((link.weight, link.target.as_ref().map(|t| (t.value, t.tag))));
            if let Some(t) = &link.target {
                flatten(t, out);
            }
        }
    }

    #[test]
    fn a_type_changed_behind_a_cycle_migrates_its_nested_values_too() {
        let mut state = state_with(v1::Tree {
            children: vec![
                v1::Link {
                    weight: 1,
                    target: Some(Box::new(v1::Tree {
                        children: vec![v1::Link {
                            weight: 2,
                            target: Some(Box::new(leaf(30))),
                        }],
                        value: 20,
                        tag: 21,
                    })),
                },
                v1::Link {
                    weight: 3,
                    target: None,
                },
            ],
            value: 10,
            tag: 11,
        });
        let plan = state.plan(&catalog(&[v2::Tree::DESC])).unwrap();
        let link = plan
            .types()
            .iter()
            .find(|t| t.new_type().name() == "Link")
            .expect("`Link` is planned");
        assert!(!link.unchanged, "`Link` holds a changed `Tree`");
        let report = migrate(&mut state, &[v2::Tree::DESC]).unwrap();
        assert_eq!(report.migrated, vec!["Tree"]);
        assert_eq!(report.ty("Tree").unwrap().values, 3);
        assert_eq!(report.ty("Link").unwrap().values, 3);
        assert_eq!(v1::Tree::DESC.size(), v2::Tree::DESC.size());
        let tree = state.get::<v2::Tree>().unwrap();
        assert_eq!((tree.value, tree.tag), (10, 11));
        let mut links = Vec::new();
        flatten(tree, &mut links);
        assert_eq!(
            links,
            vec![(1, Some((20, 21))), (2, Some((30, 31))), (3, None)]
        );
    }

    #[test]
    fn the_verdict_does_not_depend_on_which_type_is_compared_first() {
        // Planning a live `Link` first compares `Link` at the top, where the old memo was
        // right; a live `Tree` next to it must then still see `Link` as changed.
        let mut state = State::new();
        state.insert(v1::Link {
            weight: 7,
            target: Some(Box::new(leaf(70))),
        });
        state.insert(v1::Tree {
            children: vec![v1::Link {
                weight: 8,
                target: Some(Box::new(leaf(80))),
            }],
            value: 9,
            tag: 10,
        });
        let report = migrate(&mut state, &[v2::Tree::DESC, v2::Link::DESC]).unwrap();
        assert_eq!(report.migrated, vec!["Link", "Tree"]);
        let link = state.get::<v2::Link>().unwrap();
        assert_eq!(
            (link.weight, link.target.as_ref().map(|t| (t.value, t.tag))),
            (7, Some((70, 71)))
        );
        let tree = state.get::<v2::Tree>().unwrap();
        let mut links = Vec::new();
        flatten(tree, &mut links);
        assert_eq!((tree.value, links), (9, vec![(8, Some((80, 81)))]));
    }
}

mod resources_merging {
    //! Two live resources whose types both continue into one new type: the state holds one
    //! value per type, so this is refused at planning, naming both old types.
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Foo")]
        pub struct Foo {
            pub x: u32,
        }
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Bar")]
        pub struct Bar {
            pub x: u32,
        }
        #[derive(CooType, Debug, PartialEq)]
        #[coo(name = "Baz")]
        pub struct Baz {
            pub x: u32,
        }
    }
    pub mod v2_onto_existing {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Bar", rename_from = "Foo")]
        pub struct Bar {
            pub x: u32,
        }
    }
    pub mod v2_two_claimed {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Qux", rename_from = "Foo", rename_from = "Baz")]
        pub struct Qux {
            pub x: u64,
        }
    }

    #[test]
    fn a_type_renamed_onto_another_live_resource_is_refused_and_nothing_changes() {
        let mut state = State::new();
        state.insert(v1::Foo { x: 1 });
        state.insert(v1::Bar { x: 2 });
        let foo_at = state.resource("Foo").unwrap().as_ptr();
        let bar_at = state.resource("Bar").unwrap().as_ptr();
        let problems = problems(migrate(&mut state, &[v2_onto_existing::Bar::DESC]).unwrap_err());
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert_eq!(
            p.kind,
            ProblemKind::ResourcesMerged {
                old_types: vec!["Bar".to_owned(), "Foo".to_owned()]
            }
        );
        assert_eq!(p.ty, "Bar");
        assert_eq!(
            p.to_string(),
            "`Bar` would be the new type of 2 live resources, `Bar` and `Foo`, but the state holds one value per type: \
             remove all but one of these resources before reloading, \
             or drop `rename_from = \"Foo\"` from `Bar` and keep a type named `Foo` in the new version"
        );
        assert_eq!(state.len(), 2);
        assert_eq!(state.get::<v1::Foo>(), Some(&v1::Foo { x: 1 }));
        assert_eq!(state.get::<v1::Bar>(), Some(&v1::Bar { x: 2 }));
        assert_eq!(state.resource("Foo").unwrap().as_ptr(), foo_at);
        assert_eq!(state.resource("Bar").unwrap().as_ptr(), bar_at);
    }

    #[test]
    fn a_plan_that_merges_two_resources_is_not_carried_out() {
        // `State::plan` never makes one; a plan edited by hand is refused before anything
        // is built, instead of one resource overwriting the other.
        let mut state = State::new();
        state.insert(v1::Foo { x: 1 });
        state.insert(v1::Bar { x: 2 });
        let mut plan = state
            .plan(&catalog(&[v1::Foo::DESC, v1::Bar::DESC]))
            .unwrap();
        assert_eq!(plan.resources().len(), 2);
        let merged = coo_runtime::migration::plan::ResourcePlan::Keep(
            coo_runtime::migration::plan::Kept::between(v1::Foo::DESC, v1::Bar::DESC),
        );
        // SAFETY: both descriptors are compiled into this test.
        unsafe { plan.resources_mut()[1] = merged };
        let err = state.migrate(&plan).unwrap_err();
        assert!(
            matches!(
                err,
                ExecuteError {
                    kind: ExecuteErrorKind::StalePlan,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(state.get::<v1::Foo>(), Some(&v1::Foo { x: 1 }));
        assert_eq!(state.get::<v1::Bar>(), Some(&v1::Bar { x: 2 }));
    }

    #[test]
    fn two_live_types_claimed_by_one_new_type_are_refused_and_nothing_changes() {
        let mut state = State::new();
        state.insert(v1::Foo { x: 1 });
        state.insert(v1::Baz { x: 3 });
        let problems = problems(migrate(&mut state, &[v2_two_claimed::Qux::DESC]).unwrap_err());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].kind,
            ProblemKind::ResourcesMerged {
                old_types: vec!["Baz".to_owned(), "Foo".to_owned()]
            }
        );
        assert_eq!(problems[0].ty, "Qux");
        assert_eq!(
            problems[0].fix,
            "remove all but one of these resources before reloading, \
             or keep `rename_from` on `Qux` for only one of `Baz` or `Foo` and keep a type named after the other in the new version"
        );
        assert_eq!(state.get::<v1::Foo>(), Some(&v1::Foo { x: 1 }));
        assert_eq!(state.get::<v1::Baz>(), Some(&v1::Baz { x: 3 }));
    }
}

mod retired_slots {
    use super::handles::{v1, v2};
    use super::*;

    #[test]
    fn a_retired_pool_slot_stays_retired_across_migration() {
        let mut units = Pool::new();
        let kept = units.insert(v1::Unit { hp: 10 });
        let last = units.__insert_at_generation(v1::Unit { hp: 20 }, u32::MAX);
        units.remove(last).unwrap();
        // The first handle ever given for the retired slot, 2^32 removals ago.
        let first = Handle::<v2::Unit>::from_raw(last.index(), 0);
        let mut state = state_with(v1::Army {
            units,
            leader: Some(kept),
            fallen: last,
        });
        migrate(&mut state, &[v2::Army::DESC]).unwrap();
        let army = state.get_mut::<v2::Army>().unwrap();
        let new = army.units.insert(v2::Unit {
            name: "new".into(),
            hp: 1,
        });
        assert_eq!(
            (new.index(), new.generation()),
            (2, 0),
            "not the retired slot"
        );
        assert_eq!(
            army.units.get(first).map(|u| u.hp),
            Err(coo_runtime::StaleHandle {
                index: last.index(),
                handle: 0,
                current: u32::MAX,
            })
        );
        assert_eq!(army.units.get(army.leader.unwrap()).unwrap().hp, 10);
    }
}

/// A vector large enough to be built on several threads (its plan only copies, converts and sets
/// bytes): the result and the refusals are those of one loop.
mod large_vectors {
    use super::*;

    const N: usize = 1 << 20;

    pub mod v1 {
        use super::*;
        #[derive(CooType, Clone, Copy)]
        #[coo(name = "Cell")]
        pub struct Cell {
            pub a: u32,
            pub b: i64,
        }
        #[derive(CooType)]
        #[coo(name = "Grid")]
        pub struct Grid {
            pub cells: Vec<Cell>,
        }
    }

    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Cell")]
        pub struct Cell {
            pub a: u64,
            pub b: i32,
            #[coo(default = 7)]
            pub c: u16,
        }
        #[derive(CooType)]
        #[coo(name = "Grid")]
        pub struct Grid {
            pub cells: Vec<Cell>,
        }
    }

    fn grid(too_big: &[usize]) -> State {
        let mut cells: Vec<v1::Cell> = (0..N)
            .map(|i| v1::Cell {
                a: i as u32,
                b: -(i as i64),
            })
            .collect();
        for &i in too_big {
            cells[i].b = 1 << 40;
        }
        state_with(v1::Grid { cells })
    }

    #[test]
    #[cfg_attr(miri, ignore = "16 MiB of elements")]
    fn every_element_of_a_large_vector_is_converted() {
        let mut state = grid(&[]);
        migrate(&mut state, &[v2::Grid::DESC]).unwrap();
        let cells = &state.get::<v2::Grid>().unwrap().cells;
        assert_eq!(cells.len(), N);
        for (i, cell) in cells.iter().enumerate() {
            assert_eq!(
                (cell.a, cell.b, cell.c),
                (i as u64, -(i as i32), 7),
                "cell {i}"
            );
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "16 MiB of elements")]
    fn a_large_vector_is_refused_at_its_first_failing_element_and_left_as_it_was() {
        // Failing elements in the first and the last part of the vector: the first one is
        // reported, whichever thread got there first.
        let mut state = grid(&[N - 5, N / 2 + 3, 300_000]);
        let at = state.get::<v1::Grid>().unwrap().cells.as_ptr();
        let err = migrate_error(migrate(&mut state, &[v2::Grid::DESC]).unwrap_err());
        assert_eq!(err.path.to_string(), "Grid.cells[300000].b");
        assert!(
            matches!(&err.kind, ExecuteErrorKind::CheckedCast(InexactCast { value, .. }) if value == "1099511627776"),
            "{err:?}"
        );
        let cells = &state.get::<v1::Grid>().unwrap().cells;
        assert_eq!(cells.as_ptr(), at, "the old vector stayed");
        for (i, cell) in cells.iter().enumerate() {
            let b = if [N - 5, N / 2 + 3, 300_000].contains(&i) {
                1 << 40
            } else {
                -(i as i64)
            };
            assert_eq!((cell.a, cell.b), (i as u32, b), "cell {i}");
        }
    }
}

/// Vectors whose elements cannot fail are converted in place at commit (issue 13's peak memory):
/// the old buffer is grown with `realloc` and converted where it is, never built a second time.
mod in_place {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};

    /// The system allocator, counting per thread the bytes this thread holds (allocated minus
    /// freed) and their high-water mark. A `realloc` counts as its growth alone: what resizing a
    /// block costs when the allocator resizes it where it is or moves its pages (glibc's
    /// `mremap` for large blocks), and what tells "the buffer grew" from "a second buffer was
    /// built beside it".
    struct PerThread;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
        /// The largest fresh block (`alloc`, not `realloc`) since the last reset.
        static LARGEST: Cell<usize> = const { Cell::new(0) };
    }

    fn count(delta: isize) {
        let _ = LIVE.try_with(|live| {
            live.set(live.get() + delta);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
        });
    }

    fn fresh(size: usize) {
        count(size as isize);
        let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
    }

    // SAFETY: every call is forwarded to `System` unchanged, with the caller's layout and
    // pointer; the counters never affect what is returned.
    unsafe impl GlobalAlloc for PerThread {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract, forwarded.
            let ptr = unsafe { System.alloc(layout) };
            if !ptr.is_null() {
                fresh(layout.size());
            }
            ptr
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract, forwarded.
            let ptr = unsafe { System.alloc_zeroed(layout) };
            if !ptr.is_null() {
                fresh(layout.size());
            }
            ptr
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System` (every block here does) with `layout`.
            unsafe { System.dealloc(ptr, layout) };
            count(-(layout.size() as isize));
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: the caller's contract, forwarded; `ptr` came from `System` with `layout`.
            let new = unsafe { System.realloc(ptr, layout, new_size) };
            if !new.is_null() {
                count(new_size as isize - layout.size() as isize);
            }
            new
        }
    }

    #[global_allocator]
    static GLOBAL: PerThread = PerThread;

    /// What a migration may allocate on top of the growth of the vectors converted in place: the
    /// execution's bookkeeping (its stacks, counts, the report), a few KiB. Every test's vectors
    /// have more new bytes than this, so building any of them a second time exceeds it.
    const BOOKKEEPING: isize = 16 << 10;

    /// Carries out the migration of `state` to `new` (planned beforehand), returning its result
    /// and the bytes this thread held at its peak beyond what it held before.
    fn migrate_counted(
        state: &mut State,
        new: &[&'static TypeDesc],
    ) -> (Result<coo_runtime::Report, ExecuteError>, isize) {
        let (result, extra, _) = migrate_counted_largest(state, new);
        (result, extra)
    }

    /// As [`migrate_counted`], with the size of the largest block it allocated fresh.
    fn migrate_counted_largest(
        state: &mut State,
        new: &[&'static TypeDesc],
    ) -> (Result<coo_runtime::Report, ExecuteError>, isize, usize) {
        let plan = state.plan(&catalog(new)).expect("planned");
        let before = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(before));
        LARGEST.with(|l| l.set(0));
        let result = state.migrate(&plan);
        let extra = PEAK.with(Cell::get) - before;
        (result, extra, LARGEST.with(Cell::get))
    }

    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Grow")]
        pub struct Grow {
            pub id: Tracked,
            pub x: u32,
            pub y: f64,
        }
        #[derive(CooType)]
        #[coo(name = "Shrink")]
        pub struct Shrink {
            pub id: Tracked,
            pub gone: [u64; 4],
            pub x: u16,
            pub y: f64,
        }
        /// 32 KiB: one of them is more than the bookkeeping allows.
        #[derive(CooType)]
        #[coo(name = "Big")]
        pub struct Big {
            pub id: Tracked,
            pub data: [u64; 4096],
        }
        #[derive(CooType)]
        #[coo(name = "Outer")]
        pub struct Outer {
            pub items: Vec<Grow>,
            pub tag: u8,
        }
        #[derive(CooType, Default)]
        #[coo(name = "Lists")]
        pub struct Lists {
            pub grown: Vec<Grow>,
            pub shrunk: Vec<Shrink>,
            pub big: Vec<Big>,
            pub empty: Vec<Grow>,
            pub nested: Vec<Outer>,
            pub limit: u64,
        }
    }

    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Grow")]
        pub struct Grow {
            pub id: Tracked,
            pub x: u64,
            pub y: f64,
            #[coo(default = 5)]
            pub z: u16,
        }
        #[derive(CooType)]
        #[coo(name = "Shrink")]
        pub struct Shrink {
            pub id: Tracked,
            pub x: u32,
            pub y: f64,
        }
        #[derive(CooType)]
        #[coo(name = "Big")]
        pub struct Big {
            pub id: Tracked,
            pub data: [u64; 4096],
            #[coo(default = 9)]
            pub w: u64,
        }
        #[derive(CooType)]
        #[coo(name = "Outer")]
        pub struct Outer {
            pub items: Vec<Grow>,
            pub tag: u8,
        }
        #[derive(CooType)]
        #[coo(name = "Lists")]
        pub struct Lists {
            pub grown: Vec<Grow>,
            pub shrunk: Vec<Shrink>,
            pub big: Vec<Big>,
            pub empty: Vec<Grow>,
            pub nested: Vec<Outer>,
            pub limit: u8,
        }
    }

    /// 10,000 elements; 300 under Miri (whose run of 10,000 takes hours on a loaded machine;
    /// the overlap of old and new places, which Miri checks, concerns the first few elements).
    const N: usize = if cfg!(miri) { 300 } else { 10_000 };

    fn grow(i: usize) -> v1::Grow {
        v1::Grow {
            id: Tracked { id: i as u32 },
            x: u32::MAX - i as u32,
            y: i as f64 * 0.5,
        }
    }

    fn shrink(i: usize) -> v1::Shrink {
        v1::Shrink {
            id: Tracked { id: i as u32 },
            gone: [i as u64; 4],
            x: i as u16,
            y: -(i as f64),
        }
    }

    fn assert_grown(items: &[v2::Grow], offset: usize) {
        for (i, g) in items.iter().enumerate() {
            let i = i + offset;
            assert_eq!(
                (g.id.id, g.x, g.y, g.z),
                (i as u32, u64::from(u32::MAX - i as u32), i as f64 * 0.5, 5),
                "element {i}"
            );
        }
    }

    /// The growth of a vector of `len` elements from `cap` old ones of `T` to `len` new ones of
    /// `U`, or 0 when it shrinks.
    fn growth<T, U>(len: usize, cap: usize) -> isize {
        (len * size_of::<U>()) as isize - (cap * size_of::<T>()) as isize
    }

    #[test]
    fn a_vector_of_grown_elements_is_converted_in_place_with_exact_values_and_drops() {
        let mut state = state_with(v1::Lists {
            grown: (0..N).map(grow).collect(),
            ..Default::default()
        });
        let drops_before = drops();
        let (report, extra) = migrate_counted(&mut state, &[v2::Lists::DESC]);
        assert_eq!(report.unwrap().ty("Grow").unwrap().values, N as u64);
        assert_eq!(
            drops(),
            drops_before,
            "nothing dropped: every element moved"
        );
        let grown = growth::<v1::Grow, v2::Grow>(N, N);
        assert!(
            extra <= grown + BOOKKEEPING,
            "extra {extra} bytes at the peak: more than the growth ({grown}) of the buffer"
        );
        let lists = state.get::<v2::Lists>().unwrap();
        assert_eq!((lists.grown.len(), lists.grown.capacity()), (N, N));
        assert_grown(&lists.grown, 0);
        drop(state);
        assert_eq!(drops(), drops_before + N, "each element dropped once");
    }

    #[test]
    fn a_vector_of_shrunk_elements_is_converted_in_place_and_its_spare_room_given_back() {
        let mut shrunk = Vec::with_capacity(N + 100);
        shrunk.extend((0..N).map(shrink));
        let mut state = state_with(v1::Lists {
            shrunk,
            ..Default::default()
        });
        let drops_before = drops();
        let (report, extra) = migrate_counted(&mut state, &[v2::Lists::DESC]);
        assert_eq!(report.unwrap().ty("Shrink").unwrap().values, N as u64);
        assert_eq!(drops(), drops_before);
        assert!(
            extra <= BOOKKEEPING,
            "extra {extra} bytes at the peak: a shrinking vector needs none"
        );
        let lists = state.get::<v2::Lists>().unwrap();
        assert_eq!((lists.shrunk.len(), lists.shrunk.capacity()), (N, N));
        for (i, s) in lists.shrunk.iter().enumerate() {
            assert_eq!(
                (s.id.id, s.x, s.y),
                (i as u32, u32::from(i as u16), -(i as f64)),
                "element {i}"
            );
        }
        drop(state);
        assert_eq!(drops(), drops_before + N);
    }

    #[test]
    fn a_vector_of_one_element_and_an_empty_one_are_converted_in_place() {
        let mut data = [0u64; 4096];
        for (i, d) in data.iter_mut().enumerate() {
            *d = i as u64 * 3;
        }
        let mut state = state_with(v1::Lists {
            big: vec![v1::Big {
                id: Tracked { id: 77 },
                data,
            }],
            empty: Vec::with_capacity(16),
            ..Default::default()
        });
        let drops_before = drops();
        let (report, extra, largest) = migrate_counted_largest(&mut state, &[v2::Lists::DESC]);
        assert_eq!(report.unwrap().ty("Big").unwrap().values, 1);
        assert_eq!(drops(), drops_before);
        // One element gains nothing from converting in place: its new place overlaps its old
        // one, so it is read from a copy (one old element). But no new buffer is allocated.
        assert_eq!(
            largest,
            size_of::<v1::Big>(),
            "the largest fresh block is the copy of one old element, not a new buffer"
        );
        let grown = growth::<v1::Big, v2::Big>(1, 1) + size_of::<v1::Big>() as isize;
        assert!(
            extra <= grown + BOOKKEEPING,
            "extra {extra} bytes at the peak: more than the growth and the copy ({grown})"
        );
        let lists = state.get::<v2::Lists>().unwrap();
        assert_eq!((lists.big.len(), lists.big.capacity()), (1, 1));
        let big = &lists.big[0];
        assert_eq!((big.id.id, big.w), (77, 9));
        assert_eq!(big.data, data);
        assert!(lists.empty.is_empty());
        drop(state);
        assert_eq!(drops(), drops_before + 1);
    }

    #[test]
    fn vectors_inside_a_vectors_elements_are_converted_in_place() {
        const INNER: usize = if cfg!(miri) { 100 } else { 2_000 };
        let nested: Vec<v1::Outer> = (0..3)
            .map(|k| v1::Outer {
                items: (k * INNER..(k + 1) * INNER).map(grow).collect(),
                tag: k as u8,
            })
            .collect();
        let mut state = state_with(v1::Lists {
            nested,
            ..Default::default()
        });
        let drops_before = drops();
        let (report, extra) = migrate_counted(&mut state, &[v2::Lists::DESC]);
        let report = report.unwrap();
        assert_eq!(report.ty("Grow").unwrap().values, 3 * INNER as u64);
        assert_eq!(drops(), drops_before);
        // The outer vector is rebuilt (its elements are not flat): a new buffer of three.
        let grown =
            3 * growth::<v1::Grow, v2::Grow>(INNER, INNER) + (3 * size_of::<v2::Outer>()) as isize;
        assert!(
            extra <= grown + BOOKKEEPING,
            "extra {extra} bytes at the peak: more than the growth ({grown}) of the buffers"
        );
        let lists = state.get::<v2::Lists>().unwrap();
        assert_eq!(lists.nested.len(), 3);
        for (k, outer) in lists.nested.iter().enumerate() {
            assert_eq!(outer.tag, k as u8);
            assert_eq!(outer.items.len(), INNER);
            assert_grown(&outer.items, k * INNER);
        }
        drop(state);
        assert_eq!(drops(), drops_before + 3 * INNER);
    }

    #[test]
    fn a_refusal_elsewhere_in_the_transaction_leaves_the_vectors_untouched_and_intact() {
        let mut state = state_with(v1::Lists {
            grown: (0..N).map(grow).collect(),
            shrunk: (0..N).map(shrink).collect(),
            nested: vec![v1::Outer {
                items: (0..100).map(grow).collect(),
                tag: 4,
            }],
            limit: 300,
            ..Default::default()
        });
        let at = {
            let l = state.get::<v1::Lists>().unwrap();
            (
                l.grown.as_ptr(),
                l.grown.capacity(),
                l.shrunk.as_ptr(),
                l.nested[0].items.as_ptr(),
            )
        };
        let drops_before = drops();
        let (result, extra) = migrate_counted(&mut state, &[v2::Lists::DESC]);
        let err = result.unwrap_err();
        assert_eq!(err.path.to_string(), "Lists.limit");
        assert!(
            matches!(&err.kind, ExecuteErrorKind::CheckedCast(InexactCast { value, .. }) if value == "300"),
            "{err:?}"
        );
        assert!(
            extra <= BOOKKEEPING,
            "extra {extra} bytes at the peak: a refused migration built the vectors"
        );
        assert_eq!(drops(), drops_before, "nothing dropped");
        let l = state.get::<v1::Lists>().unwrap();
        assert_eq!(
            (
                l.grown.as_ptr(),
                l.grown.capacity(),
                l.shrunk.as_ptr(),
                l.nested[0].items.as_ptr()
            ),
            at,
            "the old vectors stayed"
        );
        for (i, g) in l.grown.iter().enumerate() {
            assert_eq!(
                (g.id.id, g.x, g.y),
                (i as u32, u32::MAX - i as u32, i as f64 * 0.5)
            );
        }
        for (i, s) in l.shrunk.iter().enumerate() {
            assert_eq!(
                (s.id.id, s.gone, s.x, s.y),
                (i as u32, [i as u64; 4], i as u16, -(i as f64))
            );
        }
        assert_eq!(l.nested[0].items.len(), 100);
        // The user fixes the value; the same reload goes through, in place.
        state.get_mut::<v1::Lists>().unwrap().limit = 200;
        let (report, extra) = migrate_counted(&mut state, &[v2::Lists::DESC]);
        assert_eq!(report.unwrap().ty("Grow").unwrap().values, N as u64 + 100);
        let grown = growth::<v1::Grow, v2::Grow>(N + 100, N + 100);
        assert!(extra <= grown + BOOKKEEPING, "extra {extra} bytes");
        assert_eq!(drops(), drops_before);
        let l = state.get::<v2::Lists>().unwrap();
        assert_eq!(l.limit, 200);
        assert_grown(&l.grown, 0);
        assert_grown(&l.nested[0].items, 0);
        drop(state);
        assert_eq!(drops(), drops_before + 2 * N + 100);
    }

    #[test]
    fn a_state_refused_later_in_a_transaction_of_several_leaves_the_first_states_vector_intact() {
        let mut first = state_with(v1::Lists {
            grown: (0..N).map(grow).collect(),
            ..Default::default()
        });
        let mut second = state_with(v1::Lists {
            limit: 300,
            ..Default::default()
        });
        let at = first.get::<v1::Lists>().unwrap().grown.as_ptr();
        let plans = [
            first.plan(&catalog(&[v2::Lists::DESC])).unwrap(),
            second.plan(&catalog(&[v2::Lists::DESC])).unwrap(),
        ];
        let drops_before = drops();
        let before = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(before));
        let err = State::migrate_together(&mut [(&mut first, &plans[0]), (&mut second, &plans[1])])
            .unwrap_err();
        let extra = PEAK.with(Cell::get) - before;
        assert_eq!(err.0, 1);
        assert_eq!(err.1.path.to_string(), "Lists.limit");
        assert!(
            extra <= BOOKKEEPING,
            "extra {extra} bytes at the peak: the refused transaction built the vector"
        );
        assert_eq!(drops(), drops_before);
        let l = first.get::<v1::Lists>().unwrap();
        assert_eq!(l.grown.as_ptr(), at, "the old vector stayed");
        for (i, g) in l.grown.iter().enumerate() {
            assert_eq!(
                (g.id.id, g.x, g.y),
                (i as u32, u32::MAX - i as u32, i as f64 * 0.5)
            );
        }
        second.get_mut::<v1::Lists>().unwrap().limit = 3;
        let reports =
            State::migrate_together(&mut [(&mut first, &plans[0]), (&mut second, &plans[1])])
                .unwrap();
        assert_eq!(reports[0].ty("Grow").unwrap().values, N as u64);
        assert_grown(&first.get::<v2::Lists>().unwrap().grown, 0);
        assert_eq!(second.get::<v2::Lists>().unwrap().limit, 3);
        drop(first);
        assert_eq!(drops(), drops_before + N);
    }
}
