//! The eighth property: generic instantiations and trait objects. A resource `World` holds a
//! generic struct `Gen<A>` (and a `Vec` of them) instantiated with a drawn argument type, and
//! `Box<dyn Shape>` objects (in a `Vec` and an `Option`) of two concrete types, `Sq` and `Ci`,
//! each holding a `Tracked`. The new version instantiates `Gen` with another drawn argument
//! (any integer to any integer, the values fitting both; a `String` or a `Tracked` to itself),
//! and changes both concrete types' layouts and method bodies; in some draws it no longer has
//! `Ci`'s impl.
//!
//! Rust types are fixed at compile time, so the versions are modules (`v1`, `v2`, `v3` for the
//! one without `Ci`), each with one `World` per argument type (`a_u8`, …, sharing the stable
//! name `World`), and a drawn argument picks one through [`with_arg`].
//!
//! The properties: the migration succeeds unless a live `Ci` meets a version without its impl;
//! every number and string keeps its value in the new argument type, every `Tracked` is moved
//! (none dropped by the migration, each dropped exactly once with the state), the objects
//! answer with the new version's method bodies on their migrated values (a new field's default
//! included), and the report counts the re-boxed objects per trait and concrete type. A live
//! `Ci` without an impl is refused with `ImplRemoved` at the first one's path; nothing is
//! dropped and the old objects still answer with the old code.

use std::collections::BTreeMap;

use coo_runtime::migration::execute::Seg;
use coo_runtime::{Catalog, CooType, ExecuteErrorKind, MigrationError, State, TypeDesc};
use proptest::prelude::*;

use super::{Tracked, config, drops, reset_counts};

/// A generic argument type of the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    U8,
    U16,
    U32,
    U64,
    I16,
    I64,
    Str,
    Tracked,
}

impl Arg {
    const INTS: [Arg; 6] = [Arg::U8, Arg::U16, Arg::U32, Arg::U64, Arg::I16, Arg::I64];
    const ALL: [Arg; 8] = [
        Arg::U8,
        Arg::U16,
        Arg::U32,
        Arg::U64,
        Arg::I16,
        Arg::I64,
        Arg::Str,
        Arg::Tracked,
    ];

    /// What a `Gen<self>` may become: any integer for an integer (the drawn values fit every
    /// integer of the menu, so a narrowing is checked and passes), else the same type.
    fn targets(self) -> Vec<Arg> {
        if Arg::INTS.contains(&self) {
            Arg::INTS.to_vec()
        } else {
            vec![self]
        }
    }
}

/// A value of a menu argument type, made from and read back as a number: the integer itself,
/// its decimal text, or a `Tracked`'s id.
pub trait ArgVal: Sized {
    fn make(n: u32) -> Self;
    fn num(&self) -> u32;
}

macro_rules! int_arg_val {
    ($($t:ty),*) => {$(
        impl ArgVal for $t {
            fn make(n: u32) -> Self {
                <$t>::try_from(n).expect("drawn values fit every integer of the menu")
            }
            fn num(&self) -> u32 {
                u32::try_from(*self).expect("a drawn value")
            }
        }
    )*};
}
int_arg_val!(u8, u16, u32, u64, i16, i64);

impl ArgVal for String {
    fn make(n: u32) -> Self {
        n.to_string()
    }
    fn num(&self) -> u32 {
        self.parse().expect("a drawn number's text")
    }
}

impl ArgVal for Tracked {
    fn make(n: u32) -> Self {
        Tracked { id: n }
    }
    fn num(&self) -> u32 {
        self.id
    }
}

/// Runs `$body` with `$m` standing for the module of `$version` whose `World` holds `Gen<A>`
/// for the menu entry `$arg`, and `$t` for `A`.
macro_rules! with_arg {
    ($arg:expr, $version:ident, $m:ident, $t:ident => $body:expr) => {
        match $arg {
            Arg::U8 => {
                use $version::a_u8 as $m;
                #[allow(dead_code)] // when `$body` needs only the module
                type $t = u8;
                $body
            }
            Arg::U16 => {
                use $version::a_u16 as $m;
                #[allow(dead_code)] // when `$body` needs only the module
                type $t = u16;
                $body
            }
            Arg::U32 => {
                use $version::a_u32 as $m;
                #[allow(dead_code)] // when `$body` needs only the module
                type $t = u32;
                $body
            }
            Arg::U64 => {
                use $version::a_u64 as $m;
                #[allow(dead_code)] // when `$body` needs only the module
                type $t = u64;
                $body
            }
            Arg::I16 => {
                use $version::a_i16 as $m;
                #[allow(dead_code)] // when `$body` needs only the module
                type $t = i16;
                $body
            }
            Arg::I64 => {
                use $version::a_i64 as $m;
                #[allow(dead_code)] // when `$body` needs only the module
                type $t = i64;
                $body
            }
            Arg::Str => {
                use $version::a_str as $m;
                #[allow(dead_code)] // when `$body` needs only the module
                type $t = String;
                $body
            }
            Arg::Tracked => {
                use $version::a_tracked as $m;
                #[allow(dead_code)] // when `$body` needs only the module
                type $t = Tracked;
                $body
            }
        }
    };
}

