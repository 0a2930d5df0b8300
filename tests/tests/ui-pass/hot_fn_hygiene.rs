// `#[hot_fn]` in unusual places: a crate without the prelude and with its own `core`, `std` and
// `inventory` modules, a function body, a `macro_rules!` macro, and parameter names that
// collide with names the expansion uses. Only `coo_runtime::hot_fn` is imported.
#![no_implicit_prelude]

mod core {}
mod inventory {}
mod std {}

use ::coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u32,
}

#[hot_fn]
fn clash(__coo_args: u32, __coo_ret: &str, __coo_panic: &mut World, __coo: u8) -> u32 {
    let _ = (__coo_ret, __coo);
    __coo_panic.frame + __coo_args
}

#[hot_fn]
fn text(name: &str) -> ::std::string::String {
    ::std::borrow::ToOwned::to_owned(name)
}

macro_rules! hot_getter {
    ($name:ident: $ty:ty) => {
        #[hot_fn]
        fn $name(world: &$ty) -> u32 {
            world.frame
        }
    };
}

hot_getter!(frame: World);

#[hot_fn]
impl World {
    #[hot_fn]
    fn r#new() -> Self {
        World { frame: 0 }
    }
}

fn main() {
    #[hot_fn]
    fn local(world: &mut World) {
        world.frame += 1;
    }

    let mut world = World::new();
    local(&mut world);
    let _ = clash(1, "", &mut world, 0);
    let _ = frame(&world);
    let _ = text("x");
}
