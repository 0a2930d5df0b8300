use coo_runtime::CooType;

#[derive(CooType)]
struct Ai {
    think: fn(u32) -> u32,
    on_hit: Box<dyn Fn(u32)>,
    steps: Vec<Box<dyn FnMut() -> bool>>,
    done: Option<Box<dyn FnOnce()>>,
}

fn main() {}
