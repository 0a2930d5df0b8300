// A function whose `#[hot_fn]` fails is still defined, so code that calls it reports nothing
// more: only the macro's error is reported.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[hot_fn]
fn advance<T: Into<u32>>(world: &mut World, by: T) -> u32 {
    world.frame += by.into();
    world.frame
}

fn main() {
    let mut world = World { frame: 0 };
    let frame: u32 = advance(&mut world, 2_u8);
    let _ = frame;
}
