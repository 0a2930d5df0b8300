// A `#[coo_trait]` trait whose methods `dyn Trait` could not call.
use coo_runtime::coo_trait;

#[coo_trait]
pub trait Vehicle {
    fn speed(&self) -> u32;
    fn carry<T: Clone>(&self, load: T) -> T;
    fn new() -> u32;
}

#[coo_trait]
pub trait Generic<T> {
    fn get(&self) -> T;
}

fn main() {}
