// `#[hot_fn]` takes no arguments, on functions, impl blocks, or methods.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[hot_fn(name = "tick_v2")]
fn tick(world: &mut World) {
    world.frame += 1;
}

#[hot_fn(methods)]
impl World {
    #[hot_fn(skip)]
    fn frame(&self) -> u32 {
        self.frame
    }

    #[hot_fn = "step"]
    fn step(&mut self) {
        self.frame += 1;
    }
}

fn main() {}
