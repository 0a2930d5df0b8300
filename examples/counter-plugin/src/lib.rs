//! Trivial hot functions (the same as `tests/fixtures/typed-plugin`'s), so that what a call
//! costs is not hidden by a function's body: the release-switch example calls them, and
//! hot-host's `release` bench measures them linked, loaded and as plain Rust.

use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug, Default)]
pub struct Counter {
    pub count: u64,
}

#[hot_fn]
pub fn init() -> Counter {
    Counter::default()
}

#[hot_fn]
pub fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[hot_fn]
pub fn bump(counter: &mut Counter) {
    counter.count += 1;
}

#[hot_fn]
pub fn scaled(counter: &Counter, by: u64) -> u64 {
    counter.count * by
}
