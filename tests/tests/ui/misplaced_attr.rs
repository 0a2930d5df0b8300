use coo_runtime::{CooType, ValueView};

fn fix(_old: &ValueView<'_>, _new: &mut Player) -> Result<(), String> {
    Ok(())
}

#[derive(CooType)]
#[coo(default = Player { hp: 1 })]
struct Player {
    #[coo(migrate = fix)]
    #[coo(name = "health")]
    hp: u32,
}

#[derive(CooType)]
enum Mode {
    #[coo(name = "Idle", default = 0, migrate = fix)]
    Waiting,
}

fn main() {}
