// Trait objects of a `#[coo_trait]` trait as fields, in containers, with `#[coo_impl]` impls
// (one with a registered conversion) and a method only sized types have.
use std::collections::HashMap;

use coo_runtime::{CooType, coo_impl, coo_trait};

#[coo_trait]
pub trait Vehicle {
    fn speed(&self) -> u32;
    fn name(&self) -> String {
        "vehicle".to_owned()
    }
    fn build() -> Self
    where
        Self: Sized;
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
    fn build() -> Self {
        Bicycle { gear: 1 }
    }
}

#[derive(CooType)]
pub struct Car {
    plate: String,
}

impl From<&Bicycle> for Car {
    fn from(b: &Bicycle) -> Car {
        Car {
            plate: b.gear.to_string(),
        }
    }
}

#[coo_impl(from(Bicycle))]
impl Vehicle for Car {
    fn speed(&self) -> u32 {
        100
    }
    fn build() -> Self {
        Car {
            plate: String::new(),
        }
    }
}

#[derive(CooType)]
pub struct Garage {
    one: Box<dyn Vehicle>,
    many: Vec<Box<dyn Vehicle>>,
    spare: Option<Box<dyn Vehicle>>,
    by_name: HashMap<String, Box<dyn Vehicle>>,
}

fn main() {
    let g = Garage {
        one: Box::new(Bicycle::build()),
        many: vec![Box::new(Car::build())],
        spare: None,
        by_name: HashMap::new(),
    };
    assert_eq!(g.one.speed() + g.many[0].speed(), 101);
    assert!(g.spare.is_none() && g.by_name.is_empty());
}
