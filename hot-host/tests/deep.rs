//! Values nested a million levels deep (a linked list of `Option<Box<Node>>`): showing, path
//! access and snapshots walk them without running out of stack. Each test runs on a thread with
//! the default 2 MiB stack of a test thread; a walk whose native recursion grows with the data
//! overflows it and aborts the test binary.
#![allow(missing_debug_implementations)]

use std::fmt::Write as _;

use coo_runtime::{Catalog, CooType, State};
use hot_host::state_io::json::JsonValue;
use hot_host::state_io::show::{state_json, state_pretty};
use hot_host::state_io::{path, snapshot};

const DEPTH: u32 = 1_000_000;

/// The depth for the walks that recurse natively and grow their stack on the heap when it runs
/// low (`stacker`: the builder of values from JSON). Deep enough to overflow a test thread's
/// stack many times over; a million levels works too, but costs a debug build about 13 KiB of
/// stack per level, 13 GiB in all, too much for a test.
const GROWN_DEPTH: u32 = 50_000;

#[derive(CooType)]
#[coo(name = "Node")]
pub struct Node {
    pub value: u32,
    pub next: Option<Box<Node>>,
}

/// Unlinks the tail one node at a time: Rust's own drop glue of a `Box` chain recurses once per
/// node, as deep as the chain, so a long list needs this in plain Rust too.
impl Drop for Node {
    fn drop(&mut self) {
        let mut next = self.next.take();
        while let Some(mut node) = next {
            next = node.next.take();
        }
    }
}

#[derive(CooType)]
#[coo(name = "Chain")]
pub struct Chain {
    pub head: Option<Box<Node>>,
}

/// A chain of `len` nodes holding `0, 1, …, len - 1`.
fn chain(len: u32) -> Chain {
    let mut head = None;
    for value in (0..len).rev() {
        head = Some(Box::new(Node { value, next: head }));
    }
    Chain { head }
}

fn state_of(len: u32) -> State {
    let mut state = State::new();
    state.insert(chain(len));
    state
}

/// The values of the chain, in order.
fn values(chain: &Chain) -> Vec<u32> {
    let mut out = Vec::new();
    let mut at = chain.head.as_deref();
    while let Some(node) = at {
        out.push(node.value);
        at = node.next.as_deref();
    }
    out
}

/// The JSON of the chain's head, `{"value":0,"next":{"value":1,…"next":null}…}`.
fn head_json(len: u32) -> String {
    let mut out = String::new();
    for value in 0..len {
        let _ = write!(out, r#"{{"value":{value},"next":"#);
    }
    out.push_str("null");
    out.push_str(&"}".repeat(len as usize));
    out
}

/// Runs `f` on a thread with a test thread's default stack (2 MiB).
fn on_test_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn a thread")
        .join()
        .expect("the walk did not panic")
}

