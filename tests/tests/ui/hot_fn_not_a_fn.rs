// `#[hot_fn]` goes on functions and inherent impl blocks only.
use coo_runtime::hot_fn;

#[hot_fn]
pub struct World {
    frame: u32,
}

#[hot_fn]
pub enum Mode {
    Run,
    Pause,
}

#[hot_fn]
pub trait Step {
    fn step(&mut self);
}

#[hot_fn]
mod systems {}

#[hot_fn]
const SPEED: f32 = 1.0;

fn main() {
    // The items are still emitted: these uses report nothing.
    let _ = World { frame: 0 }.frame;
    let _ = (Mode::Run, Mode::Pause, SPEED);
}
