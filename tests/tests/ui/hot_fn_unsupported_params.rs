// Parameter types that cannot cross a hot function boundary, whatever traits they implement.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[hot_fn]
fn references(bytes: &[u8], pair: &(u32, u32), name: &mut str, shape: &dyn std::fmt::Debug) {
    let _ = (bytes, pair, name, shape);
}

#[hot_fn]
fn values(pair: (u32, u32), bytes: [u8; 4], unit: ()) {
    let _ = (pair, bytes, unit);
}

#[hot_fn]
fn pointers(world: *mut World, callback: fn(u32) -> u32) {
    let _ = (world, callback);
}

fn main() {}
