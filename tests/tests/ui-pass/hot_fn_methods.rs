// Methods: every receiver, receivers written with their type, `Self` in signatures, associated
// functions, marked methods next to unmarked ones, a block without marks (its `pub` functions),
// and other items in the blocks. Each method stays callable directly.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[hot_fn]
impl World {
    pub const START: u32 = 1;

    #[hot_fn]
    fn new() -> Self {
        World { frame: Self::START }
    }

    #[hot_fn]
    fn empty() -> World {
        World { frame: 0 }
    }

    #[hot_fn]
    fn frame(&self) -> u32 {
        self.frame
    }

    #[hot_fn]
    fn step(&mut self, by: u32) {
        self.frame += by;
    }

    #[hot_fn]
    fn into_frame(self) -> u32 {
        self.frame
    }

    #[hot_fn]
    fn bumped(mut self) -> Self {
        self.frame += 1;
        self
    }

    #[coo_runtime::hot_fn]
    fn typed_ref(self: &Self) -> u32 {
        self.frame
    }

    #[hot_fn]
    fn typed_mut(self: &mut Self, name: &str) -> String {
        self.frame += 1;
        name.to_owned()
    }

    #[hot_fn]
    fn typed_value(self: Self) -> u32 {
        self.frame
    }

    /// Not marked: not registered, and free to be generic.
    pub fn convert<T: From<u32>>(&self) -> T {
        T::from(self.frame)
    }
}

#[derive(CooType)]
pub struct Clock {
    time: f64,
}

// No method is marked: the `pub` ones are registered.
#[hot_fn]
impl Clock {
    pub fn new() -> Self {
        Clock { time: 0.0 }
    }

    pub fn advance(&mut self, dt: f64) -> f64 {
        self.time += dt;
        self.helper()
    }

    fn helper(&self) -> f64 {
        self.time
    }
}

mod nested {
    use coo_runtime::hot_fn;

    #[hot_fn]
    impl crate::World {
        #[hot_fn]
        pub fn reset(&mut self) {
            self.frame = 0;
        }
    }
}

fn main() {
    let mut world = World::new();
    world.step(2);
    assert_eq!(world.frame(), 3);
    assert_eq!(world.typed_ref(), 3);
    assert_eq!(world.typed_mut("a"), "a");
    world.reset();
    assert_eq!(world.bumped().into_frame(), 1);
    assert_eq!(World::empty().typed_value(), 0);
    assert_eq!(World::new().convert::<u64>(), 1);
    let mut clock = Clock::new();
    assert_eq!(clock.advance(0.5), 0.5);
}