#[test]
fn state_json_of_a_million_deep_chain() {
    let json = on_test_stack(|| state_json(&state_of(DEPTH)));
    assert_eq!(
        json,
        format!(r#"{{"Chain":{{"head":{}}}}}"#, head_json(DEPTH))
    );
}

#[test]
fn state_pretty_of_a_million_deep_chain_stops_at_the_depth_limit() {
    let (deep, shallow) =
        on_test_stack(|| (state_pretty(&state_of(DEPTH)), state_pretty(&state_of(40))));
    // Both are cut at the same depth, long before either ends.
    assert_eq!(deep, shallow);
    // `Chain` is at level 0, node `i` at level `2 + 2 * i`: the fields of nodes 0 to 14 are
    // shown, node 15 (at level 32) is elided.
    assert_eq!(deep.matches("value: ").count(), 15, "{deep}");
    let (at31, at32) = (" ".repeat(4 * 31), " ".repeat(4 * 32));
    let last = format!("value: 14,\n{at31}next: Some(\n{at32}Node {{..}},\n{at31}),\n");
    assert!(deep.contains(&last), "{deep}");
}

#[test]
fn path_get_and_set_of_a_deep_chain() {
    let (json, after) = on_test_stack(|| {
        let state = state_of(DEPTH);
        let json = path::get(&state, "Chain.head").unwrap().json();
        let mut state = state_of(GROWN_DEPTH);
        let text = head_json(GROWN_DEPTH).replacen(r#"{"value":0,"#, r#"{"value":7,"#, 1);
        path::set(&mut state, "Chain.head", &text).unwrap();
        let after = values(state.get::<Chain>().unwrap());
        (json, after)
    });
    assert_eq!(json, head_json(DEPTH));
    let mut expected: Vec<u32> = (0..GROWN_DEPTH).collect();
    expected[0] = 7;
    assert_eq!(after, expected);
}

#[test]
fn snapshot_save_and_read_of_a_million_deep_chain() {
    let (saved, depth) = on_test_stack(|| {
        let text = snapshot::save(&state_of(DEPTH));
        // Read back as JSON, and count how deeply `next` nests.
        let json = JsonValue::parse(&text).unwrap();
        let mut depth = 0;
        let mut at = json
            .get("state")
            .and_then(|s| s.get("Chain"))
            .and_then(|c| c.get("head"));
        while let Some(node @ JsonValue::Object(_)) = at {
            assert_eq!(
                node.get("value"),
                Some(&JsonValue::Number(depth.to_string()))
            );
            depth += 1;
            at = node.get("next");
        }
        assert_eq!(at, Some(&JsonValue::Null));
        (text, depth)
    });
    assert!(saved.ends_with(&format!(
        r#""state":{{"Chain":{{"head":{}}}}}}}"#,
        head_json(DEPTH)
    )));
    assert_eq!(depth, DEPTH);
}

#[test]
fn snapshot_save_and_load_of_a_deep_chain() {
    let (saved, again, loaded) = on_test_stack(|| {
        let text = snapshot::save(&state_of(GROWN_DEPTH));
        let catalog = Catalog::from_descs([Chain::DESC]).unwrap();
        let (state, _) = snapshot::load(&text, &catalog).unwrap();
        let again = snapshot::save(&state);
        (text, again, values(state.get::<Chain>().unwrap()))
    });
    assert_eq!(again, saved);
    assert_eq!(loaded, (0..GROWN_DEPTH).collect::<Vec<_>>());
}

#[derive(CooType)]
#[coo(name = "Leaf")]
pub struct Leaf {
    pub id: u32,
}

/// A node whose type holds a pool, so that a snapshot walks it for vacant slots.
#[derive(CooType)]
#[coo(name = "PoolNode")]
pub struct PoolNode {
    pub leaves: coo_runtime::Pool<Leaf>,
    pub next: Option<Box<PoolNode>>,
}

impl Drop for PoolNode {
    fn drop(&mut self) {
        let mut next = self.next.take();
        while let Some(mut node) = next {
            next = node.next.take();
        }
    }
}

#[derive(CooType)]
#[coo(name = "PoolChain")]
pub struct PoolChain {
    pub head: Option<Box<PoolNode>>,
}

#[test]
fn snapshot_of_a_million_deep_chain_of_pools_keeps_the_vacant_slots() {
    let vacant = on_test_stack(|| {
        let mut head = None;
        for i in (0..DEPTH).rev() {
            let mut leaves = coo_runtime::Pool::new();
            if i == DEPTH - 1 {
                // The last node's pool has slot 0 vacant at generation 1.
                let leaf = leaves.insert(Leaf { id: 0 });
                leaves.remove(leaf).unwrap();
            }
            head = Some(Box::new(PoolNode { leaves, next: head }));
        }
        let mut state = State::new();
        state.insert(PoolChain { head });
        let text = snapshot::save(&state);
        let json = JsonValue::parse(&text).unwrap();
        json.get("vacant_slots").unwrap().clone()
    });
    let path = format!(
        "PoolChain.head{}.leaves",
        ".next".repeat(DEPTH as usize - 1)
    );
    let slot = JsonValue::Array(vec![
        JsonValue::Number("0".into()),
        JsonValue::Number("1".into()),
    ]);
    assert_eq!(
        vacant,
        JsonValue::Object(vec![(path, JsonValue::Array(vec![slot]))])
    );
}
