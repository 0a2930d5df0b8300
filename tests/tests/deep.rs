//! Migrating a value nested a million levels deep (a linked list of `Option<Box<Node>>` whose
//! `Node` changed layout): the migration's walks keep their native recursion bounded by the depth
//! of the types, not of the data. Each test runs on a thread with the default 2 MiB stack of a
//! test thread; a walk whose native recursion grows with the data overflows it and aborts the
//! test binary.
#![allow(missing_debug_implementations)]

use coo_runtime::migration::casts::InexactCast;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use coo_runtime::{Catalog, CooType, ExecuteError, ExecuteErrorKind, MigrationError, State};

/// A million levels; Miri runs the same walks on a shorter chain.
const DEPTH: u32 = if cfg!(miri) { 300 } else { 1_000_000 };

/// The node whose value does not fit the new `u16` in the failing migration: deep in the chain.
const FAILING: u32 = DEPTH / 10 * 9;

thread_local! {
    /// Bytes allocated and not yet freed by this thread.
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
    /// `Node`s dropped on this thread, per version.
    static DROPS: Cell<[u64; 2]> = const { Cell::new([0; 2]) };
}

/// The system allocator, counting what each thread has allocated and not freed, so a test can
/// check that a failed migration left nothing behind.
struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; the counters are plain thread-local
// cells without destructors, which `try_with` reaches (or skips, during thread teardown) without
// allocating.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

