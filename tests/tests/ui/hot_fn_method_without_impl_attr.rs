// `#[hot_fn]` on a method cannot see the impl block's type: the block needs the attribute.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

impl World {
    #[hot_fn]
    pub fn step(&mut self) {
        self.frame += 1;
    }

    #[hot_fn]
    pub fn fresh() -> Self {
        World { frame: 0 }
    }
}

fn main() {
    // The methods are still defined: this call reports nothing.
    World::fresh().step();
}
