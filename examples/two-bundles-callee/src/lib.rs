//! The callee bundle of the two-bundles demo (`examples/two-bundles`): the caller bundle asks
//! `next` for its next value every tick, through an import slot. Edit `next` while the demo
//! runs (make it `x + 100`, or `x * 2 + 1`) and save: this bundle alone is rebuilt and
//! reloaded, and the caller's next call runs the new code without the caller reloading.

use coo_runtime::hot_fn;

/// The caller's next value after `x`.
#[hot_fn]
pub fn next(x: i64) -> i64 {
    x + 1
}
