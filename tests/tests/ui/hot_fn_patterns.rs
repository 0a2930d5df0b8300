// The host sees parameter names: patterns need a plain name, and attributes on parameters
// would change the signature under the shim.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct Vec2 {
    x: f32,
    y: f32,
}

#[hot_fn]
fn length(Vec2 { x, y }: Vec2) -> f32 {
    (x * x + y * y).sqrt()
}

#[hot_fn]
fn scale(#[allow(unused_mut)] mut factor: f32, &by: &f32) -> f32 {
    factor *= by;
    factor
}

fn main() {}
