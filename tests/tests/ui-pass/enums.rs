// Enums with unit, tuple and struct variants, renames, explicit discriminants and a hook.
use coo_runtime::{CooType, ValueView};

#[derive(CooType)]
enum Mode {
    Idle,
    #[coo(rename_from = "Walking", rename_from = "Running")]
    Moving(f32, f32),
    Frozen {
        #[coo(rename_from = "why")]
        reason: String,
        until: Option<u64>,
    },
    Empty(),
    EmptyBraces {},
}

#[derive(CooType, Clone, Copy)]
#[repr(u8)]
enum Team {
    Red = 1,
    Blue = 7,
}

#[derive(CooType)]
enum Only {
    One(Box<Only>, Vec<Only>),
    Leaf,
}

fn remap(_old: &ValueView<'_>, new: &mut Weather) -> Result<(), String> {
    *new = Weather::Rain { mm: 1 };
    Ok(())
}

#[derive(CooType)]
#[coo(name = "Weather", rename_from = "Climate", migrate = remap)]
enum Weather {
    Sun,
    Rain { mm: u32 },
}

fn main() {
    let _ = (Mode::Idle, Team::Red, Only::Leaf, Weather::Sun);
}
