// `#[hot_fn(alt_of = "...", name = "...")]` takes names, of another function, and nothing else.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Default)]
pub struct Counter {
    count: u64,
}

#[hot_fn]
pub fn change(counter: &mut Counter) {
    counter.count += 1;
}

// Not a name.
#[hot_fn(alt_of = "change", name = "plus ten")]
pub fn plus10(counter: &mut Counter) {
    counter.count += 10;
}

// Of itself.
#[hot_fn(alt_of = "itself")]
pub fn itself(counter: &mut Counter) {
    counter.count += 3;
}

// Something else.
#[hot_fn(alt_of = "change", weight = 2)]
pub fn weighted(counter: &mut Counter) {
    counter.count += 4;
}

fn main() {}
