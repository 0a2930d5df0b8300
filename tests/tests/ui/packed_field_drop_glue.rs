use coo_runtime::CooType;

// Fields of a packed struct are moved as bytes through aligned copies: they must own nothing.
#[derive(CooType)]
#[repr(C, packed)]
struct Header {
    tag: u8,
    name: String,
    len: u32,
}

fn main() {}
