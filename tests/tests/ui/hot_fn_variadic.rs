// C-variadic functions cannot be hot functions (and need a nightly feature anyway).
use coo_runtime::hot_fn;

#[hot_fn]
fn sum(count: u32, ...) -> u32 {
    count
}

fn main() {}
