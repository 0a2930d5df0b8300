use coo_runtime::{CooType, ValueView};

struct NoDisplay;

fn takes_wrong_type(_old: &ValueView<'_>, _new: &mut u32) -> Result<(), String> {
    Ok(())
}

fn error_without_display(_old: &ValueView<'_>, _new: &mut Enemy) -> Result<(), NoDisplay> {
    Ok(())
}

#[derive(CooType)]
#[coo(migrate = takes_wrong_type)]
struct Player {
    hp: u32,
}

#[derive(CooType)]
#[coo(migrate = error_without_display)]
struct Enemy {
    hp: u32,
}

fn returns_nothing(_old: &ValueView<'_>, _new: &mut Guard) {}

#[derive(CooType)]
#[coo(migrate = returns_nothing)]
struct Guard {
    hp: u32,
}

#[derive(CooType)]
#[coo(migrate = hooks::missing)]
struct Boss {
    hp: u32,
}

mod hooks {}

fn main() {}
