use coo_runtime::CooType;

#[derive(CooType)]
struct Player {
    #[coo(default = "fast")]
    speed: f32,
    #[coo(default = 100)]
    name: String,
}

fn main() {}
