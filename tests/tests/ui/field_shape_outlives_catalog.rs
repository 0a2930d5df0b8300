// A shape reached through a field lives in the image of the catalog's types: it cannot outlive
// the catalog (issue 7).
use coo_runtime::{Catalog, CooType, Shape};

#[derive(CooType)]
struct Counter {
    n: u32,
}

fn main() {
    let shape: &Shape;
    {
        let catalog = Catalog::from_descs([Counter::DESC]).unwrap();
        shape = catalog.get("Counter").unwrap().struct_fields().unwrap()[0].shape();
    }
    println!("{}", shape.size());
}
