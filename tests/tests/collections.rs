//! In-process migration tests of tuples and the standard collections (`VecDeque`, `HashMap`,
//! `HashSet`, `BTreeMap`, `BTreeSet`): two versions of the same types in one binary (modules
//! `v1`, `v2` sharing stable names through `#[coo(name)]`), as in `migrate.rs`.
#![allow(missing_debug_implementations, dead_code)]

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use coo_runtime::migration::casts::InexactCast;
use coo_runtime::migration::execute::Seg;
use coo_runtime::{
    Catalog, CooType, ExecuteError, ExecuteErrorKind, MigrationError, Prim, ProblemKind, State,
    TypeDesc,
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

fn migrate_error(err: MigrationError) -> ExecuteError {
    match err {
        MigrationError::Migrate(e) => e,
        other => panic!("expected a migrate error, got {other}"),
    }
}

fn problems(err: MigrationError) -> Vec<coo_runtime::Problem> {
    match err {
        MigrationError::Plan(p) => p.problems,
        other => panic!("expected a plan error, got {other}"),
    }
}

fn name(s: &str) -> Seg {
    Seg::Name(s.to_owned())
}

mod tuples {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Board")]
        pub struct Board {
            pub cell: (u16, String),
            pub moves: Vec<(u32, String)>,
            pub pair: (Tracked, u8),
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Board")]
        pub struct Board {
            /// Widened, and a new element at the end: its default.
            pub cell: (u32, String, f32),
            pub moves: Vec<(u64, String)>,
            pub pair: (Tracked, u8),
        }
    }
    pub mod v3 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Board")]
        pub struct Board {
            /// Narrowed: checked.
            pub cell: (u8, String, f32),
            pub moves: Vec<(u64, String)>,
            pub pair: (Tracked, u8),
        }
    }
    pub mod v4 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Board")]
        pub struct Board {
            pub cell: (u32,),
            pub moves: Vec<(u64, String)>,
            pub pair: (Tracked, u8),
        }
    }

    #[test]
    fn tuples_migrate_position_wise_with_defaults_for_new_elements() {
        let mut state = state_with(v1::Board {
            cell: (65_000, "a1".into()),
            moves: vec![(7, "e4".into()), (8, "e5".into())],
            pair: (Tracked { id: 9 }, 3),
        });
        let before = drops();
        let report = migrate(&mut state, &[v2::Board::DESC, Tracked::DESC]).unwrap();
        assert_eq!(report.migrated, vec!["Board"]);
        assert_eq!(drops(), before, "the tracked element was moved, not copied");
        let b = state.get::<v2::Board>().unwrap();
        assert_eq!(b.cell, (65_000, "a1".to_owned(), 0.0));
        assert_eq!(b.moves, vec![(7, "e4".to_owned()), (8, "e5".to_owned())]);
        assert_eq!((b.pair.0.id, b.pair.1), (9, 3));
        drop(state);
        assert_eq!(drops(), before + 1, "dropped once");
    }

    #[test]
    fn a_narrowing_overflow_inside_a_tuple_is_refused_with_its_path() {
        let mut state = state_with(v2::Board {
            cell: (300, "a1".into(), 1.5),
            moves: vec![],
            pair: (Tracked { id: 1 }, 0),
        });
        let err =
            migrate_error(migrate(&mut state, &[v3::Board::DESC, Tracked::DESC]).unwrap_err());
        assert_eq!(err.path.0, vec![name("Board"), name("cell"), name("0")]);
        assert_eq!(
            err.kind,
            ExecuteErrorKind::CheckedCast(InexactCast {
                from: Prim::U32,
                to: Prim::U8,
                value: "300".into()
            })
        );
        assert!(
            err.to_string().starts_with("`Board.cell.0` holds 300"),
            "{err}"
        );
        let b = state.get::<v2::Board>().expect("unchanged");
        assert_eq!(b.cell, (300, "a1".to_owned(), 1.5));
    }

    #[test]
    fn a_removed_tuple_element_is_refused_at_plan_time() {
        let mut state = state_with(v2::Board {
            cell: (1, "a1".into(), 1.5),
            moves: vec![],
            pair: (Tracked { id: 1 }, 0),
        });
        let problems =
            problems(migrate(&mut state, &[v4::Board::DESC, Tracked::DESC]).unwrap_err());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind, ProblemKind::Incompatible);
        assert_eq!(problems[0].field.as_deref(), Some("cell"));
        assert_eq!(problems[0].old_ty.as_deref(), Some("(u32, String, f32)"));
        assert_eq!(problems[0].new_ty.as_deref(), Some("(u32,)"));
        assert!(state.get::<v2::Board>().is_some());
    }
}

