use coo_runtime::CooType;

// A generic packed struct's fields are checked with the type arguments it is used with.
#[derive(CooType)]
#[repr(C, packed)]
struct Tagged<T> {
    tag: u8,
    value: T,
}

fn main() {
    let _ = <Tagged<String> as CooType>::DESC;
}
