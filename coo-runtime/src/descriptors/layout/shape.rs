//! The structure of a field type ([`Shape`], [`ShapeKind`]), the links from one descriptor to
//! another ([`ShapeLink`], [`TypeLink`]), a tuple's elements ([`TupleElems`], [`TupleElem`]),
//! the standard collections' kinds ([`CollKind`]), the primitive types ([`Prim`]), and
//! [`shape_text`].
//!
//! What a shape holds lives in the image that defined it; every accessor borrows the shape (see
//! [`crate::descriptors::layout`]).

use core::fmt;

use crate::descriptors::layout::TypeDesc;
use crate::descriptors::layout::glue::{
    BoxGlue, CollGlue, OptionGlue, PoolGlue, StringGlue, VecGlue,
};
use crate::descriptors::layout::objects::DynDesc;
use crate::descriptors::opaque::OpaqueGlue;

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
    /// A tuple `(A, B, …)` of up to 12 elements, each at its offset.
    Tuple(TupleElems),
    /// A `VecDeque`, `HashMap`, `HashSet`, `BTreeMap` or `BTreeSet` (std hashers): its entries are
    /// read in iteration order and a new collection is built by inserting them one by one.
    Coll {
        kind: CollKind,
        /// The element of a `VecDeque` or a set, the key of a map.
        key: ShapeLink,
        /// The value of a map (`None` for a `VecDeque` or a set).
        value: Option<ShapeLink>,
        glue: CollGlue,
    },
    /// A foreign type marked `#[coo(opaque)]`: known by its Rust type name
    /// ([`Shape::type_name`]), size and alignment only; moved bitwise while all three are
    /// unchanged ([`crate::descriptors::opaque`]).
    Opaque(OpaqueGlue),
    /// A `Box<dyn Trait>` of a trait marked `#[coo_trait]`: the object's concrete type is
    /// learnt at run time (an impl marked `#[coo_impl]` in the same image).
    Dyn(DynDesc),
}

/// The elements of a tuple ([`ShapeKind::Tuple`]), in order: read them with
/// [`TupleElems::get`], which borrows the shape.
pub struct TupleElems(pub(in crate::descriptors::layout) &'static [TupleElem]);

impl TupleElems {
    pub fn get(&self) -> &[TupleElem] {
        self.0
    }
}

impl fmt::Debug for TupleElems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.get()).finish()
    }
}

/// One element of a tuple: its offset (`core::mem::offset_of!`) and its shape.
#[derive(Debug)]
pub struct TupleElem {
    pub(in crate::descriptors::layout) offset: usize,
    pub(in crate::descriptors::layout) shape: ShapeLink,
}

impl TupleElem {
    /// The element's offset in the tuple.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The element's shape.
    pub fn shape(&self) -> &Shape {
        self.shape.get()
    }
}

/// Which standard collection a [`ShapeKind::Coll`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollKind {
    VecDeque,
    HashMap,
    HashSet,
    BTreeMap,
    BTreeSet,
}

impl CollKind {
    /// The collection's Rust name: `HashMap`.
    pub fn name(self) -> &'static str {
        match self {
            CollKind::VecDeque => "VecDeque",
            CollKind::HashMap => "HashMap",
            CollKind::HashSet => "HashSet",
            CollKind::BTreeMap => "BTreeMap",
            CollKind::BTreeSet => "BTreeSet",
        }
    }

    /// Whether entries are keys with values.
    pub fn is_map(self) -> bool {
        matches!(self, CollKind::HashMap | CollKind::BTreeMap)
    }

    /// Whether two entries with equal keys cannot both be in the collection (maps and sets).
    pub fn is_keyed(self) -> bool {
        !matches!(self, CollKind::VecDeque)
    }

    /// Whether the collection keeps its entries in an order of its own that migration keeps
    /// (a `VecDeque`'s order, a B-tree's key order); a hash collection's order is arbitrary.
    pub fn is_ordered(self) -> bool {
        !matches!(self, CollKind::HashMap | CollKind::HashSet)
    }

    /// Whether a collection of kind `self` can be rebuilt as one of kind `other`: the same kind,
    /// or a map into a map and a set into a set (hash and B-tree alike).
    pub fn converts_to(self, other: CollKind) -> bool {
        self == other
            || (self.is_map() && other.is_map())
            || (self.is_keyed() && !self.is_map() && other.is_keyed() && !other.is_map())
    }
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
        ShapeKind::Dyn(d) => {
            let _ = write!(out, "Box<dyn {}>", d.trait_name());
        }
        ShapeKind::Tuple(elems) => {
            let elems = elems.get();
            out.push('(');
            for (i, e) in elems.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_shape(out, e.shape());
            }
            if elems.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        ShapeKind::Coll {
            kind, key, value, ..
        } => {
            out.push_str(kind.name());
            out.push('<');
            write_shape(out, key.get());
            if let Some(value) = value {
                out.push_str(", ");
                write_shape(out, value.get());
            }
            out.push('>');
        }
        ShapeKind::Opaque(_) => out.push_str(shape.type_name()),
    }
}

fn wrap(out: &mut String, name: &str, elem: &Shape) {
    out.push_str(name);
    out.push('<');
    write_shape(out, elem);
    out.push('>');
}
