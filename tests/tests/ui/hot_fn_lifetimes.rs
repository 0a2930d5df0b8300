// A hot function's references are valid for the call only: they cannot name a longer lifetime.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[hot_fn]
fn keep(world: &'static World, name: &'static str) -> u32 {
    let _ = name;
    world.frame
}

#[hot_fn]
impl World {
    #[hot_fn]
    fn forever(&'static self) -> u32 {
        self.frame
    }
}

fn main() {}
