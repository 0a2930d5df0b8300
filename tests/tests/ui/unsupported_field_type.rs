use std::collections::{HashMap, LinkedList};
use std::rc::Rc;

use coo_runtime::CooType;

struct NotDerived;

#[derive(CooType)]
struct Player {
    scores: HashMap<f32, u32>,
    position: LinkedList<(f32, f32)>,
    shared: Vec<Rc<String>>,
    plain: NotDerived,
}

fn main() {}
