use coo_runtime::{CooType, ValueView};

fn fix(_old: &ValueView<'_>, _new: &mut Player) -> Result<(), String> {
    Ok(())
}

#[derive(CooType)]
#[coo(name = 5, migrate = "fix")]
struct Player {
    #[coo(rename_from = health)]
    hp: u32,
    #[coo(default)]
    speed: f32,
}

#[derive(CooType)]
#[coo(name = "", migrate = |old, new| Ok(()))]
struct Enemy {
    #[coo(rename_from = "")]
    hp: u32,
    #[coo(rename_from("old"))]
    mana: u32,
}

fn main() {}
