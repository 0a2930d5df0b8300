//! Generic types derive `CooType`; each instantiation used in a field has its own descriptor.
use coo_runtime::{CooType, TypeDesc};

#[derive(CooType)]
struct Wrapper<T> {
    value: T,
}

#[derive(CooType)]
enum Either<L, R: Clone>
where
    L: Copy,
{
    Left(L),
    Right(R),
}

#[derive(CooType)]
struct Uses {
    wrapped: Wrapper<u32>,
    choices: Vec<Either<u8, String>>,
}

fn main() {
    let desc: &TypeDesc = <Wrapper<u32> as CooType>::DESC;
    assert_eq!(desc.name(), "Wrapper<u32>");
    assert_eq!(<Either<u8, String> as CooType>::DESC.name(), "Either<u8, String>");
    let _ = Uses::DESC;
}
