//! Migrating a value nested deeper than a thread's stack can recurse (a linked list of `Option<Box<Node>>` whose
//! `Node` changed): the migration's walks do not run out of stack. Each test runs on a thread
//! with the default 2 MiB stack of a test thread; a walk whose native recursion grows with the
//! data overflows it and aborts the test binary.
#![allow(missing_debug_implementations)]

use coo_runtime::{Catalog, CooType, MigrateError, MigrationError, State};

/// Deep enough to overflow a test thread's stack many times over. The migration's walks recurse
/// natively and grow their stack on the heap when it runs low (`stacker`); a million levels
/// migrate too, but a debug build needs several KiB of stack per level, gigabytes in all, too
/// much for a test.
const DEPTH: u32 = 50_000;

/// Unlinks the tail one node at a time: Rust's own drop glue of a `Box` chain recurses once per
/// node, as deep as the chain, so a long list needs this in plain Rust too.
macro_rules! unlink_on_drop {
    ($node:ty) => {
        impl Drop for $node {
            fn drop(&mut self) {
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
    unlink_on_drop!(Node);
    #[derive(CooType)]
    #[coo(name = "Chain")]
    pub struct Chain {
        pub head: Option<Box<Node>>,
    }
}

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
    unlink_on_drop!(Node);
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
    let nodes = on_test_stack(|| {
        let mut state = State::new();
        state.insert(chain(DEPTH, |i| i % 1000));
        let catalog = Catalog::from_descs([v2::Chain::DESC]).unwrap();
        let report = state.migrate_to(&catalog).unwrap();
        assert_eq!(report.ty("Node").unwrap().values, u64::from(DEPTH));
        let mut nodes = Vec::new();
        let mut at = state.get::<v2::Chain>().unwrap().head.as_deref();
        while let Some(node) = at {
            nodes.push((node.tag, node.value));
            at = node.next.as_deref();
        }
        nodes
    });
    assert_eq!(nodes.len(), DEPTH as usize);
    assert!(
        nodes
            .iter()
            .zip(0..)
            .all(|(&n, i)| n == (7, (i % 1000) as u16))
    );
}

#[test]
fn a_million_deep_chain_that_cannot_migrate_is_kept_as_it_was() {
    let (err, values) = on_test_stack(|| {
        let mut state = State::new();
        // The last node's value does not fit the new `u16`: everything built is taken apart.
        state.insert(chain(
            DEPTH,
            |i| if i == DEPTH - 1 { 70_000 } else { i % 1000 },
        ));
        let catalog = Catalog::from_descs([v2::Chain::DESC]).unwrap();
        let err = state.migrate_to(&catalog).unwrap_err();
        let mut values = Vec::new();
        let mut at = state.get::<v1::Chain>().unwrap().head.as_deref();
        while let Some(node) = at {
            values.push(node.value);
            at = node.next.as_deref();
        }
        (err, values)
    });
    match err {
        MigrationError::Migrate(MigrateError::CheckedCast { path, value, .. }) => {
            assert_eq!(value, "70000");
            // `Chain.head`, then `next` for each node after the first, then `value`.
            assert_eq!(path.0.len(), DEPTH as usize + 2);
            assert_eq!(
                path.to_string().len(),
                "Chain.head".len() + 5 * (DEPTH as usize - 1) + ".value".len()
            );
        }
        other => panic!("expected a checked cast error, got {other}"),
    }
    assert_eq!(values.len(), DEPTH as usize);
    assert_eq!(values[DEPTH as usize - 1], 70_000);
    assert!(
        values[..DEPTH as usize - 1]
            .iter()
            .zip(0..)
            .all(|(&v, i)| v == i % 1000)
    );
}
