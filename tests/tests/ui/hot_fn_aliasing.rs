// `&T` and `&mut T` parameters are the one live resource of `T`: a function cannot take it
// twice when one of the references is `&mut`.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[hot_fn]
fn copy_frame(into: &mut World, from: &World) {
    into.frame = from.frame;
}

#[hot_fn]
fn compare(a: &World, b: &World) -> bool {
    a.frame == b.frame
}

#[hot_fn]
impl World {
    #[hot_fn]
    fn absorb(&mut self, other: &mut Self) {
        self.frame += other.frame;
    }
}

fn main() {}
