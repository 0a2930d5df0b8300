use std::cell::{Cell, RefCell};
use std::sync::{Mutex, RwLock};

use coo_runtime::CooType;

#[derive(CooType)]
struct Counters {
    hits: Cell<u32>,
    log: RefCell<Vec<String>>,
    shared: std::sync::Mutex<u64>,
    table: RwLock<Vec<u8>>,
    total: Mutex<u32>,
}

fn main() {}
