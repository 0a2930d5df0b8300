//! Values nested a million levels deep (a linked list of `Option<Box<Node>>`): showing, path
//! access, snapshots and building values from JSON walk them without running out of stack. Each
//! test runs on a thread with the default 2 MiB stack of a test thread; a walk whose native
//! recursion grows with the data overflows it and aborts the test binary.
#![allow(missing_debug_implementations)]

use std::cell::Cell;
use std::fmt::Write as _;

use coo_runtime::{Catalog, CooType, Prim, State};
use hot_host::state_io::from_json::{ValueError, ValueErrorKind};
use hot_host::state_io::json::JsonValue;
use hot_host::state_io::path::PathError;
use hot_host::state_io::show::{state_json, state_pretty};
use hot_host::state_io::snapshot::SnapshotError;
use hot_host::state_io::{path, snapshot};

// ------------------------------------------------------------------ counting drops and memory

thread_local! {
    /// `Step`s dropped by this thread.
    static STEP_DROPS: Cell<usize> = const { Cell::new(0) };
}

fn step_drops() -> usize {
    STEP_DROPS.with(|d| d.get())
}

#[path = "support/live_bytes.rs"]
mod live_bytes;
use live_bytes::live_bytes;

const DEPTH: u32 = 1_000_000;

/// The depth of the tests written when the builder of values from JSON still recursed natively
/// (growing its stack on the heap). It builds with a work stack now, and the million-level
/// tests below cover it; these stay as they were.
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
        let text = snapshot::save(&state_of(DEPTH)).expect("the state saves");
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
        let text = snapshot::save(&state_of(GROWN_DEPTH)).expect("the state saves");
        let catalog = Catalog::from_descs([Chain::DESC]).unwrap();
        let (state, _) = snapshot::load(&text, &catalog).unwrap();
        let again = snapshot::save(&state).expect("the state saves");
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
        let text = snapshot::save(&state).expect("the state saves");
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

// ------------------------------------------------------- building a million levels from JSON

/// The values of the chain at its head, middle and tail, and its length.
fn spots(values: &[u32]) -> (u32, u32, u32, usize) {
    let n = values.len();
    (values[0], values[n / 2], values[n - 1], n)
}

#[test]
fn snapshot_save_and_load_of_a_million_deep_chain() {
    let (saved, again, loaded) = on_test_stack(|| {
        let text = snapshot::save(&state_of(DEPTH)).expect("the state saves");
        let catalog = Catalog::from_descs([Chain::DESC]).unwrap();
        let (state, _) = snapshot::load(&text, &catalog).unwrap();
        let again = snapshot::save(&state).expect("the state saves");
        (text, again, values(state.get::<Chain>().unwrap()))
    });
    assert_eq!(spots(&loaded), (0, DEPTH / 2, DEPTH - 1, DEPTH as usize));
    assert_eq!(loaded, (0..DEPTH).collect::<Vec<_>>());
    assert_eq!(again, saved);
}

/// The binary format checks and builds a million-deep chain without recursing (directly, the
/// layouts being the same).
#[test]
fn binary_snapshot_save_and_load_of_a_million_deep_chain() {
    use hot_host::state_io::binary::Format;
    use hot_host::state_io::capture::Capture;
    let loaded = on_test_stack(|| {
        let header = snapshot::Header {
            plugin: None,
            run: None,
        };
        let bytes = snapshot::encode(
            &Capture::of(&state_of(DEPTH)).expect("the state is captured"),
            &header,
            Format::Binary,
        );
        let catalog = Catalog::from_descs([Chain::DESC]).unwrap();
        let (state, report) = snapshot::load_bytes(&bytes, &catalog, None).unwrap();
        assert_eq!(report.ty("Node").unwrap().values, u64::from(DEPTH));
        values(state.get::<Chain>().unwrap())
    });
    assert_eq!(loaded, (0..DEPTH).collect::<Vec<_>>());
}

