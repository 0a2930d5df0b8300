// `Self` inside a longer path is the impl block's type too: `<Self as Has>::Part` and
// `<World as Has>::Part` name the one live resource of the same type.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[derive(CooType)]
pub struct Clock {
    ticks: u32,
}

pub trait Has {
    type Part;
}

impl Has for World {
    type Part = Clock;
}

#[hot_fn]
impl World {
    #[hot_fn]
    fn sync(&self, clock: &mut <Self as Has>::Part, seen: &<World as Has>::Part) {
        clock.ticks = seen.ticks + self.frame;
    }
}

fn main() {}
