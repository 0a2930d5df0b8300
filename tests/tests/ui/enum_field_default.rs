use coo_runtime::CooType;

#[derive(CooType)]
enum Mode {
    Idle,
    Moving {
        #[coo(default = 1.0)]
        speed: f32,
    },
    Frozen(#[coo(default = String::new())] String),
}

fn main() {}
