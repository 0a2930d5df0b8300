use coo_runtime::CooType;

/// Every spelling of `packed` is described: `packed`, `C, packed`, `packed(N)`.
#[derive(CooType)]
#[repr(C, packed)]
struct Header {
    tag: u8,
    len: u32,
}

#[derive(CooType)]
#[repr(packed)]
struct Plain {
    tag: u8,
    len: u64,
    limit: Option<u16>,
    pair: (u8, u32),
    header: Header,
}

#[derive(CooType)]
#[repr(packed(2))]
struct Two<T> {
    tag: u8,
    value: T,
}

fn main() {
    assert_eq!(<Header as CooType>::DESC.packing(), Some(1));
    assert_eq!(<Plain as CooType>::DESC.packing(), Some(1));
    assert_eq!(<Two<u32> as CooType>::DESC.packing(), Some(2));
}
