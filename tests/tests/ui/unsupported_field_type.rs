use std::collections::HashMap;
use std::rc::Rc;

use coo_runtime::CooType;

struct NotDerived;

#[derive(CooType)]
struct Player {
    scores: HashMap<String, u32>,
    position: (f32, f32),
    shared: Vec<Rc<String>>,
    plain: NotDerived,
}

fn main() {}
