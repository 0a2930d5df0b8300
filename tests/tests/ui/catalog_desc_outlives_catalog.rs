// A descriptor borrowed from a `Catalog` lives in the image the catalog keeps mapped: it cannot
// be kept after the catalog is dropped (issue 7).
use coo_runtime::{Catalog, CooType, TypeDesc};

#[derive(CooType)]
struct Counter {
    n: u32,
}

fn main() {
    let desc: &TypeDesc;
    {
        let catalog = Catalog::from_descs([Counter::DESC]).unwrap();
        desc = catalog.get("Counter").unwrap();
    }
    println!("{}", desc.size());
}
