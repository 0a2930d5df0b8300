// `#[coo_impl]` for a concrete type that does not derive `CooType`.
use coo_runtime::{coo_impl, coo_trait};

#[coo_trait]
pub trait Vehicle {
    fn speed(&self) -> u32;
}

pub struct Bicycle {
    gear: u8,
}

#[coo_impl]
impl Vehicle for Bicycle {
    fn speed(&self) -> u32 {
        u32::from(self.gear)
    }
}

fn main() {}