fn count(bytes: isize) {
    let _ = LIVE_BYTES.try_with(|live| live.set(live.get() + bytes));
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_bytes() -> isize {
    LIVE_BYTES.with(Cell::get)
}

fn drops() -> [u64; 2] {
    DROPS.with(Cell::get)
}

/// Unlinks the tail one node at a time (Rust's own drop glue of a `Box` chain recurses once per
/// node, as deep as the chain, so a long list needs this in plain Rust too), and counts the
/// nodes of version `$version` dropped on this thread.
macro_rules! unlink_on_drop {
    ($node:ty, $version:expr) => {
        impl Drop for $node {
            fn drop(&mut self) {
                DROPS.with(|d| {
                    let mut counts = d.get();
                    counts[$version] += 1;
                    d.set(counts);
                });
                let mut next = self.next.take();
                while let Some(mut node) = next {
                    next = node.next.take();
                }
            }
        }
    };
}

pub mod v1 {
    use super::*;
    #[derive(CooType)]
    #[coo(name = "Node")]
    pub struct Node {
        pub value: u32,
        pub next: Option<Box<Node>>,
    }
    unlink_on_drop!(Node, 0);
    #[derive(CooType)]
    #[coo(name = "Chain")]
    pub struct Chain {
        pub head: Option<Box<Node>>,
    }
}

/// `Node` changes layout: a field is added in front and `value` narrows to a `u16`.
pub mod v2 {
    use super::*;
    #[derive(CooType)]
    #[coo(name = "Node")]
    pub struct Node {
        #[coo(default = 7)]
        pub tag: u8,
        pub value: u16,
        pub next: Option<Box<Node>>,
    }
    unlink_on_drop!(Node, 1);
    #[derive(CooType)]
    #[coo(name = "Chain")]
    pub struct Chain {
        pub head: Option<Box<Node>>,
    }
}

/// A chain of `len` nodes holding `value(0), value(1), …`.
fn chain(len: u32, value: impl Fn(u32) -> u32) -> v1::Chain {
    let mut head = None;
    for i in (0..len).rev() {
        head = Some(Box::new(v1::Node {
            value: value(i),
            next: head,
        }));
    }
    v1::Chain { head }
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
fn a_million_deep_chain_migrates() {
    let (nodes, drops_after_migration, drops_at_end) = on_test_stack(|| {
        let mut state = State::new();
        state.insert(chain(DEPTH, |i| i % 1000 + 1));
        let catalog = Catalog::from_descs([v2::Chain::DESC]).unwrap();
        let report = state.migrate_to(&catalog).unwrap();
        assert_eq!(report.ty("Node").unwrap().values, u64::from(DEPTH));
        // The old nodes' parts moved to the new ones or were freed without dropping a node.
        let drops_after_migration = drops();
        let mut nodes = Vec::new();
        let mut at = state.get::<v2::Chain>().unwrap().head.as_deref();
        while let Some(node) = at {
            nodes.push((node.tag, node.value));
            at = node.next.as_deref();
        }
        drop(state);
        (nodes, drops_after_migration, drops())
    });
    assert_eq!(nodes.len(), DEPTH as usize);
    let middle = DEPTH as usize / 2;
    assert_eq!(nodes[0], (7, 1), "head");
    assert_eq!(nodes[middle], (7, (middle % 1000 + 1) as u16), "middle");
    assert_eq!(
        nodes[DEPTH as usize - 1],
        (7, ((DEPTH - 1) % 1000 + 1) as u16),
        "tail"
    );
    assert!(
        nodes
            .iter()
            .zip(0..)
            .all(|(&n, i)| n == (7, (i % 1000 + 1) as u16))
    );
    assert_eq!(drops_after_migration, [0, 0]);
    assert_eq!(
        drops_at_end,
        [0, u64::from(DEPTH)],
        "each new node dropped once"
    );
}

#[test]
fn a_million_deep_chain_that_cannot_migrate_is_kept_as_it_was() {
    let ((path, value), values, leaked, drops_after_failure, drops_at_end) = on_test_stack(|| {
        let mut state = State::new();
        // One node deep in the chain holds a value that does not fit the new `u16`: everything
        // built down to it is taken apart again.
        state.insert(chain(
            DEPTH,
            |i| if i == FAILING { 70_000 } else { i % 1000 },
        ));
        let catalog = Catalog::from_descs([v2::Chain::DESC]).unwrap();
        let before = live_bytes();
        let err = state.migrate_to(&catalog).unwrap_err();
        let checked_cast = match &err {
            MigrationError::Migrate(ExecuteError {
                path,
                kind: ExecuteErrorKind::CheckedCast(InexactCast { value, .. }),
            }) => (path.to_string(), value.clone()),
            other => panic!("expected a checked cast error, got {other}"),
        };
        drop(err);
        // Nothing the failed migration built is left: what this thread holds beyond what it held
        // before is the two strings taken from the error (which itself was dropped above).
        let kept = checked_cast.0.capacity() + checked_cast.1.capacity();
        let leaked = live_bytes() - before - kept as isize;
        let drops_after_failure = drops();
        let mut values = Vec::new();
        let mut at = state.get::<v1::Chain>().unwrap().head.as_deref();
        while let Some(node) = at {
            values.push(node.value);
            at = node.next.as_deref();
        }
        drop(state);
        (checked_cast, values, leaked, drops_after_failure, drops())
    });
    assert_eq!(value, "70000");
    // `Chain.head`, then `next` for each node before the failing one, then `value`.
    let expected = format!("Chain.head{}.value", ".next".repeat(FAILING as usize));
    assert!(path == expected, "the path names the failing node");
    assert_eq!(leaked, 0, "bytes left behind by the failed migration");
    assert_eq!(
        drops_after_failure,
        [0, 0],
        "no node was dropped by the rollback"
    );
    assert_eq!(
        drops_at_end,
        [u64::from(DEPTH), 0],
        "each old node dropped once"
    );
    assert_eq!(values.len(), DEPTH as usize);
    assert_eq!(values[0], 0, "head");
    assert_eq!(values[FAILING as usize], 70_000);
    assert_eq!(values[DEPTH as usize - 1], (DEPTH - 1) % 1000, "tail");
    assert!(
        values
            .iter()
            .zip(0..)
            .all(|(&v, i)| v == if i == FAILING { 70_000 } else { i % 1000 })
    );
}
