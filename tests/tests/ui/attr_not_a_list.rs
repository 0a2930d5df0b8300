use coo_runtime::CooType;

#[derive(CooType)]
#[coo]
struct Player {
    #[coo = "hp"]
    health: u32,
}

fn main() {}