/// One `World` per argument type, in the version module that invokes it.
macro_rules! worlds {
    ($($m:ident: $t:ty),*) => {$(
        pub mod $m {
            use coo_runtime::CooType;

            #[derive(CooType)]
            #[coo(name = "World")]
            pub struct World {
                pub g: super::Gen<$t>,
                pub gs: Vec<super::Gen<$t>>,
                pub shapes: Vec<Box<dyn super::Shape>>,
                pub one: Option<Box<dyn super::Shape>>,
            }
        }
    )*};
}

/// Every argument type's `World`, in the version module that invokes it.
macro_rules! all_worlds {
    () => {
        worlds!(
            a_u8: u8,
            a_u16: u16,
            a_u32: u32,
            a_u64: u64,
            a_i16: i16,
            a_i64: i64,
            a_str: String,
            a_tracked: crate::Tracked
        );
    };
}

pub mod v1 {
    use coo_runtime::{CooType, coo_impl, coo_trait};

    use crate::Tracked;

    #[derive(CooType)]
    #[coo(name = "Gen")]
    pub struct Gen<T> {
        pub a: T,
        pub b: T,
        pub tag: Tracked,
    }

    #[coo_trait]
    pub trait Shape {
        fn area(&self) -> u64;
        /// The id of the object's `Tracked`.
        fn id(&self) -> u32;
    }

    #[derive(CooType)]
    #[coo(name = "Sq")]
    pub struct Sq {
        pub side: u16,
        pub t: Tracked,
    }

    #[coo_impl]
    impl Shape for Sq {
        fn area(&self) -> u64 {
            u64::from(self.side) * u64::from(self.side)
        }
        fn id(&self) -> u32 {
            self.t.id
        }
    }

    #[derive(CooType)]
    #[coo(name = "Ci")]
    pub struct Ci {
        pub r: u8,
        pub t: Tracked,
    }

    #[coo_impl]
    impl Shape for Ci {
        fn area(&self) -> u64 {
            3 * u64::from(self.r) * u64::from(self.r)
        }
        fn id(&self) -> u32 {
            self.t.id
        }
    }

    all_worlds!();
}

/// `Gen` gains a field with a default; `Sq` widens `side` and gains a field with a default;
/// `Ci` moves its `Tracked` first and widens `r`; both method bodies change.
pub mod v2 {
    use coo_runtime::{CooType, coo_impl, coo_trait};

    use crate::Tracked;

    #[derive(CooType)]
    #[coo(name = "Gen")]
    pub struct Gen<T> {
        pub a: T,
        #[coo(default = 5)]
        pub c: u16,
        pub b: T,
        pub tag: Tracked,
    }

    #[coo_trait]
    pub trait Shape {
        fn area(&self) -> u64;
        fn id(&self) -> u32;
    }

    #[derive(CooType)]
    #[coo(name = "Sq")]
    pub struct Sq {
        pub side: u32,
        #[coo(default = 7)]
        pub extra: u64,
        pub t: Tracked,
    }

    #[coo_impl]
    impl Shape for Sq {
        fn area(&self) -> u64 {
            u64::from(self.side) * u64::from(self.side) + self.extra
        }
        fn id(&self) -> u32 {
            self.t.id
        }
    }

    #[derive(CooType)]
    #[coo(name = "Ci")]
    pub struct Ci {
        pub t: Tracked,
        pub r: u64,
    }

    #[coo_impl]
    impl Shape for Ci {
        fn area(&self) -> u64 {
            4 * self.r * self.r
        }
        fn id(&self) -> u32 {
            self.t.id
        }
    }

    all_worlds!();
}

/// v2 without `Ci` (and its impl).
pub mod v3 {
    use coo_runtime::{CooType, coo_impl, coo_trait};

    use crate::Tracked;

    #[derive(CooType)]
    #[coo(name = "Gen")]
    pub struct Gen<T> {
        pub a: T,
        #[coo(default = 5)]
        pub c: u16,
        pub b: T,
        pub tag: Tracked,
    }

    #[coo_trait]
    pub trait Shape {
        fn area(&self) -> u64;
        fn id(&self) -> u32;
    }

    #[derive(CooType)]
    #[coo(name = "Sq")]
    pub struct Sq {
        pub side: u32,
        #[coo(default = 7)]
        pub extra: u64,
        pub t: Tracked,
    }

