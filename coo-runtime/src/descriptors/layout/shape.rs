//! The structure of a field type ([`Shape`], [`ShapeKind`]), the links from one descriptor to
//! another ([`ShapeLink`], [`TypeLink`]), the primitive types ([`Prim`]), and [`shape_text`].
//!
//! What a shape holds lives in the image that defined it; every accessor borrows the shape (see
//! [`crate::descriptors::layout`]).

use core::fmt;

use crate::descriptors::layout::TypeDesc;
use crate::descriptors::layout::glue::{BoxGlue, OptionGlue, PoolGlue, StringGlue, VecGlue};

/// The structure of a field type, with the glue to read, build and drop it.
pub struct Shape {
    pub(in crate::descriptors::layout) size: usize,
    pub(in crate::descriptors::layout) align: usize,
    pub(in crate::descriptors::layout) needs_drop: bool,
    pub(in crate::descriptors::layout) drop: unsafe fn(*mut u8),
    pub(in crate::descriptors::layout) type_name: fn() -> &'static str,
    pub(in crate::descriptors::layout) kind: ShapeKind,
}

impl Shape {
    pub const fn size(&self) -> usize {
        self.size
    }

    pub const fn align(&self) -> usize {
        self.align
    }

    pub const fn needs_drop(&self) -> bool {
        self.needs_drop
    }

    /// Drops a value of this shape in place (a panicking `Drop` is caught in the library that
    /// owns it and reported through [`crate::plugin::panics`]).
    ///
    /// # Safety
    /// `p` points to a valid, suitably aligned value of this shape that is not used again.
    pub unsafe fn drop(&self, p: *mut u8) {
        // SAFETY: the caller's contract; the code lives in the image of `self`.
        unsafe { (self.drop)(p) }
    }

    /// The Rust name of the type, for messages.
    pub fn type_name(&self) -> &str {
        (self.type_name)()
    }

    /// What the shape is: a primitive, a container, a nested type, ….
    pub const fn kind(&self) -> &ShapeKind {
        &self.kind
    }

    /// The descriptor of the nested `CooType`, if this shape is one.
    pub fn named(&self) -> Option<&TypeDesc> {
        match &self.kind {
            ShapeKind::Named(desc) => Some(desc.get()),
            _ => None,
        }
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

/// A link from a descriptor to the [`Shape`] of another type of the same image: follow it with
/// [`ShapeLink::get`], which borrows the link.
pub struct ShapeLink(pub(in crate::descriptors::layout) fn() -> &'static Shape);

impl ShapeLink {
    pub fn get(&self) -> &Shape {
        (self.0)()
    }
}

impl fmt::Debug for ShapeLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.get(), f)
    }
}

/// A link from a descriptor to the [`TypeDesc`] of a `CooType` of the same image: follow it
/// with [`TypeLink::get`], which borrows the link.
pub struct TypeLink(pub(in crate::descriptors::layout) fn() -> &'static TypeDesc);

impl TypeLink {
    pub fn get(&self) -> &TypeDesc {
        (self.0)()
    }
}

impl fmt::Debug for TypeLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get().name())
    }
}

/// The structural kind of a field type. Its payloads are opaque: match on `&ShapeKind` and read
/// them through their accessors, which borrow the shape.
#[derive(Debug)]
pub enum ShapeKind {
    Prim(Prim),
    String(StringGlue),
    /// `[T; N]`: `len` elements at a stride of the element's size.
    Array {
        elem: ShapeLink,
        len: usize,
    },
    Vec {
        elem: ShapeLink,
        glue: VecGlue,
    },
    Box {
        elem: ShapeLink,
        glue: BoxGlue,
    },
    Option {
        elem: ShapeLink,
        glue: OptionGlue,
    },
    /// A [`crate::Pool`] of `CooType` values addressed by [`crate::Handle`]s.
    Pool {
        elem: ShapeLink,
        glue: PoolGlue,
    },
    /// A [`crate::Handle`] into a pool of the target type. Plain data: an index and a generation.
    Handle {
        target: TypeLink,
    },
    /// A nested type that derives `CooType`.
    Named(TypeLink),
}

