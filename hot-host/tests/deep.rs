//! Values nested a million levels deep (a linked list of `Option<Box<Node>>`): showing, path
//! access and snapshots walk them without running out of stack. Each test runs on a thread with
//! the default 2 MiB stack of a test thread; a walk whose native recursion grows with the data
//! overflows it and aborts the test binary.
#![allow(missing_debug_implementations)]

use std::fmt::Write as _;

use coo_runtime::{Catalog, CooType, State};
use hot_host::show::{state_json, state_pretty};
use hot_host::{path, snapshot};

const DEPTH: u32 = 1_000_000;

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
fn path_get_and_set_of_a_million_deep_chain() {
    let (json, after) = on_test_stack(|| {
        let mut state = state_of(DEPTH);
        let json = path::get(&state, "Chain.head").unwrap().json();
        let mut text = head_json(DEPTH);
        text = text.replacen(r#"{"value":0,"#, r#"{"value":7,"#, 1);
        path::set(&mut state, "Chain.head", &text).unwrap();
        let after = values(state.get::<Chain>().unwrap());
        (json, after)
    });
    assert_eq!(json, head_json(DEPTH));
    assert_eq!(after.len(), DEPTH as usize);
    assert_eq!(after[0], 7);
    assert!(after[1..].iter().zip(1..).all(|(&v, i)| v == i));
}

#[test]
fn snapshot_save_and_load_of_a_million_deep_chain() {
    let (saved, again, loaded) = on_test_stack(|| {
        let text = snapshot::save(&state_of(DEPTH));
        let catalog = Catalog::from_descs([Chain::DESC]).unwrap();
        let (state, _) = snapshot::load(&text, &catalog).unwrap();
        let again = snapshot::save(&state);
        (text, again, values(state.get::<Chain>().unwrap()))
    });
    assert!(saved.ends_with(&format!(
        r#""state":{{"Chain":{{"head":{}}}}}}}"#,
        head_json(DEPTH)
    )));
    assert_eq!(again, saved);
    assert_eq!(loaded.len(), DEPTH as usize);
    assert!(loaded.iter().zip(0..).all(|(&v, i)| v == i));
}
