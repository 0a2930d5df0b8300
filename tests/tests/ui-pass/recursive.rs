// Types that contain themselves, directly and through each other, spelled with `Self` too.
use coo_runtime::{CooType, Handle, Pool};

#[derive(CooType)]
struct Tree {
    children: Vec<Tree>,
    parent: Option<Box<Self>>,
    siblings: [Option<Handle<Self>>; 2],
}

#[derive(CooType)]
struct Ping {
    pong: Option<Box<Pong>>,
}

#[derive(CooType)]
struct Pong {
    ping: Vec<Ping>,
    everyone: Pool<Pong>,
}

#[derive(CooType)]
enum List {
    Nil,
    Cons(u32, Box<Self>),
}

fn main() {
    let _ = List::Cons(1, Box::new(List::Nil));
}
