use coo_runtime::CooType;

#[derive(CooType)]
struct Buffer<const N: usize> {
    bytes: [u8; N],
}

fn main() {}
