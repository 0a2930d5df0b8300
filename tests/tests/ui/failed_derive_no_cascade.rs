// A type whose derive fails still implements `CooType` for the type checker, so a type that
// uses it as a field reports nothing more: only the typo is reported.
use coo_runtime::CooType;

#[derive(CooType)]
struct Enemy {
    #[coo(defualt = 100)]
    hp: u32,
}

#[derive(CooType)]
struct World {
    enemies: Vec<Enemy>,
    boss: Option<Box<Enemy>>,
}

fn main() {}
