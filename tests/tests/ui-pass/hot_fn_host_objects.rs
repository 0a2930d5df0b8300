// Host objects (`#[host]`): sized types of any crate, `std` types, and trait objects named with
// `host_trait!`, in free functions and methods, beside resources and values; typed handles pass
// them as the references they are.
use coo_runtime::{CooType, hot_fn};
use hot_host::{HotFn, Host};

#[derive(CooType)]
pub struct World {
    pub tick: u64,
}

pub struct Canvas {
    pub cells: Vec<char>,
}

pub trait Shape {
    fn area(&self) -> u64;
}

coo_runtime::host_trait!(dyn Shape);

#[hot_fn]
pub fn draw(world: &World, #[host] canvas: &mut Canvas) {
    canvas.cells.push(if world.tick % 2 == 0 { 'x' } else { 'o' });
}

#[hot_fn]
pub fn log(#[host] lines: &mut Vec<String>, #[host] shape: &dyn Shape, n: u32) -> u64 {
    lines.push(format!("{n}"));
    shape.area()
}

#[hot_fn]
impl World {
    pub fn paint(&mut self, #[host] canvas: &Canvas) {
        self.tick += canvas.cells.len() as u64;
    }
}

fn main() {
    let host = Host::new("plugin");
    let _: Result<HotFn<fn(&mut Canvas)>, _> = host.resolve_typed("draw");
    let _: Result<HotFn<fn(&mut Vec<String>, &(dyn Shape + 'static), u32) -> u64>, _> =
        host.resolve_typed("log");
    let _: Result<HotFn<fn(&Canvas)>, _> = host.resolve_typed("World::paint");
}
