use coo_runtime::CooType;

#[derive(CooType)]
#[repr(C, packed)]
struct Header {
    tag: u8,
    len: u32,
}

fn main() {}
