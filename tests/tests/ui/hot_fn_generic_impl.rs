// Impl blocks that are generic, or of a type with generic arguments.
use coo_runtime::hot_fn;

pub struct Grid<T>(Vec<T>);

pub struct View<'a>(&'a [u8]);

#[hot_fn]
impl<T> Grid<T> {
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

#[hot_fn]
impl<'a> View<'a> {
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

#[hot_fn]
impl Grid<u32> {
    pub fn sum(&self) -> u32 {
        self.0.iter().sum()
    }
}

fn main() {}