mod maps {
    use super::*;
    pub mod v1 {
        use super::*;
        #[derive(CooType, Debug, Clone, PartialEq)]
        #[coo(name = "Item")]
        pub struct Item {
            pub qty: u32,
            pub price: f32,
        }
        #[derive(CooType)]
        #[coo(name = "Stock")]
        pub struct Stock {
            pub items: HashMap<String, Item>,
            pub spots: BTreeMap<u32, (f32, f32)>,
            pub recent: VecDeque<u64>,
            pub tags: HashSet<u16>,
            pub names: BTreeSet<String>,
        }
    }
    pub mod v2 {
        use super::*;
        #[derive(CooType, Debug, Clone, PartialEq)]
        #[coo(name = "Item")]
        pub struct Item {
            /// Widened.
            pub qty: u64,
            pub price: f32,
            /// New, with a default.
            #[coo(default = 5)]
            pub shelf: u8,
        }
        #[derive(CooType)]
        #[coo(name = "Stock")]
        pub struct Stock {
            pub items: HashMap<String, Item>,
            pub spots: BTreeMap<u64, (f64, f32)>,
            pub recent: VecDeque<u128>,
            pub tags: HashSet<u32>,
            pub names: BTreeSet<String>,
        }
    }
    pub mod v3 {
        use super::*;
        #[derive(CooType, Debug, Clone, PartialEq)]
        #[coo(name = "Item")]
        pub struct Item {
            /// Narrowed: checked.
            pub qty: u8,
            pub price: f32,
            #[coo(default = 5)]
            pub shelf: u8,
        }
        #[derive(CooType)]
        #[coo(name = "Stock")]
        pub struct Stock {
            pub items: HashMap<String, Item>,
            pub spots: BTreeMap<u64, (f64, f32)>,
            pub recent: VecDeque<u128>,
            pub tags: HashSet<u32>,
            pub names: BTreeSet<String>,
        }
    }

    fn v1_stock() -> v1::Stock {
        let mut recent = VecDeque::new();
        // Wrapped around: the deque's buffer holds it in two pieces.
        for i in 0..6 {
            recent.push_back(i);
        }
        for _ in 0..4 {
            recent.pop_front();
        }
        for i in 6..9 {
            recent.push_back(i);
        }
        recent.push_front(100);
        v1::Stock {
            items: HashMap::from([
                (
                    "bolt".to_owned(),
                    v1::Item {
                        qty: 40,
                        price: 0.25,
                    },
                ),
                (
                    "nut".to_owned(),
                    v1::Item {
                        qty: 300,
                        price: 0.1,
                    },
                ),
                ("gear".to_owned(), v1::Item { qty: 7, price: 3.5 }),
            ]),
            spots: BTreeMap::from([(3, (1.5, 2.5)), (1, (0.5, -1.0)), (2, (9.0, 9.5))]),
            recent,
            tags: HashSet::from([1, 2, 65_535]),
            names: BTreeSet::from(["b".to_owned(), "a".to_owned()]),
        }
    }

