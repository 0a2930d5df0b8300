use coo_runtime::CooType;

// `simd` is not a representation Coo can record for an enum (nor one rustc accepts on an enum
// on stable): the derive refuses it instead of describing the enum without it.
#[derive(CooType)]
#[repr(u8)]
#[repr(simd)]
enum Mode {
    Idle,
    Run,
}

fn main() {}
