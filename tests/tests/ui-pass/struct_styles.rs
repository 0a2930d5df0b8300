// Named, tuple and unit structs, including empty ones.
use coo_runtime::CooType;

#[derive(CooType)]
struct Named {
    x: f32,
}

#[derive(CooType)]
struct EmptyNamed {}

#[derive(CooType)]
struct Pair(f32, String);

#[derive(CooType)]
struct EmptyTuple();

#[derive(CooType)]
struct Marker;

fn main() {}
