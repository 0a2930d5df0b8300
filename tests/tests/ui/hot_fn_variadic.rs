// C-variadic functions cannot be hot functions (and need a nightly feature anyway). Coo's error is
// the only one: the function is kept without its `...`, so the compiler adds none of its own.
use coo_runtime::hot_fn;

#[hot_fn]
fn sum(count: u32, _: ...) -> u32 {
    count
}

pub struct Tally;

#[hot_fn]
impl Tally {
    #[hot_fn]
    fn add(&self, first: u32, rest: ...) -> u32 {
        first
    }
}

fn main() {
    let _ = sum(1);
    let _ = Tally.add(1);
}
