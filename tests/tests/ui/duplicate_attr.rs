use coo_runtime::{CooType, ValueView};

fn fix(_old: &ValueView<'_>, _new: &mut Player) -> Result<(), String> {
    Ok(())
}

#[derive(CooType)]
#[coo(name = "Player", name = "Hero")]
#[coo(migrate = fix)]
#[coo(migrate = fix)]
struct Player {
    #[coo(default = 100, default = 50)]
    hp: u32,
}

fn main() {}