#[test]
fn set_of_a_million_deep_chain() {
    let after = on_test_stack(|| {
        let mut state = state_of(3);
        let text = head_json(DEPTH)
            .replacen(r#"{"value":0,"#, r#"{"value":7,"#, 1)
            .replacen(r#"{"value":999999,"#, r#"{"value":8,"#, 1);
        path::set(&mut state, "Chain.head", &text).unwrap();
        values(state.get::<Chain>().unwrap())
    });
    assert_eq!(spots(&after), (7, DEPTH / 2, 8, DEPTH as usize));
    let mut expected: Vec<u32> = (0..DEPTH).collect();
    expected[0] = 7;
    expected[DEPTH as usize - 1] = 8;
    assert_eq!(after, expected);
}

/// A node with a field after its tail: when that field fails to build, the tail was built
/// before it and must be dropped.
#[derive(CooType)]
#[coo(name = "Step")]
pub struct Step {
    pub value: u32,
    pub next: Option<Box<Step>>,
    pub check: u8,
}

/// Counts each `Step` dropped, and unlinks the tail one node at a time (as [`Node`] does).
impl Drop for Step {
    fn drop(&mut self) {
        STEP_DROPS.with(|d| d.set(d.get() + 1));
        let mut next = self.next.take();
        while let Some(mut step) = next {
            next = step.next.take();
        }
    }
}

#[derive(CooType)]
#[coo(name = "Steps")]
pub struct Steps {
    pub head: Option<Box<Step>>,
}

/// The JSON of a chain of `len` steps, `{"value":0,"next":{…},"check":0}`, whose step `bad`
/// has `check` 256, which does not fit its `u8`.
fn steps_json(len: u32, bad: u32) -> String {
    let mut out = String::new();
    for value in 0..len {
        let _ = write!(out, r#"{{"value":{value},"next":"#);
    }
    out.push_str("null");
    for value in (0..len).rev() {
        let check = if value == bad { 256 } else { 0 };
        let _ = write!(out, r#","check":{check}}}"#);
    }
    out
}

fn steps_state(len: u32) -> State {
    let mut head = None;
    for value in (0..len).rev() {
        head = Some(Box::new(Step {
            value,
            next: head,
            check: 1,
        }));
    }
    let mut state = State::new();
    state.insert(Steps { head });
    state
}

fn step_values(state: &State) -> Vec<(u32, u8)> {
    let mut out = Vec::new();
    let mut at = state.get::<Steps>().unwrap().head.as_deref();
    while let Some(step) = at {
        out.push((step.value, step.check));
        at = step.next.as_deref();
    }
    out
}

/// Where the error is: `Steps.head.next…next.check`, with `bad` `next`s.
fn check_path(bad: u32) -> String {
    format!("Steps.head{}.check", ".next".repeat(bad as usize))
}

const BAD: u32 = 900_000;

#[test]
fn a_failing_load_of_a_million_deep_chain_drops_what_it_built_once_and_leaks_nothing() {
    let (found, leaked, dropped) = on_test_stack(|| {
        let catalog = Catalog::from_descs([Steps::DESC]).unwrap();
        let text = format!(
            r#"{{"coo_snapshot":1,"state":{{"Steps":{{"head":{}}}}}}}"#,
            steps_json(DEPTH, BAD)
        );
        // Warm up: anything allocated once per thread on first use is allocated now.
        drop(snapshot::load(&text, &catalog));
        let (bytes, drops) = (live_bytes(), step_drops());
        let err = snapshot::load(&text, &catalog).map(|_| ()).unwrap_err();
        let SnapshotError::Value(ValueError {
            kind: ValueErrorKind::DoesNotFit { value, ty },
            path,
        }) = err
        else {
            panic!("expected a value that does not fit, got {err}");
        };
        // What the error says, before it is dropped, so that only what the load kept could
        // still be allocated.
        let found = (path.to_string() == check_path(BAD), value == "256", ty);
        drop((path, value));
        (found, live_bytes() - bytes, step_drops() - drops)
    });
    // The error is at the bad step's `check`, a `u8` that cannot be 256.
    assert_eq!(found, (true, true, Prim::U8));
    assert_eq!(leaked, 0, "the failed load leaked memory");
    // The steps after the bad one were built completely, and each is dropped exactly once.
    assert_eq!(dropped, (DEPTH - BAD - 1) as usize);
}

#[test]
fn a_failing_set_of_a_million_deep_chain_changes_nothing() {
    let (found, before, after, leaked, dropped) = on_test_stack(|| {
        let mut state = steps_state(5);
        let before = step_values(&state);
        let text = steps_json(DEPTH, BAD);
        drop(path::set(&mut state, "Steps.head", &text));
        let (bytes, drops) = (live_bytes(), step_drops());
        let err = path::set(&mut state, "Steps.head", &text).unwrap_err();
        let PathError::Value(ValueError {
            kind: ValueErrorKind::DoesNotFit { value, ty },
            path,
        }) = err
        else {
            panic!("expected a value that does not fit, got {err}");
        };
        let found = (path.to_string() == check_path(BAD), value == "256", ty);
        drop((path, value));
        let (leaked, dropped) = (live_bytes() - bytes, step_drops() - drops);
        (found, before, step_values(&state), leaked, dropped)
    });
    assert_eq!(found, (true, true, Prim::U8));
    assert_eq!(after, before);
    assert_eq!(leaked, 0, "the failed set leaked memory");
    assert_eq!(dropped, (DEPTH - BAD - 1) as usize);
}
