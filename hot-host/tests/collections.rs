//! Tuples and the standard collections in the state's text forms: `state` (pretty and JSON),
//! paths into maps (`Stock.items["bolt"].qty`), `set` of an entry and of a whole map, and
//! snapshots that save them and load them under a later layout.
#![allow(missing_debug_implementations, dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use coo_runtime::{Catalog, CooType, State};
use hot_host::state_io::from_json::{ValueError, ValueErrorKind};
use hot_host::state_io::path::{self, Found, PathError};
use hot_host::state_io::show::{resource_json, resource_pretty, value_json};
use hot_host::state_io::snapshot;

mod v1 {
    use super::*;

    #[derive(CooType, Debug, Clone, PartialEq)]
    #[coo(name = "Item")]
    pub struct Item {
        pub qty: u32,
        pub price: f32,
    }

    #[derive(CooType, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    #[coo(name = "Key")]
    pub struct Key {
        pub a: u8,
    }

    #[derive(CooType, Debug)]
    #[coo(name = "Stock")]
    pub struct Stock {
        pub items: HashMap<String, Item>,
        pub spots: BTreeMap<u32, (f32, f32)>,
        pub recent: VecDeque<u64>,
        pub names: BTreeSet<String>,
        pub by_key: BTreeMap<Key, u8>,
        pub pair: (u16, String),
    }
}

mod v2 {
    use super::*;

    #[derive(CooType, Debug, Clone, PartialEq)]
    #[coo(name = "Item")]
    pub struct Item {
        pub qty: u64,
        pub price: f32,
        #[coo(default = 5)]
        pub shelf: u8,
    }

    #[derive(CooType, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    #[coo(name = "Key")]
    pub struct Key {
        pub a: u8,
    }

    #[derive(CooType, Debug)]
    #[coo(name = "Stock")]
    pub struct Stock {
        pub items: HashMap<String, Item>,
        pub spots: BTreeMap<u64, (f64, f32)>,
        pub recent: VecDeque<u64>,
        pub names: BTreeSet<String>,
        pub by_key: BTreeMap<Key, u8>,
        pub pair: (u32, String, bool),
    }
}

fn state() -> State {
    let mut state = State::new();
    state.insert(v1::Stock {
        // One entry: a hash map's order is its own.
        items: HashMap::from([(
            "bolt".to_owned(),
            v1::Item {
                qty: 40,
                price: 0.25,
            },
        )]),
        spots: BTreeMap::from([(3, (1.5, 2.5)), (1, (0.5, -1.0))]),
        recent: VecDeque::from([7, 8]),
        names: BTreeSet::from(["b".to_owned(), "a".to_owned()]),
        by_key: BTreeMap::from([(v1::Key { a: 2 }, 9)]),
        pair: (3, "x".to_owned()),
    });
    state
}

fn stock(state: &State) -> &v1::Stock {
    state.get::<v1::Stock>().unwrap()
}

fn json(state: &State, p: &str) -> String {
    match path::get(state, p).unwrap() {
        Found::Resource(r) => resource_json(r),
        Found::Value(v) => value_json(v),
    }
}

const STOCK_JSON: &str = concat!(
    r#"{"items":{"bolt":{"qty":40,"price":0.25}},"#,
    r#""spots":{"1":[0.5,-1.0],"3":[1.5,2.5]},"#,
    r#""recent":[7,8],"names":["a","b"],"by_key":[[{"a":2},9]],"pair":[3,"x"]}"#
);

#[test]
fn state_json_writes_maps_as_serde_json_does_and_other_keys_as_pairs() {
    let state = state();
    assert_eq!(json(&state, "Stock"), STOCK_JSON);
}

#[test]
fn state_pretty_writes_maps_sets_and_tuples_as_debug_does() {
    let state = state();
    let pretty = resource_pretty(state.resource("Stock").unwrap());
    assert_eq!(
        pretty,
        r#"Stock {
    items: {
        "bolt": Item {
            qty: 40,
            price: 0.25,
        },
    },
    spots: {
        1: (
            0.5,
            -1.0,
        ),
        3: (
            1.5,
            2.5,
        ),
    },
    recent: [
        7,
        8,
    ],
    names: {
        "a",
        "b",
    },
    by_key: {
        Key {
            a: 2,
        }: 9,
    },
    pair: (
        3,
        "x",
    ),
}"#
    );
}

