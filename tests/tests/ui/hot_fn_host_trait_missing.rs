// A trait object is a host object only once its trait is named with `host_trait!`, in the crate
// that defines it.
use coo_runtime::hot_fn;

pub trait Shape {
    fn area(&self) -> u64;
}

#[hot_fn]
pub fn measure(#[host] shape: &dyn Shape) -> u64 {
    shape.area()
}

fn main() {}
