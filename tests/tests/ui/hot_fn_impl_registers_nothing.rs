// An impl block's attribute registers the marked functions, or every `pub` one: a block with
// neither registers nothing, and a `pub` function that cannot be registered is explained.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[derive(CooType)]
pub struct Clock {
    time: f32,
}

#[hot_fn]
impl World {
    fn frame(&self) -> u32 {
        self.frame
    }
}

#[hot_fn]
impl Clock {
    pub fn time(&self) -> f32 {
        self.time
    }

    pub fn convert<T: From<f32>>(&self) -> T {
        T::from(self.time)
    }

    #[hot_fn]
    const ZERO: f32 = 0.0;
}

fn main() {
    let _ = World { frame: 0 }.frame();
}
