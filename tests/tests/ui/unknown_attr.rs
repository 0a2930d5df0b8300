use coo_runtime::CooType;

#[derive(CooType)]
#[coo(nmae = "Player", skip)]
struct Player {
    #[coo(defualt = 100)]
    hp: u32,
    #[coo(rename = "label")]
    name: String,
    #[coo(serde::rename_from = "x")]
    x: f32,
}

#[derive(CooType)]
enum Mode {
    #[coo(renamed_from = "Walking")]
    Moving,
}

fn main() {}
