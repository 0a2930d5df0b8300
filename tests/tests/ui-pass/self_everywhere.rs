// `Self` wherever a type or a discriminant can hold it: in paths (`Self::N`, `<Self as Tr>::Out`),
// in array lengths, inside macro invocations (whose tokens syn does not parse), and in an impl
// block of a type named by a path. The generated items live outside the type and the impl block,
// where every one of them must have become the type's path.
use coo_runtime::{CooType, hot_fn};

macro_rules! id {
    ($t:ty) => {
        $t
    };
}

macro_rules! boxed {
    ($($t:tt)*) => {
        Box<$($t)*>
    };
}

pub trait Tr {
    type Out;
}

#[derive(CooType)]
pub struct Node {
    len: [u8; Self::N],
    boxed: Option<boxed!(Self)>,
    nested: Option<id!(Box<Self>)>,
    block: [u32; { Self::N } + 1],
    projected: <Self as Tr>::Out,
}

impl Node {
    const N: usize = 2;
}

impl Tr for Node {
    type Out = u16;
}

#[derive(CooType)]
#[repr(u8)]
pub enum Disc {
    A(u8) = 3,
    B(Option<Box<Self>>) = Self::K,
    C { x: boxed!(Self) },
}

impl Disc {
    const K: u8 = 7;
}

#[hot_fn]
impl Node {
    pub fn sum(&self, other: id!(u32), t: <Self as Tr>::Out) -> u32 {
        u32::from(self.len[0]) + other + u32::from(t)
    }

    pub fn same(self) -> id!(Self) {
        self
    }
}

mod m {
    pub mod inner {
        #[derive(coo_runtime::CooType)]
        pub struct Deep {
            pub x: u32,
        }
    }
}

#[hot_fn]
impl m::inner::Deep {
    pub fn add(this: &Self, n: id!(Self)) -> Self {
        m::inner::Deep { x: this.x + n.x }
    }
}

fn main() {
    let node = Node {
        len: [1, 2],
        boxed: None,
        nested: None,
        block: [0; 3],
        projected: 4,
    };
    assert_eq!(node.sum(2, 3), 6);
    assert!(matches!(Disc::A(0), Disc::A(_)));
    let deep = m::inner::Deep { x: 1 };
    assert_eq!(m::inner::Deep::add(&deep, m::inner::Deep { x: 2 }).x, 3);
}
