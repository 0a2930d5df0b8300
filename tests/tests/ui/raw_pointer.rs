use coo_runtime::CooType;

#[derive(CooType)]
struct Enemy {
    hp: u32,
}

#[derive(CooType)]
struct Player {
    target: *const Enemy,
    scratch: Option<*mut u8>,
}

fn main() {}
