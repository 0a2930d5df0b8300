// `impl Trait` makes a function generic (arguments) or hides the type the host must know
// (returns).
use coo_runtime::hot_fn;

#[hot_fn]
fn log(message: impl std::fmt::Display) {
    println!("{message}");
}

#[hot_fn]
fn count(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

fn main() {}
