// `#[coo_impl]` on an impl of a trait without `#[coo_trait]`.
use coo_runtime::{CooType, coo_impl};

pub trait Vehicle {
    fn speed(&self) -> u32;
}

#[derive(CooType)]
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
