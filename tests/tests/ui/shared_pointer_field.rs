use std::rc::Rc;
use std::sync::{Arc, Weak};

use coo_runtime::CooType;

#[derive(CooType)]
struct Enemy {
    hp: u32,
}

#[derive(CooType)]
struct World {
    target: Rc<Enemy>,
    shared: Vec<Rc<String>>,
    everyone: std::sync::Arc<Vec<Enemy>>,
    seen: Option<Weak<Enemy>>,
    names: Arc<str>,
}

fn main() {}
