use coo_runtime::CooType;

#[derive(CooType)]
struct Enemy {
    hp: u32,
}

#[derive(CooType)]
struct Player {
    target: &'static Enemy,
    name: &'static str,
    inventory: Vec<&'static mut [u8]>,
}

fn main() {}
