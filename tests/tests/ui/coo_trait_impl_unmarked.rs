// An impl of a `#[coo_trait]` trait without `#[coo_impl]`: its objects could not be migrated.
use coo_runtime::{CooType, coo_trait};

#[coo_trait]
pub trait Vehicle {
    fn speed(&self) -> u32;
}

#[derive(CooType)]
pub struct Bicycle {
    gear: u8,
}

impl Vehicle for Bicycle {
    fn speed(&self) -> u32 {
        u32::from(self.gear)
    }
}

fn main() {}
