// Types that are checked by trait: a by-value type must implement `HotValue`, and a referenced
// type must be a `CooType`. The errors land on the types.
use std::collections::HashMap;

use coo_runtime::hot_fn;

pub struct Plain {
    frame: u32,
}

#[hot_fn]
fn maybe(limit: Option<u32>, items: Vec<u8>, scores: HashMap<String, u32>) -> Option<u32> {
    let _ = (items, scores);
    limit
}

#[hot_fn]
fn plain(value: Plain, world: &Plain) -> Plain {
    let _ = world;
    value
}

#[hot_fn]
fn plain_mut(world: &mut Plain) {
    world.frame += 1;
}

fn main() {
    let _ = Plain { frame: 0 }.frame;
}