    #[test]
    fn maps_sets_and_deques_migrate_element_wise() {
        let mut state = state_with(v1_stock());
        let report = migrate(&mut state, &[v2::Stock::DESC, v2::Item::DESC]).unwrap();
        assert_eq!(report.migrated, vec!["Stock"]);
        let items_report = report.types.iter().find(|t| t.diff.new_name == "Item");
        assert_eq!(items_report.map(|t| t.values), Some(3));
        let s = state.get::<v2::Stock>().unwrap();
        let item = |qty, price| v2::Item {
            qty,
            price,
            shelf: 5,
        };
        assert_eq!(
            s.items,
            HashMap::from([
                ("bolt".to_owned(), item(40, 0.25)),
                ("nut".to_owned(), item(300, 0.1)),
                ("gear".to_owned(), item(7, 3.5)),
            ])
        );
        assert_eq!(
            s.spots.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            vec![(1, (0.5, -1.0)), (2, (9.0, 9.5)), (3, (1.5, 2.5))]
        );
        assert_eq!(
            s.recent.iter().copied().collect::<Vec<_>>(),
            vec![100, 4, 5, 6, 7, 8]
        );
        assert_eq!(s.tags, HashSet::from([1, 2, 65_535]));
        assert_eq!(
            s.names.iter().cloned().collect::<Vec<_>>(),
            vec!["a".to_owned(), "b".to_owned()]
        );
    }

    #[test]
    fn a_narrowing_overflow_in_one_map_value_is_refused_naming_the_key() {
        let mut state = state_with(v1_stock());
        migrate(&mut state, &[v2::Stock::DESC, v2::Item::DESC]).unwrap();
        let err =
            migrate_error(migrate(&mut state, &[v3::Stock::DESC, v3::Item::DESC]).unwrap_err());
        assert_eq!(
            err.path.0,
            vec![
                name("Stock"),
                name("items"),
                Seg::Key("\"nut\"".into()),
                name("qty")
            ]
        );
        assert_eq!(
            err.kind,
            ExecuteErrorKind::CheckedCast(InexactCast {
                from: Prim::U64,
                to: Prim::U8,
                value: "300".into()
            })
        );
        assert!(
            err.to_string()
                .starts_with("`Stock.items[\"nut\"].qty` holds 300"),
            "{err}"
        );
        // Nothing changed.
        let s = state.get::<v2::Stock>().expect("the old version runs on");
        assert_eq!(s.items["nut"].qty, 300);
        assert_eq!(s.items.len(), 3);
        assert_eq!(s.recent.len(), 6);
    }

    pub mod k1 {
        use super::*;
        #[derive(CooType, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[coo(name = "Key")]
        pub struct Key {
            pub a: u32,
            pub b: u32,
        }
        #[derive(CooType)]
        #[coo(name = "Index")]
        pub struct Index {
            pub by_key: HashMap<Key, Tracked>,
            pub sorted: BTreeMap<u32, u8>,
        }
    }
    pub mod k2 {
        use super::*;
        /// `b` is gone: keys that differed only in `b` become one.
        #[derive(CooType, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[coo(name = "Key")]
        pub struct Key {
            pub a: u32,
        }
        #[derive(CooType)]
        #[coo(name = "Index")]
        pub struct Index {
            pub by_key: HashMap<Key, Tracked>,
            pub sorted: BTreeMap<u32, u8>,
        }
    }

    #[test]
    fn a_key_conversion_that_merges_two_keys_is_refused_naming_both() {
        let before = drops();
        let mut state = state_with(k1::Index {
            by_key: HashMap::from([
                (k1::Key { a: 1, b: 2 }, Tracked { id: 10 }),
                (k1::Key { a: 2, b: 0 }, Tracked { id: 20 }),
                (k1::Key { a: 1, b: 3 }, Tracked { id: 30 }),
            ]),
            sorted: BTreeMap::from([(1, 1)]),
        });
        let err = migrate_error(
            migrate(&mut state, &[k2::Index::DESC, k2::Key::DESC, Tracked::DESC]).unwrap_err(),
        );
        assert_eq!(err.path.0, vec![name("Index"), name("by_key")]);
        let ExecuteErrorKind::KeysMerge { first, second } = &err.kind else {
            panic!("expected merged keys, got {err}");
        };
        let mut both = [first.as_str(), second.as_str()];
        both.sort();
        assert_eq!(both, ["Key { a: 1, b: 2 }", "Key { a: 1, b: 3 }"]);
        let s = state.get::<k1::Index>().expect("the old version runs on");
        let mut ids: Vec<u32> = s.by_key.values().map(|t| t.id).collect();
        ids.sort();
        assert_eq!(ids, vec![10, 20, 30]);
        assert_eq!(drops() - before, 0, "nothing dropped by the refused reload");
        drop(state);
        assert_eq!(
            drops() - before,
            3,
            "each old value dropped once, with the state"
        );
    }

