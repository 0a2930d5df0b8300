// Generic functions: the host calls one compiled function per slot.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[hot_fn]
fn spawn<T: Default>(world: &mut World) -> u32 {
    let _ = T::default();
    world.frame
}

#[hot_fn]
fn fill<const N: usize>(value: u8) -> u8 {
    value + N as u8
}

#[hot_fn]
fn frame<'a>(world: &'a World) -> u32 {
    world.frame
}

fn main() {}
