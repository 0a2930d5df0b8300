// An alternative (`#[hot_fn(alt_of = "...")]`) has the signature of the function it names,
// a function of the module: checked by the compiler, on `alt_of`.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Default)]
pub struct Counter {
    count: u64,
}

#[hot_fn]
pub fn change(counter: &mut Counter) {
    counter.count += 1;
}

// Another signature than `change`'s.
#[hot_fn(alt_of = "change", name = "by")]
pub fn change_by(counter: &mut Counter, by: u64) {
    counter.count += by;
}

// Another return type.
#[hot_fn(alt_of = "change")]
pub fn counted(counter: &mut Counter) -> u64 {
    counter.count
}

// No such function.
#[hot_fn(alt_of = "chnage")]
pub fn typo(counter: &mut Counter) {
    counter.count += 2;
}

fn main() {}