    #[coo_impl]
    impl Shape for Sq {
        fn area(&self) -> u64 {
            u64::from(self.side) * u64::from(self.side) + self.extra
        }
        fn id(&self) -> u32 {
            self.t.id
        }
    }

    all_worlds!();
}

/// A live object as plain data: its concrete type, its number (`Sq`'s side, `Ci`'s radius)
/// and its `Tracked` id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Obj {
    circle: bool,
    n: u8,
    id: u32,
}

impl Obj {
    fn area_v1(self) -> u64 {
        let n = u64::from(self.n);
        if self.circle { 3 * n * n } else { n * n }
    }

    /// With the new bodies, `Sq`'s new field at its default 7.
    fn area_v2(self) -> u64 {
        let n = u64::from(self.n);
        if self.circle { 4 * n * n } else { n * n + 7 }
    }

    fn type_name(self) -> &'static str {
        if self.circle { "Ci" } else { "Sq" }
    }
}

/// A drawn case. Numbers are `Gen`'s values (ids when the argument is `Tracked`).
#[derive(Debug, Clone)]
pub struct GenCase {
    old: Arg,
    new: Arg,
    g: (u32, u32, u32),
    gs: Vec<(u32, u32, u32)>,
    shapes: Vec<Obj>,
    one: Option<Obj>,
    /// The new version has no `Ci` (module `v3`).
    no_ci: bool,
}

impl GenCase {
    fn objects(&self) -> impl Iterator<Item = Obj> + '_ {
        self.shapes.iter().copied().chain(self.one)
    }

    /// Every `Tracked` id of the case, each once.
    fn ids(&self) -> Vec<u32> {
        let gen_ids = |&(a, b, tag): &(u32, u32, u32)| {
            if self.old == Arg::Tracked {
                vec![a, b, tag]
            } else {
                vec![tag]
            }
        };
        let mut ids: Vec<u32> = std::iter::once(&self.g)
            .chain(&self.gs)
            .flat_map(gen_ids)
            .collect();
        ids.extend(self.objects().map(|o| o.id));
        ids
    }

    /// Where the first live `Ci` is, when the new version has none.
    fn refused_at(&self) -> Option<Vec<Seg>> {
        if !self.no_ci {
            return None;
        }
        let name = |s: &str| Seg::Name(s.to_owned());
        if let Some(i) = self.shapes.iter().position(|o| o.circle) {
            return Some(vec![name("World"), name("shapes"), Seg::Index(i)]);
        }
        self.one
            .filter(|o| o.circle)
            .map(|_| vec![name("World"), name("one")])
    }
}

fn gen_case() -> impl Strategy<Value = GenCase> {
    let arg = proptest::sample::select(Arg::ALL.to_vec());
    let numbers = (0u32..=100, 0u32..=100);
    let obj = (any::<bool>(), any::<u8>());
    (
        arg,
        any::<proptest::sample::Index>(),
        numbers.clone(),
        proptest::collection::vec(numbers, 0..4),
        proptest::collection::vec(obj, 0..4),
        proptest::option::of(obj),
        any::<bool>(),
    )
        .prop_map(|(old, pick, g, gs, shapes, one, no_ci)| {
            let targets = old.targets();
            let new = targets[pick.index(targets.len())];
            // Ids from 1, each once: `Gen`'s values (when `Tracked`), tags, objects.
            let mut next = 0;
            let mut id = || {
                next += 1;
                next
            };
            let mut gen_vals = |(a, b): (u32, u32)| {
                if old == Arg::Tracked {
                    (id(), id(), id())
                } else {
                    (a, b, id())
                }
            };
            let g = gen_vals(g);
            let gs = gs.into_iter().map(&mut gen_vals).collect();
            let mut obj = |(circle, n): (bool, u8)| Obj {
                circle,
                n,
                id: id(),
            };
            let shapes = shapes.into_iter().map(&mut obj).collect();
            let one = one.map(&mut obj);
            GenCase {
                old,
                new,
                g,
                gs,
                shapes,
                one,
                no_ci,
            }
        })
}

fn catalog(desc: &'static TypeDesc) -> Catalog {
    Catalog::from_descs([desc]).expect("no duplicate names")
}

/// The old `World` of `case`, in a state.
fn old_state(case: &GenCase) -> State {
    let mut state = State::new();
    with_arg!(case.old, v1, m, T => {
        let make_gen = |&(a, b, tag): &(u32, u32, u32)| v1::Gen::<T> {
            a: T::make(a),
            b: T::make(b),
            tag: Tracked { id: tag },
        };
        let obj = |o: Obj| -> Box<dyn v1::Shape> {
            let t = Tracked { id: o.id };
            if o.circle {
                Box::new(v1::Ci { r: o.n, t })
            } else {
                Box::new(v1::Sq { side: u16::from(o.n), t })
            }
        };
        state.insert(m::World {
            g: make_gen(&case.g),
            gs: case.gs.iter().map(make_gen).collect(),
            shapes: case.shapes.iter().copied().map(obj).collect(),
            one: case.one.map(obj),
        });
    });
    state
}

