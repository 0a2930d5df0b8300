// Glue is code of the image that defined the type: its function pointers cannot be copied out of
// the borrowed descriptor and called after the catalog is dropped (issue 7).
use coo_runtime::{Catalog, CooType};

#[derive(CooType)]
struct Counter {
    n: u32,
}

fn main() {
    let drop: unsafe fn(*mut u8);
    {
        let catalog = Catalog::from_descs([Counter::DESC]).unwrap();
        drop = catalog.get("Counter").unwrap().glue().drop;
    }
    let mut value = Counter { n: 1 };
    unsafe { drop((&raw mut value).cast()) };
}
