// A field's name lives in the image of the catalog's types: it cannot outlive the catalog
// (issue 7).
use coo_runtime::{Catalog, CooType};

#[derive(CooType)]
struct Counter {
    n: u32,
}

fn main() {
    let name: &str;
    {
        let catalog = Catalog::from_descs([Counter::DESC]).unwrap();
        name = catalog.get("Counter").unwrap().struct_fields().unwrap()[0].name();
    }
    println!("{name}");
}