    #[test]
    fn keys_that_stay_distinct_migrate_and_old_values_are_dropped_once() {
        let before = drops();
        let mut state = state_with(k1::Index {
            by_key: HashMap::from([
                (k1::Key { a: 1, b: 2 }, Tracked { id: 10 }),
                (k1::Key { a: 2, b: 0 }, Tracked { id: 20 }),
            ]),
            sorted: BTreeMap::from([(1, 1)]),
        });
        migrate(&mut state, &[k2::Index::DESC, k2::Key::DESC, Tracked::DESC]).unwrap();
        assert_eq!(
            drops() - before,
            0,
            "the values were moved to the new map; the old one only freed its storage"
        );
        let s = state.get::<k2::Index>().unwrap();
        assert_eq!(s.by_key[&k2::Key { a: 1 }].id, 10);
        assert_eq!(s.by_key[&k2::Key { a: 2 }].id, 20);
        drop(state);
        assert_eq!(drops() - before, 2);
    }

    pub mod u1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Same")]
        pub struct Same {
            pub m: HashMap<u32, String>,
            pub d: VecDeque<(u8, String)>,
        }
    }
    pub mod u2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Same")]
        pub struct Same {
            pub m: HashMap<u32, String>,
            pub d: VecDeque<(u8, String)>,
        }
    }

    #[test]
    fn an_unchanged_map_is_kept_in_place() {
        let mut state = state_with(u1::Same {
            m: HashMap::from([(1, "one".to_owned())]),
            d: VecDeque::from([(1, "x".to_owned())]),
        });
        let before = state.resource("Same").unwrap().as_ptr();
        let report = migrate(&mut state, &[u2::Same::DESC]).unwrap();
        assert_eq!(report.kept, vec!["Same"]);
        assert_eq!(state.resource("Same").unwrap().as_ptr(), before);
        let s = state.get::<u2::Same>().unwrap();
        assert_eq!(s.m[&1], "one");
        assert_eq!(s.d[0], (1, "x".to_owned()));
    }

    pub mod h1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Kinds")]
        pub struct Kinds {
            pub m: HashMap<u16, u8>,
        }
    }
    pub mod h2 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Kinds")]
        pub struct Kinds {
            /// A hash map becomes a B-tree map: rebuilt by insertion, in key order.
            pub m: BTreeMap<u32, u8>,
        }
    }

    #[test]
    fn a_hash_map_becomes_a_btree_map() {
        let mut state = state_with(h1::Kinds {
            m: HashMap::from([(9, 1), (3, 2), (5, 3)]),
        });
        migrate(&mut state, &[h2::Kinds::DESC]).unwrap();
        let s = state.get::<h2::Kinds>().unwrap();
        assert_eq!(
            s.m.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            vec![(3, 2), (5, 3), (9, 1)]
        );
    }
}

