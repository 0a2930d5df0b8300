use coo_runtime::CooType;

#[derive(CooType)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
