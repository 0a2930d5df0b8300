// Every attribute, with hooks named by path and error types that only implement `Display`.
use core::fmt;

use coo_runtime::{CooType, ValueView};

struct HookError;

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("hook failed")
    }
}

mod hooks {
    use coo_runtime::ValueView;

    pub fn fix_player(old: &ValueView<'_>, new: &mut super::Player) -> Result<(), super::HookError> {
        new.hp = old.get::<u32>("hp").map_err(|_| super::HookError)?;
        Ok(())
    }
}

fn speed() -> f32 {
    1.5
}

const BASE_HP: u32 = 10;

#[derive(CooType)]
#[coo(name = "game::Player")]
#[coo(rename_from = "Hero", rename_from = "Avatar")]
#[coo(migrate = hooks::fix_player)]
struct Player {
    #[coo(rename_from = "health", rename_from = "life")]
    #[coo(default = BASE_HP * 2)]
    hp: u32,
    #[coo(default = speed())]
    speed: f32,
    #[coo(default = String::from("nobody"))]
    name: String,
    #[coo(default = vec![1, 2, 3])]
    inventory: Vec<u8>,
    #[coo(default = Some(Box::new(Player::default_pet())))]
    pet: Option<Box<Pet>>,
    #[coo(default = { let x = 2; [x; 4] })]
    stats: [u8; 4],
    #[coo()]
    plain: i64,
}

impl Player {
    fn default_pet() -> Pet {
        Pet { legs: 4 }
    }
}

#[derive(CooType, Default)]
#[coo(migrate = self::pet_hook)]
struct Pet {
    legs: u8,
}

fn pet_hook(_: &ValueView<'_>, _: &mut Pet) -> Result<(), &'static str> {
    Ok(())
}

fn main() {}