/// A primitive type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prim {
    Bool,
    Char,
    I8,
    I16,
    I32,
    I64,
    I128,
    Isize,
    U8,
    U16,
    U32,
    U64,
    U128,
    Usize,
    F32,
    F64,
}

impl Prim {
    pub fn name(self) -> &'static str {
        match self {
            Prim::Bool => "bool",
            Prim::Char => "char",
            Prim::I8 => "i8",
            Prim::I16 => "i16",
            Prim::I32 => "i32",
            Prim::I64 => "i64",
            Prim::I128 => "i128",
            Prim::Isize => "isize",
            Prim::U8 => "u8",
            Prim::U16 => "u16",
            Prim::U32 => "u32",
            Prim::U64 => "u64",
            Prim::U128 => "u128",
            Prim::Usize => "usize",
            Prim::F32 => "f32",
            Prim::F64 => "f64",
        }
    }

    pub fn size(self) -> usize {
        match self {
            Prim::Bool | Prim::I8 | Prim::U8 => 1,
            Prim::I16 | Prim::U16 => 2,
            Prim::Char | Prim::I32 | Prim::U32 | Prim::F32 => 4,
            Prim::I64 | Prim::U64 | Prim::F64 => 8,
            Prim::I128 | Prim::U128 => 16,
            Prim::Isize | Prim::Usize => core::mem::size_of::<usize>(),
        }
    }

    pub fn is_int(self) -> bool {
        !matches!(self, Prim::Bool | Prim::Char | Prim::F32 | Prim::F64)
    }

    pub fn is_signed(self) -> bool {
        matches!(
            self,
            Prim::I8 | Prim::I16 | Prim::I32 | Prim::I64 | Prim::I128 | Prim::Isize
        )
    }

    pub fn is_float(self) -> bool {
        matches!(self, Prim::F32 | Prim::F64)
    }

    /// Parses a primitive's Rust name.
    pub fn from_name(name: &str) -> Option<Prim> {
        ALL_PRIMS.iter().copied().find(|p| p.name() == name)
    }
}

pub const ALL_PRIMS: [Prim; 16] = [
    Prim::Bool,
    Prim::Char,
    Prim::I8,
    Prim::I16,
    Prim::I32,
    Prim::I64,
    Prim::I128,
    Prim::Isize,
    Prim::U8,
    Prim::U16,
    Prim::U32,
    Prim::U64,
    Prim::U128,
    Prim::Usize,
    Prim::F32,
    Prim::F64,
];

impl fmt::Display for Prim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Renders a shape as Rust-like type text, naming nested `CooType`s by their stable name:
/// `Vec<Option<Box<Enemy>>>`, `[u8; 4]`, `Handle<Enemy>`.
pub fn shape_text(shape: &Shape) -> String {
    let mut out = String::new();
    write_shape(&mut out, shape);
    out
}

fn write_shape(out: &mut String, shape: &Shape) {
    use core::fmt::Write as _;
    match shape.kind() {
        ShapeKind::Prim(p) => out.push_str(p.name()),
        ShapeKind::String(_) => out.push_str("String"),
        ShapeKind::Array { elem, len } => {
            out.push('[');
            write_shape(out, elem.get());
            let _ = write!(out, "; {len}]");
        }
        ShapeKind::Vec { elem, .. } => wrap(out, "Vec", elem.get()),
        ShapeKind::Box { elem, .. } => wrap(out, "Box", elem.get()),
        ShapeKind::Option { elem, .. } => wrap(out, "Option", elem.get()),
        ShapeKind::Pool { elem, .. } => wrap(out, "Pool", elem.get()),
        ShapeKind::Handle { target } => {
            let _ = write!(out, "Handle<{}>", target.get().name());
        }
        ShapeKind::Named(desc) => out.push_str(desc.get().name()),
    }
}

fn wrap(out: &mut String, name: &str, elem: &Shape) {
    out.push_str(name);
    out.push('<');
    write_shape(out, elem);
    out.push('>');
}
