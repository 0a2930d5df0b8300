// Every kind of field type, nested in every combination the runtime supports.
use coo_runtime::{CooType, Handle, Pool};

#[derive(CooType)]
struct Enemy {
    hp: u32,
}

#[derive(CooType)]
struct Primitives {
    b: bool,
    c: char,
    i8: i8,
    i16: i16,
    i32: i32,
    i64: i64,
    i128: i128,
    isize: isize,
    u8: u8,
    u16: u16,
    u32: u32,
    u64: u64,
    u128: u128,
    usize: usize,
    f32: f32,
    f64: f64,
}

#[derive(CooType)]
struct Containers {
    name: String,
    bytes: [u8; 16],
    grid: [[f32; 4]; 4],
    tags: Vec<String>,
    boxed: Box<Enemy>,
    maybe: Option<u64>,
    crowd: Vec<Option<Box<Enemy>>>,
    targets: [Handle<Enemy>; 3],
    pool: Pool<Enemy>,
    nested_pools: Vec<Pool<Enemy>>,
    handle: Option<Handle<Enemy>>,
    deep: Option<Vec<[Box<Option<String>>; 2]>>,
    std_path: std::string::String,
    qualified: ::std::vec::Vec<coo_runtime::Handle<Enemy>>,
    primitives: Primitives,
}

fn main() {
    let _ = <Containers as coo_runtime::CooType>::DESC;
}
