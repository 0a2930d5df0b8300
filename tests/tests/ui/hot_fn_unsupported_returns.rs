// Return types that cannot cross a hot function boundary, whatever traits they implement.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[hot_fn]
fn name(world: &World) -> &str {
    let _ = world;
    "world"
}

#[hot_fn]
fn borrow(world: &mut World) -> &World {
    world
}

#[hot_fn]
fn pair() -> (u32, u32) {
    (1, 2)
}

#[hot_fn]
fn bytes() -> [u8; 4] {
    [0; 4]
}

#[hot_fn]
fn address(world: &mut World) -> *mut World {
    world
}

#[hot_fn]
fn never() -> ! {
    panic!()
}

fn main() {}