#[test]
fn paths_reach_map_values_by_key_deque_elements_and_tuple_elements() {
    let state = state();
    assert_eq!(json(&state, r#"Stock.items["bolt"].qty"#), "40");
    assert_eq!(json(&state, r#"Stock.items["bolt"].price"#), "0.25");
    // A bare word is a string key: what the REPL's shell-like words leave of
    // `Stock.items["bolt"]` typed unquoted.
    assert_eq!(
        json(&state, "Stock.items[bolt].qty"),
        json(&state, r#"Stock.items["bolt"].qty"#)
    );
    assert!(matches!(
        path::get(&state, "Stock.items[bolt nut]"),
        Err(PathError::Syntax { .. })
    ));
    assert!(matches!(
        path::get(&state, "Stock.items[3x]"),
        Err(PathError::Syntax { .. })
    ));
    assert_eq!(json(&state, "Stock.spots[3].1"), "2.5");
    assert_eq!(json(&state, "Stock.recent[1]"), "8");
    assert_eq!(json(&state, r#"Stock.names["a"]"#), r#""a""#);
    assert_eq!(json(&state, "Stock.pair.1"), r#""x""#);
    let err = path::get(&state, r#"Stock.items["nut"]"#).unwrap_err();
    assert_eq!(
        err,
        PathError::NoKey {
            prefix: path::parse("Stock.items").unwrap(),
            key: r#""nut""#.to_owned(),
            len: 1,
        }
    );
    let err = path::get(&state, "Stock.recent[2]").unwrap_err();
    assert!(
        matches!(
            err,
            PathError::OutOfRange {
                index: 2,
                len: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn set_writes_a_map_entry_a_whole_map_and_refuses_set_elements() {
    let mut state = state();
    path::set(&mut state, r#"Stock.items["bolt"].qty"#, "41").unwrap();
    assert_eq!(stock(&state).items["bolt"].qty, 41);
    path::set(&mut state, "Stock.spots[1]", "[7.0, 8.0]").unwrap();
    assert_eq!(stock(&state).spots[&1], (7.0, 8.0));
    path::set(&mut state, "Stock.recent[0]", "70").unwrap();
    assert_eq!(stock(&state).recent, VecDeque::from([70, 8]));
    path::set(
        &mut state,
        "Stock.items",
        r#"{"nut": {"qty": 1, "price": 0.5}, "gear": {"qty": 2, "price": 1.5}}"#,
    )
    .unwrap();
    assert_eq!(
        stock(&state).items,
        HashMap::from([
            ("nut".to_owned(), v1::Item { qty: 1, price: 0.5 }),
            ("gear".to_owned(), v1::Item { qty: 2, price: 1.5 }),
        ])
    );
    path::set(
        &mut state,
        "Stock.by_key",
        r#"[[{"a": 1}, 3], [{"a": 0}, 4]]"#,
    )
    .unwrap();
    assert_eq!(
        stock(&state).by_key,
        BTreeMap::from([(v1::Key { a: 0 }, 4), (v1::Key { a: 1 }, 3)])
    );
    let err = path::set(&mut state, r#"Stock.names["a"]"#, r#""c""#).unwrap_err();
    assert!(matches!(err, PathError::Cannot { .. }), "{err}");
    assert_eq!(
        stock(&state).names,
        BTreeSet::from(["a".to_owned(), "b".to_owned()])
    );
}

#[test]
fn a_failed_set_of_a_map_leaves_it_and_says_which_entry() {
    let mut state = state();
    let err = path::set(
        &mut state,
        "Stock.spots",
        r#"{"1": [0.0, 0.0], "x": [1.0, 1.0]}"#,
    )
    .unwrap_err();
    let PathError::Value(ValueError { path, kind }) = &err else {
        panic!("expected a value error, got {err}");
    };
    assert_eq!(path.to_string(), r#"Stock.spots["x"]"#);
    assert!(matches!(kind, ValueErrorKind::Expected { .. }), "{err}");
    let err = path::set(
        &mut state,
        "Stock.by_key",
        r#"[[{"a": 1}, 3], [{"a": 1}, 4]]"#,
    )
    .unwrap_err();
    let PathError::Value(ValueError { path, kind }) = &err else {
        panic!("expected a value error, got {err}");
    };
    assert_eq!(path.to_string(), "Stock.by_key[1]");
    assert!(matches!(kind, ValueErrorKind::Insert { .. }), "{err}");
    assert_eq!(stock(&state).spots.len(), 2);
    assert_eq!(
        stock(&state).by_key,
        BTreeMap::from([(v1::Key { a: 2 }, 9)])
    );
}

#[test]
fn a_snapshot_saves_collections_and_loads_them_under_a_later_layout() {
    let state = state();
    let text = snapshot::save(&state).expect("the state saves");
    assert!(
        text.ends_with(&format!(r#""state":{{"Stock":{STOCK_JSON}}}}}"#)),
        "{text}"
    );
    let catalog = Catalog::from_descs([v2::Stock::DESC, v2::Item::DESC, v2::Key::DESC]).unwrap();
    let (loaded, _report) = snapshot::load(&text, &catalog).unwrap();
    let s = loaded.get::<v2::Stock>().unwrap();
    assert_eq!(
        s.items,
        HashMap::from([(
            "bolt".to_owned(),
            v2::Item {
                qty: 40,
                price: 0.25,
                shelf: 5
            }
        )])
    );
    assert_eq!(s.spots, BTreeMap::from([(1, (0.5, -1.0)), (3, (1.5, 2.5))]));
    assert_eq!(s.recent, VecDeque::from([7, 8]));
    assert_eq!(s.by_key, BTreeMap::from([(v2::Key { a: 2 }, 9)]));
    assert_eq!(s.pair, (3, "x".to_owned(), false));
}
