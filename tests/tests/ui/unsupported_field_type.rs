use std::collections::{HashMap, LinkedList};

use coo_runtime::CooType;

struct NotDerived;

#[derive(CooType)]
struct Player {
    scores: HashMap<f32, u32>,
    position: LinkedList<(f32, f32)>,
    plain: NotDerived,
}

fn main() {}
