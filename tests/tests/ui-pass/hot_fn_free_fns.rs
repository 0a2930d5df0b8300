// Free functions of every supported shape: primitives, `String`, `&str`, `&T` and `&mut T` of a
// `CooType`, `CooType` values, no parameters or no return type, names that are `_`, `mut` or
// raw identifiers, and other attributes next to `#[hot_fn]`. Each stays callable directly.
use coo_runtime::{CooType, hot_fn};

#[derive(CooType)]
pub struct World {
    frame: u64,
    name: String,
}

#[derive(CooType, Clone, Copy)]
pub struct Vec2 {
    x: f32,
    y: f32,
}

#[hot_fn]
fn nothing() {}

#[hot_fn]
fn unit() -> () {}

#[hot_fn]
pub fn integers(a: i8, b: i16, c: i32, d: i64, e: i128, f: isize) -> i128 {
    a as i128 + b as i128 + c as i128 + d as i128 + e + f as i128
}

#[hot_fn]
pub(crate) fn unsigned(a: u8, b: u16, c: u32, d: u64, e: u128, f: usize) -> u128 {
    a as u128 + b as u128 + c as u128 + d as u128 + e + f as u128
}

#[hot_fn]
fn floats(a: f32, b: f64) -> f64 {
    a as f64 + b
}

#[hot_fn]
fn flags(on: bool, letter: char) -> char {
    if on { letter } else { ' ' }
}

#[hot_fn]
fn rename(world: &mut World, name: &str) -> String {
    std::mem::replace(&mut world.name, name.to_owned())
}

#[hot_fn]
fn frame(world: &World) -> u64 {
    world.frame
}

#[hot_fn]
fn elided(world: &'_ World, label: &'_ str) -> usize {
    world.name.len() + label.len()
}

#[hot_fn]
fn owned(mut text: String, _: u8, r#type: u8) -> String {
    text.push(r#type as char);
    text
}

#[hot_fn]
fn add(a: Vec2, b: Vec2) -> Vec2 {
    Vec2 {
        x: a.x + b.x,
        y: a.y + b.y,
    }
}

#[hot_fn]
fn qualified(world: &crate::World, name: std::string::String) -> std::string::String {
    format!("{}{name}", world.name)
}

/// Documented, inlined and allowed to be unused: other attributes stay on the function.
#[hot_fn]
#[inline]
#[allow(clippy::needless_pass_by_value)]
const fn constant(value: u32) -> u32 {
    value
}

mod systems {
    use coo_runtime::hot_fn;

    #[hot_fn]
    pub fn step(world: &mut super::World) {
        world.frame += 1;
    }
}

fn main() {
    let mut world = World {
        frame: 0,
        name: "a".to_owned(),
    };
    nothing();
    unit();
    assert_eq!(integers(1, 2, 3, 4, 5, 6), 21);
    assert_eq!(unsigned(1, 2, 3, 4, 5, 6), 21);
    assert_eq!(floats(1.0, 2.0), 3.0);
    assert_eq!(flags(true, 'x'), 'x');
    assert_eq!(rename(&mut world, "b"), "a");
    systems::step(&mut world);
    assert_eq!(frame(&world), 1);
    assert_eq!(elided(&world, "cd"), 3);
    assert_eq!(owned("a".to_owned(), 0, b'b'), "ab");
    assert_eq!(add(Vec2 { x: 1.0, y: 2.0 }, Vec2 { x: 3.0, y: 4.0 }).y, 6.0);
    const { assert!(constant(3) == 3) };
    assert_eq!(qualified(&world, "e".to_owned()), "be");
}
