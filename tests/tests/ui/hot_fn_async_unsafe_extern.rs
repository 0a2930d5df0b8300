// `async`, `unsafe` and `extern` functions: the host calls a plain Rust function through the
// shim that `#[hot_fn]` generates.
use coo_runtime::hot_fn;

#[hot_fn]
async fn load(id: u32) -> u32 {
    id
}

#[hot_fn]
unsafe fn poke(value: u32) -> u32 {
    value
}

#[hot_fn]
extern "C" fn exported(value: u32) -> u32 {
    value
}

fn main() {}
