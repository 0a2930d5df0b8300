use coo_runtime::CooType;

#[derive(CooType)]
struct Wrapper<T> {
    value: T,
}

#[derive(CooType)]
enum Either<L, R: Clone> {
    Left(L),
    Right(R),
}

fn main() {}