/// Entries are moved into the rebuilt collection, not copied: each live key and value is dropped
/// exactly once over its life, however many reloads it goes through, and a refused migration
/// drops nothing of the old collection (small enough for Miri).
mod moved_entries {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        /// How often the `Counted` of each id was dropped (per test thread).
        static BY_ID: RefCell<BTreeMap<u32, usize>> = const { RefCell::new(BTreeMap::new()) };
    }

    fn by_id() -> BTreeMap<u32, usize> {
        BY_ID.with(|d| d.borrow().clone())
    }

    /// A value whose drops are counted by id.
    #[derive(CooType, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[coo(name = "Counted")]
    pub struct Counted {
        pub id: u32,
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            BY_ID.with(|d| *d.borrow_mut().entry(self.id).or_default() += 1);
        }
    }

    pub mod v1 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Part")]
        pub struct Part {
            pub qty: u32,
            pub tag: Counted,
        }
        #[derive(CooType)]
        #[coo(name = "Slot")]
        pub enum Slot {
            Empty,
            Full(Part),
        }
        #[derive(CooType)]
        #[coo(name = "Parts")]
        pub struct Parts {
            pub by_id: HashMap<u16, Part>,
            pub sorted: BTreeMap<u16, Part>,
            pub queue: VecDeque<Part>,
            pub keys: HashMap<Counted, u16>,
            pub set: BTreeSet<Counted>,
            pub bags: BTreeMap<u16, Vec<Part>>,
            pub slots: HashMap<u16, Slot>,
            pub limit: u32,
        }
    }
    pub mod v2 {
        use super::*;
        /// `qty` widened, a field added (with a heap-owning default), the counted tag moved.
        #[derive(CooType)]
        #[coo(name = "Part")]
        pub struct Part {
            pub qty: u64,
            pub tag: Counted,
            pub note: String,
        }
        #[derive(CooType)]
        #[coo(name = "Slot")]
        pub enum Slot {
            Empty,
            Full(Part),
        }
        #[derive(CooType)]
        #[coo(name = "Parts")]
        pub struct Parts {
            pub by_id: HashMap<u32, Part>,
            pub sorted: BTreeMap<u32, Part>,
            pub queue: VecDeque<Part>,
            pub keys: HashMap<Counted, u32>,
            pub set: BTreeSet<Counted>,
            pub bags: BTreeMap<u32, Vec<Part>>,
            pub slots: HashMap<u32, Slot>,
            pub limit: u32,
        }
    }
    pub mod bad_value {
        use super::*;
        /// `qty` narrowed: one entry's value does not fit, in the middle of each collection.
        #[derive(CooType)]
        #[coo(name = "Part")]
        pub struct Part {
            pub qty: u8,
            pub tag: Counted,
            pub note: String,
        }
        #[derive(CooType)]
        #[coo(name = "Slot")]
        pub enum Slot {
            Empty,
            Full(Part),
        }
        #[derive(CooType)]
        #[coo(name = "Parts")]
        pub struct Parts {
            /// First: built (and refused) before the flat collections.
            pub bags: BTreeMap<u32, Vec<Part>>,
            pub slots: HashMap<u32, Slot>,
            pub by_id: HashMap<u32, Part>,
            pub sorted: BTreeMap<u32, Part>,
            pub queue: VecDeque<Part>,
            pub keys: HashMap<Counted, u32>,
            pub set: BTreeSet<Counted>,
            pub limit: u32,
        }
    }
    pub mod bad_flat {
        use super::*;
        /// As `bad_value`, with the flat collections first: `by_id` is refused at key 3.
        #[derive(CooType)]
        #[coo(name = "Part")]
        pub struct Part {
            pub qty: u8,
            pub tag: Counted,
            pub note: String,
        }
        #[derive(CooType)]
        #[coo(name = "Slot")]
        pub enum Slot {
            Empty,
            Full(Part),
        }
        #[derive(CooType)]
        #[coo(name = "Parts")]
        pub struct Parts {
            pub by_id: HashMap<u32, Part>,
            pub sorted: BTreeMap<u32, Part>,
            pub queue: VecDeque<Part>,
            pub keys: HashMap<Counted, u32>,
            pub set: BTreeSet<Counted>,
            pub bags: BTreeMap<u32, Vec<Part>>,
            pub slots: HashMap<u32, Slot>,
            pub limit: u32,
        }
    }
    pub mod bad_after {
        use super::*;
        /// The collections all migrate; the field after them does not fit.
        #[derive(CooType)]
        #[coo(name = "Part")]
        pub struct Part {
            pub qty: u64,
            pub tag: Counted,
            pub note: String,
            pub shelf: u8,
        }
        #[derive(CooType)]
        #[coo(name = "Slot")]
        pub enum Slot {
            Empty,
            Full(Part),
        }
        #[derive(CooType)]
        #[coo(name = "Parts")]
        pub struct Parts {
            pub by_id: HashMap<u64, Part>,
            pub sorted: BTreeMap<u64, Part>,
            pub queue: VecDeque<Part>,
            pub keys: HashMap<Counted, u64>,
            pub set: BTreeSet<Counted>,
            pub bags: BTreeMap<u64, Vec<Part>>,
            pub slots: HashMap<u64, Slot>,
            pub limit: u8,
        }
    }
    pub mod v3 {
        use super::*;
        #[derive(CooType)]
        #[coo(name = "Part")]
        pub struct Part {
            pub qty: u64,
            pub tag: Counted,
            pub note: String,
            pub shelf: u8,
        }
        #[derive(CooType)]
        #[coo(name = "Slot")]
        pub enum Slot {
            Empty,
            Full(Part),
        }
        #[derive(CooType)]
        #[coo(name = "Parts")]
        pub struct Parts {
            pub by_id: HashMap<u64, Part>,
            pub sorted: BTreeMap<u64, Part>,
            pub queue: VecDeque<Part>,
            pub keys: HashMap<Counted, u64>,
            pub set: BTreeSet<Counted>,
            pub bags: BTreeMap<u64, Vec<Part>>,
            pub slots: HashMap<u64, Slot>,
            pub limit: u32,
        }
    }

    /// Ids 1..=4 in `by_id`, 11..=14 in `sorted`, 21..=24 in `queue`, 31..=34 keys of `keys`,
    /// 41..=44 in `set`, 51..=54 in `bags` (two parts each, the second `id + 100`), 61..=64 in
    /// `slots` (and an empty slot); the third entry of each holds a `qty` of 300.
    fn parts() -> v1::Parts {
        let part = |id: u32| v1::Part {
            qty: if id % 10 == 3 { 300 } else { id },
            tag: Counted { id },
        };
        v1::Parts {
            by_id: (1..=4).map(|i| (i as u16, part(i))).collect(),
            sorted: (11..=14).map(|i| (i as u16, part(i))).collect(),
            queue: (21..=24).map(part).collect(),
            keys: (31..=34).map(|i| (Counted { id: i }, i as u16)).collect(),
            set: (41..=44).map(|id| Counted { id }).collect(),
            bags: (51..=54)
                .map(|i| (i as u16, vec![part(i), part(i + 100)]))
                .collect(),
            slots: (61..=64)
                .map(|i| (i as u16, v1::Slot::Full(part(i))))
                .chain([(0, v1::Slot::Empty)])
                .collect(),
            limit: 1000,
        }
    }

    fn ids() -> impl Iterator<Item = u32> {
        (1..=4)
            .chain(11..=14)
            .chain(21..=24)
            .chain(31..=34)
            .chain(41..=44)
            .chain((51..=54).flat_map(|i| [i, i + 100]))
            .chain(61..=64)
    }

    fn assert_live(state: &State) {
        let p = |id: u32| {
            (
                id,
                u64::from(id % 10 == 3) * (300 - u64::from(id)) + u64::from(id),
            )
        };
        let s = state.get::<v3::Parts>().expect("the last version runs");
        let mut by_id: Vec<_> = s.by_id.iter().map(|(k, v)| (*k, v.qty, v.tag.id)).collect();
        by_id.sort();
        assert_eq!(
            by_id,
            (1..=4)
                .map(|i| (u64::from(i), p(i).1, i))
                .collect::<Vec<_>>()
        );
        let sorted: Vec<_> = s
            .sorted
            .iter()
            .map(|(k, v)| (*k, v.qty, v.tag.id))
            .collect();
        assert_eq!(
            sorted,
            (11..=14)
                .map(|i| (u64::from(i), p(i).1, i))
                .collect::<Vec<_>>()
        );
        let queue: Vec<_> = s.queue.iter().map(|v| (v.qty, v.tag.id, v.shelf)).collect();
        assert_eq!(queue, (21..=24).map(|i| (p(i).1, i, 0)).collect::<Vec<_>>());
        let mut keys: Vec<_> = s.keys.iter().map(|(k, v)| (k.id, *v)).collect();
        keys.sort();
        assert_eq!(
            keys,
            (31..=34).map(|i| (i, u64::from(i))).collect::<Vec<_>>()
        );
        let set: Vec<_> = s.set.iter().map(|c| c.id).collect();
        assert_eq!(set, (41..=44).collect::<Vec<_>>());
        assert!(s.queue.iter().all(|v| v.note.is_empty()));
        let bags: Vec<_> = s
            .bags
            .iter()
            .map(|(k, v)| (*k, v.iter().map(|p| (p.qty, p.tag.id)).collect::<Vec<_>>()))
            .collect();
        let bag = |i: u32| vec![(p(i).1, i), (p(i + 100).1, i + 100)];
        assert_eq!(
            bags,
            (51..=54)
                .map(|i| (u64::from(i), bag(i)))
                .collect::<Vec<_>>()
        );
        let mut slots: Vec<_> = s
            .slots
            .iter()
            .map(|(k, v)| match v {
                v3::Slot::Empty => (*k, None),
                v3::Slot::Full(p) => (*k, Some((p.qty, p.tag.id))),
            })
            .collect();
        slots.sort();
        let full = (61..=64).map(|i| (u64::from(i), Some((p(i).1, i))));
        assert_eq!(
            slots,
            [(0, None)].into_iter().chain(full).collect::<Vec<_>>()
        );
    }

    #[test]
    fn entries_are_moved_and_dropped_exactly_once_through_reloads_and_refusals() {
        let mut state = state_with(parts());
        let descs = |parts: &'static TypeDesc, part: &'static TypeDesc, slot: &'static TypeDesc| {
            [parts, part, slot, Counted::DESC]
        };
        migrate(
            &mut state,
            &descs(v2::Parts::DESC, v2::Part::DESC, v2::Slot::DESC),
        )
        .unwrap();
        assert_eq!(
            by_id(),
            BTreeMap::new(),
            "nothing dropped by the first reload"
        );

        // Refused inside a collection: an entry's value does not fit.
        let err = migrate_error(
            migrate(
                &mut state,
                &descs(
                    bad_value::Parts::DESC,
                    bad_value::Part::DESC,
                    bad_value::Slot::DESC,
                ),
            )
            .unwrap_err(),
        );
        assert!(
            matches!(err.kind, ExecuteErrorKind::CheckedCast(InexactCast { ref value, .. }) if value == "300"),
            "{err}"
        );
        assert_eq!(
            err.path.0,
            vec![
                name("Parts"),
                name("bags"),
                Seg::Key("53".into()),
                Seg::Index(0),
                name("qty")
            ]
        );
        assert_eq!(
            by_id(),
            BTreeMap::new(),
            "nothing dropped by a refused reload"
        );
        assert!(
            state.get::<v2::Parts>().is_some(),
            "the old version runs on"
        );

        // Refused inside a collection built without a frame.
        let err = migrate_error(
            migrate(
                &mut state,
                &descs(
                    bad_flat::Parts::DESC,
                    bad_flat::Part::DESC,
                    bad_flat::Slot::DESC,
                ),
            )
            .unwrap_err(),
        );
        assert_eq!(
            err.path.0,
            vec![
                name("Parts"),
                name("by_id"),
                Seg::Key("3".into()),
                name("qty")
            ]
        );
        assert_eq!(
            by_id(),
            BTreeMap::new(),
            "nothing dropped by a refused reload"
        );

        // Refused after every collection was built: they are taken apart again.
        let err = migrate_error(
            migrate(
                &mut state,
                &descs(
                    bad_after::Parts::DESC,
                    bad_after::Part::DESC,
                    bad_after::Slot::DESC,
                ),
            )
            .unwrap_err(),
        );
        assert_eq!(err.path.0, vec![name("Parts"), name("limit")]);
        assert_eq!(
            by_id(),
            BTreeMap::new(),
            "nothing dropped by a rolled-back reload"
        );

        migrate(
            &mut state,
            &descs(v3::Parts::DESC, v3::Part::DESC, v3::Slot::DESC),
        )
        .unwrap();
        assert_eq!(
            by_id(),
            BTreeMap::new(),
            "nothing dropped by the third reload"
        );
        assert_live(&state);

        drop(state);
        let once: BTreeMap<u32, usize> = ids().map(|id| (id, 1)).collect();
        assert_eq!(
            by_id(),
            once,
            "every value dropped exactly once, with the state"
        );
    }
}
