// Trait impls are not supported: hot functions are called by name.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

pub trait Step {
    fn step(&mut self);
}

#[hot_fn]
impl Step for World {
    fn step(&mut self) {
        self.frame += 1;
    }
}

fn main() {
    // The impl is still emitted: this call reports nothing.
    World { frame: 0 }.step();
}