/// The old `World`'s numbers, as `v1`'s code answers: `Gen`'s values and the objects' areas
/// and ids.
type Seen = (Vec<(u32, u32, u32)>, Vec<(u64, u32)>);

fn seen_v1(case: &GenCase, state: &State) -> Seen {
    with_arg!(case.old, v1, m, T => {
        let w = state.get::<m::World>().expect("the old world");
        let gens = std::iter::once(&w.g)
            .chain(&w.gs)
            .map(|g| (g.a.num(), g.b.num(), g.tag.id))
            .collect();
        let objs = w.shapes.iter().chain(&w.one).map(|s| (s.area(), s.id())).collect();
        (gens, objs)
    })
}

/// What the new version holds and answers: `Gen`'s values and new field, objects' areas and ids.
fn seen_new(case: &GenCase, state: &State) -> (Seen, Vec<u16>) {
    macro_rules! read {
        ($version:ident) => {
            with_arg!(case.new, $version, m, T => {
                let w = state.get::<m::World>().expect("the new world");
                let gs: Vec<&$version::Gen<T>> = std::iter::once(&w.g).chain(&w.gs).collect();
                let gens = gs.iter().map(|g| (g.a.num(), g.b.num(), g.tag.id)).collect();
                let cs = gs.iter().map(|g| g.c).collect();
                let objs = w.shapes.iter().chain(&w.one).map(|s| (s.area(), s.id())).collect();
                ((gens, objs), cs)
            })
        };
    }
    if case.no_ci { read!(v3) } else { read!(v2) }
}

fn new_desc(case: &GenCase) -> &'static TypeDesc {
    if case.no_ci {
        with_arg!(case.new, v3, m, T => m::World::DESC)
    } else {
        with_arg!(case.new, v2, m, T => m::World::DESC)
    }
}

fn run_gen_case(case: &GenCase) {
    reset_counts();
    let mut state = old_state(case);
    let gens: Vec<(u32, u32, u32)> = std::iter::once(case.g).chain(case.gs.clone()).collect();
    let before: Seen = (
        gens.clone(),
        case.objects().map(|o| (o.area_v1(), o.id)).collect(),
    );
    assert_eq!(seen_v1(case, &state), before);
    let result = state.migrate_to(&catalog(new_desc(case)));
    match case.refused_at() {
        Some(path) => {
            let err = match result {
                Err(MigrationError::Migrate(e)) => e,
                other => panic!("expected a refused migration, got {other:?}"),
            };
            assert_eq!(
                err.kind,
                ExecuteErrorKind::ImplRemoved {
                    trait_name: "Shape".into(),
                    ty: "Ci".into()
                }
            );
            assert_eq!(err.path.0, path);
            assert_eq!(drops(), BTreeMap::new(), "nothing dropped");
            assert_eq!(seen_v1(case, &state), before, "the old objects answer");
        }
        None => {
            let report = result.unwrap_or_else(|e| panic!("the migration failed: {e}"));
            assert_eq!(report.migrated, vec!["World"]);
            let mut reboxed: BTreeMap<String, u64> = BTreeMap::new();
            for o in case.objects() {
                *reboxed.entry(o.type_name().to_owned()).or_default() += 1;
            }
            let total: u64 = reboxed.values().sum();
            assert_eq!(
                report.rebound,
                if total == 0 {
                    BTreeMap::new()
                } else {
                    BTreeMap::from([("Shape".to_owned(), total)])
                }
            );
            assert_eq!(
                report.reboxed,
                if total == 0 {
                    BTreeMap::new()
                } else {
                    BTreeMap::from([("Shape".to_owned(), reboxed)])
                }
            );
            assert_eq!(
                drops(),
                BTreeMap::new(),
                "every Tracked moved, none dropped"
            );
            let after: Seen = (
                gens.clone(),
                case.objects().map(|o| (o.area_v2(), o.id)).collect(),
            );
            assert_eq!(seen_new(case, &state), (after, vec![5; gens.len()]));
        }
    }
    drop(state);
    let expected: BTreeMap<u32, usize> = case.ids().into_iter().map(|id| (id, 1)).collect();
    assert_eq!(drops(), expected, "every Tracked dropped exactly once");
}

proptest! {
    #![proptest_config(config())]

    /// A generic instantiated with drawn arguments that change, and trait objects whose
    /// concrete types change or go: migrated exactly, or refused with nothing dropped.
    #[test]
    fn random_generic_arguments_and_trait_objects_migrate(case in gen_case()) {
        run_gen_case(&case);
    }
}
