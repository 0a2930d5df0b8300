use coo_runtime::CooType;

#[derive(CooType)]
#[coo(rename_from = "Hero", rename_from = "Hero")]
struct Player {
    #[coo(rename_from = "hp")]
    health: u32,
    #[coo(rename_from = "hp")]
    max_health: u32,
    #[coo(rename_from = "mana", rename_from = "mana")]
    energy: u32,
}

#[derive(CooType)]
enum Mode {
    #[coo(rename_from = "Walking")]
    Moving,
    #[coo(rename_from = "Walking")]
    Running,
}

fn main() {}
