// `#[host]` marks a parameter that the caller passes by reference; what stays unsupported.
use coo_runtime::{CooType, hot_fn};

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

// By value: a host object is never copied or moved into the plugin.
#[hot_fn]
pub fn by_value(#[host] _canvas: Canvas) {}

// `&str` is passed as it is.
#[hot_fn]
pub fn text(#[host] _name: &str) {}

// Slices are not host objects.
#[hot_fn]
pub fn slice(#[host] _cells: &[char]) {}

// `#[host]` takes no arguments.
#[hot_fn]
pub fn args(#[host(shared)] _canvas: &Canvas) {}

// A trait object without `#[host]`.
#[hot_fn]
pub fn unmarked(_shape: &dyn Shape) {}

// Generic host objects: the host calls one compiled function per slot.
#[hot_fn]
pub fn generic<T>(#[host] _canvas: &T) {}

// `self` is the live resource, never a host object.
#[hot_fn]
impl World {
    pub fn step(#[host] &mut self) {}
}

fn main() {}
