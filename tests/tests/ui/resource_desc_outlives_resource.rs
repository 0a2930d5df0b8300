// A `Resource`'s descriptor lives in the image the resource keeps mapped: it cannot be kept
// after the resource is dropped (issue 7).
use coo_runtime::{CooType, Resource, TypeDesc};

#[derive(CooType)]
struct Counter {
    n: u32,
}

fn main() {
    let resource = Resource::new(Counter { n: 1 });
    let desc: &TypeDesc = resource.desc();
    drop(resource);
    println!("{}", desc.size());
}
