use coo_runtime::CooType;

#[derive(CooType)]
#[coo(name = "Hero", rename_from = "Player", rename_from = "Hero")]
struct Player {
    #[coo(rename_from = "hp")]
    hp: u32,
}

#[derive(CooType)]
enum Mode {
    #[coo(rename_from = "Idle")]
    Idle,
    Moving(#[coo(rename_from = "0")] f32),
}

fn main() {}
