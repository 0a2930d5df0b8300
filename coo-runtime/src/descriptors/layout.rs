//! Static layout descriptors.
//!
//! `#[derive(CooType)]` emits one [`TypeDesc`] per type: its stable name, size, alignment, every
//! field with its offset and [`Shape`], and the glue that migration needs. Every field type
//! implements [`CooField`], whose [`Shape`] describes it structurally (a primitive, a `String`, a
//! container around another shape, a handle, or a nested `CooType`) and carries the glue
//! functions of the build that instantiated it. Migration reads and builds values only through
//! that glue, so a value is always moved, built and dropped by code of the library version that
//! owns it.
//!
//! The `CooField` impls of the standard types (primitives, `String`, arrays, `Vec`, `Box`,
//! `Option`) and their glue are in [`crate::descriptors::std_fields`]; those of tuples and of
//! the standard collections (`VecDeque`, `HashMap`, `HashSet`, `BTreeMap`, `BTreeSet`) in
//! [`crate::descriptors::collections`].
//!
//! Descriptors refer to other descriptors through function pointers (`fn() -> &'static Shape`)
//! rather than references, so recursive types (`struct Node { kids: Vec<Node> }`) do not form
//! constant-evaluation cycles.

use core::fmt;

use crate::plugin::ForeignString;

pub use crate::descriptors::collections::{CollGlue, CollKind, EntryFn, EntryFnMut, TupleElem};
pub use crate::descriptors::std_fields::drop_glue;

/// The descriptor of a type that derives `CooType`.
#[derive(Debug)]
pub struct TypeDesc {
    /// Stable identity across versions (`#[coo(name = "...")]`, default: the type's ident).
    pub name: &'static str,
    /// The Rust path of the type in the crate that defined it, for messages.
    pub rust_name: &'static str,
    /// Earlier names of this type (`#[coo(rename_from = "...")]`).
    pub rename_from: &'static [&'static str],
    pub size: usize,
    pub align: usize,
    /// `core::mem::needs_drop` of the type.
    pub needs_drop: bool,
    pub kind: TypeKind,
    /// The glue of the build that defined the type.
    pub glue: &'static TypeGlue,
}

/// Glue functions of a `CooType`, compiled into the library that defined it.
pub struct TypeGlue {
    /// Drops the value at the pointer in place.
    pub drop: unsafe fn(*mut u8),
    /// The type's `Default` impl, if it has one, as a writer into uninitialized memory. (A
    /// function, because whether a type implements `Default` is found out by autoref probing,
    /// which constant evaluation cannot do.)
    pub default: fn() -> Option<WriteFn>,
    /// The migration hook `#[coo(migrate = f)]`, if any.
    pub hook: Option<HookFn>,
}

impl fmt::Debug for TypeGlue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypeGlue")
            .field("default", &(self.default)().is_some())
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

/// Writes a fresh value into uninitialized, suitably aligned memory. Runs user code (a
/// `#[coo(default = ...)]` expression or a `Default` impl); a panic in it is caught inside the
/// library that owns the code and returned as `Err(message)`, with nothing written. The message
/// is a [`ForeignString`]: memory of the library, which the caller copies and lets it free.
pub type WriteFn = unsafe fn(dst: *mut u8) -> Result<(), ForeignString>;

/// A migration hook: receives a read-only view of the old value and the new value, already built
/// by the automatic mapping. A panic is caught in the owning library and returned as `Err`, as
/// is the hook's own error (rendered there); the message is a [`ForeignString`], as for
/// [`WriteFn`].
pub type HookFn =
    unsafe fn(old: &crate::storage::view::ValueView<'_>, new: *mut u8) -> Result<(), ForeignString>;

/// What kind of type a [`TypeDesc`] describes.
#[derive(Debug)]
pub enum TypeKind {
    Struct(StructDesc),
    Enum(EnumDesc),
}

/// How a struct or enum variant spells its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldsStyle {
    /// `{ a: T }`
    Named,
    /// `(T, U)`; fields are named `0`, `1`, …
    Tuple,
    /// No fields.
    Unit,
}

#[derive(Debug)]
pub struct StructDesc {
    pub style: FieldsStyle,
    pub fields: &'static [FieldDesc],
}

/// One field of a struct or of an enum variant.
#[derive(Debug)]
pub struct FieldDesc {
    /// The field's name (`"0"`, `"1"`, … for tuple fields).
    pub name: &'static str,
    /// Byte offset in the struct (`core::mem::offset_of!`). Enum variant fields have no fixed
    /// offset: they hold [`FieldDesc::NO_OFFSET`] and are reached through [`EnumDesc::read`].
    pub offset: usize,
    pub shape: fn() -> &'static Shape,
    /// Earlier names of the field (`#[coo(rename_from = "...")]`).
    pub rename_from: &'static [&'static str],
    /// `#[coo(default = EXPR)]`, the value for a field that is new in this version.
    pub default: Option<WriteFn>,
}

impl FieldDesc {
    /// The offset of an enum variant's field.
    pub const NO_OFFSET: usize = usize::MAX;
}

/// An enum: its representation, its variants and the glue to take a value apart and put one
/// together.
#[derive(Debug)]
pub struct EnumDesc {
    /// The enum's `#[repr(...)]`. Where the tag lies and where variant fields lie depend on it,
    /// even when size and alignment do not change, so two versions whose `repr`s differ never
    /// share values byte for byte.
    pub repr: EnumRepr,
    pub variants: &'static [VariantDesc],
    /// Returns the index of the value's variant and writes the address of each of its fields, in
    /// declaration order, to `fields_out` (which has room for the largest variant).
    pub read: unsafe fn(value: *const u8, fields_out: *mut *const u8) -> usize,
    /// As `read`, with addresses through which the fields may be written or dropped (`value`
    /// is borrowed mutably for as long as they are used).
    pub read_mut: unsafe fn(value: *mut u8, fields_out: *mut *mut u8) -> usize,
    /// Writes variant `variant` to `dst`, moving each of its fields out of the addresses in
    /// `fields_in` (which stay allocated but must no longer be dropped).
    pub write: unsafe fn(dst: *mut u8, variant: usize, fields_in: *const *mut u8),
}

#[derive(Debug)]
pub struct VariantDesc {
    pub name: &'static str,
    /// The variant's discriminant, as rustc assigns it: the explicit `= EXPR` evaluated at
    /// compile time, else the previous variant's plus one (the first one's is 0). Held as an
    /// `i128` whatever the `repr`: a `u128` discriminant above `i128::MAX` wraps to a negative
    /// number, which keeps equality exact since the `repr`s are compared too. For an enum
    /// with fields and no primitive `repr` this is the logical discriminant; where its tag is
    /// stored (or whether a niche holds it) is rustc's choice and not recorded.
    pub discriminant: i128,
    pub style: FieldsStyle,
    pub fields: &'static [FieldDesc],
    pub rename_from: &'static [&'static str],
}

/// The `#[repr(...)]` of an enum, as written (several `repr` attributes combine).
/// `#[repr(packed)]` is refused by the derive, and rustc refuses it on enums anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnumRepr {
    /// `C`.
    pub c: bool,
    /// `transparent` (an enum with one variant).
    pub transparent: bool,
    /// The integer type of the discriminant: `u8`, `i32`, … (alone or with `C`).
    pub int: Option<Prim>,
    /// `align(N)`.
    pub align: Option<usize>,
}

impl EnumRepr {
    /// No `repr` attribute: rustc's own representation.
    pub const RUST: EnumRepr = EnumRepr {
        c: false,
        transparent: false,
        int: None,
        align: None,
    };
}

impl fmt::Display for EnumRepr {
    /// `#[repr(C, u8, align(4))]`, or `#[repr(Rust)]` without a `repr` attribute.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if self.c {
            parts.push("C".to_owned());
        }
        if self.transparent {
            parts.push("transparent".to_owned());
        }
        if let Some(int) = self.int {
            parts.push(int.name().to_owned());
        }
        if parts.is_empty() {
            parts.push("Rust".to_owned());
        }
        if let Some(align) = self.align {
            parts.push(format!("align({align})"));
        }
        write!(f, "#[repr({})]", parts.join(", "))
    }
}

/// The structure of a field type, with the glue to read, build and drop it.
pub struct Shape {
    pub size: usize,
    pub align: usize,
    pub needs_drop: bool,
    /// Drops a value of this shape in place.
    pub drop: unsafe fn(*mut u8),
    /// The Rust name of the type, for messages.
    pub type_name: fn() -> &'static str,
    pub kind: ShapeKind,
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str((self.type_name)())
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

/// The structural kind of a field type.
#[derive(Debug)]
pub enum ShapeKind {
    Prim(Prim),
    String(&'static StringGlue),
    /// `[T; N]`: `len` elements at a stride of the element's size.
    Array {
        elem: fn() -> &'static Shape,
        len: usize,
    },
    Vec {
        elem: fn() -> &'static Shape,
        glue: &'static VecGlue,
    },
    Box {
        elem: fn() -> &'static Shape,
        glue: &'static BoxGlue,
    },
    Option {
        elem: fn() -> &'static Shape,
        glue: &'static OptionGlue,
    },
    /// A [`crate::Pool`] of `CooType` values addressed by [`crate::Handle`]s.
    Pool {
        elem: fn() -> &'static Shape,
        glue: &'static PoolGlue,
    },
    /// A [`crate::Handle`] into a pool of the target type. Plain data: an index and a generation.
    Handle {
        target: fn() -> &'static TypeDesc,
    },
    /// A nested type that derives `CooType`.
    Named(fn() -> &'static TypeDesc),
    /// A tuple `(A, B, …)` of up to 12 elements, each at its offset.
    Tuple(&'static [TupleElem]),
    /// A `VecDeque`, `HashMap`, `HashSet`, `BTreeMap` or `BTreeSet` (std hashers): its entries are
    /// read in iteration order and a new collection is built by inserting them one by one.
    Coll {
        kind: CollKind,
        /// The element of a `VecDeque` or a set, the key of a map.
        key: fn() -> &'static Shape,
        /// The value of a map (`None` for a `VecDeque` or a set).
        value: Option<fn() -> &'static Shape>,
        glue: &'static CollGlue,
    },
}

/// Glue of `String`.
#[derive(Debug)]
pub struct StringGlue {
    /// The string's bytes (valid UTF-8).
    pub as_str: unsafe fn(*const u8) -> (*const u8, usize),
    /// Writes a new `String` holding a copy of the UTF-8 bytes `ptr[..len]` to `dst`.
    pub write_from: unsafe fn(dst: *mut u8, ptr: *const u8, len: usize),
}

/// Glue of `Vec<T>`.
#[derive(Debug)]
pub struct VecGlue {
    /// Length and element pointer of the vector.
    pub parts: unsafe fn(*const u8) -> (*const u8, usize),
    /// As `parts`, with an element pointer through which elements may be written or dropped.
    pub parts_mut: unsafe fn(*mut u8) -> (*mut u8, usize),
    /// Writes an empty vector with room for `cap` elements to `dst` and returns its buffer.
    pub write_with_capacity: unsafe fn(dst: *mut u8, cap: usize) -> *mut u8,
    /// Sets the length of the vector at `dst` (elements up to it must be initialized).
    pub set_len: unsafe fn(dst: *mut u8, len: usize),
}

/// Glue of `Box<T>`.
#[derive(Debug)]
pub struct BoxGlue {
    /// The address of the boxed value.
    pub get: unsafe fn(*const u8) -> *const u8,
    /// The address of the boxed value, for writing or dropping it.
    pub get_mut: unsafe fn(*mut u8) -> *mut u8,
    /// Writes a new box to `dst`, moving the value out of `src`.
    pub write_from: unsafe fn(dst: *mut u8, src: *mut u8),
    /// Frees the box's allocation without dropping the value in it (which was moved out).
    pub free: unsafe fn(*mut u8),
}

/// Glue of `Option<T>`.
#[derive(Debug)]
pub struct OptionGlue {
    /// The address of the payload, or null for `None`.
    pub get: unsafe fn(*const u8) -> *const u8,
    /// The address of the payload for writing or dropping it, or null for `None`.
    pub get_mut: unsafe fn(*mut u8) -> *mut u8,
    pub write_none: unsafe fn(dst: *mut u8),
    /// Writes `Some` to `dst`, moving the payload out of `src`.
    pub write_some: unsafe fn(dst: *mut u8, src: *mut u8),
}

/// Glue of [`crate::Pool<T>`].
#[derive(Debug)]
pub struct PoolGlue {
    /// Number of slots, occupied or not.
    pub slot_count: unsafe fn(*const u8) -> usize,
    /// Generation of slot `i` and the address of its value (null when the slot is vacant).
    pub slot: unsafe fn(*const u8, i: usize) -> (u32, *const u8),
    /// As `slot`, with an address through which the value may be written or dropped.
    pub slot_mut: unsafe fn(*mut u8, i: usize) -> (u32, *mut u8),
    /// Writes a pool of `n` vacant slots to `dst`.
    pub write_vacant: unsafe fn(dst: *mut u8, n: usize),
    /// Sets slot `i` of the pool at `dst` to `generation`, moving the value out of `src` when it
    /// is not null (the slot stays vacant otherwise). Call once per slot, in order.
    pub set_slot: unsafe fn(dst: *mut u8, i: usize, generation: u32, src: *mut u8),
    /// Frees the pool's storage without dropping its values (which were moved out).
    pub free: unsafe fn(*mut u8),
}

/// A type that can be a field of a `CooType`.
///
/// # Safety
/// `SHAPE` must describe `Self` exactly: its size, alignment and `needs_drop`, and glue that
/// reads, builds and drops values of `Self` as documented on each glue type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field of a `CooType`",
    label = "`{Self}` does not implement `CooField`",
    note = "fields can be `bool`, `char`, integers, `f32`, `f64`, `String`, `[T; N]`, `Vec<T>`, `Box<T>`, `Option<T>`, tuples of up to 12, `VecDeque<T>`, `HashMap<K, V>`, `HashSet<T>`, `BTreeMap<K, V>`, `BTreeSet<T>`, `Pool<T>`, `Handle<T>`, or a type with `#[derive(CooType)]`"
)]
pub unsafe trait CooField: Sized + 'static {
    const SHAPE: &'static Shape;

    /// [`Self::SHAPE`], as a function pointer for descriptors.
    fn shape() -> &'static Shape {
        Self::SHAPE
    }
}

/// A type with a layout descriptor: what `#[derive(CooType)]` implements.
///
/// # Safety
/// `DESC` must describe `Self` exactly (see [`TypeDesc`]); derive it rather than implement it.
pub unsafe trait CooType: CooField {
    const DESC: &'static TypeDesc;

    /// [`Self::DESC`], as a function pointer for descriptors.
    fn desc() -> &'static TypeDesc {
        Self::DESC
    }
}

impl Shape {
    /// The descriptor of the nested `CooType`, if this shape is one.
    pub fn named(&self) -> Option<&TypeDesc> {
        match self.kind {
            ShapeKind::Named(desc) => Some(desc()),
            _ => None,
        }
    }
}

impl TypeDesc {
    /// The fields of a struct, or `None` for an enum.
    pub fn struct_fields(&self) -> Option<&[FieldDesc]> {
        match &self.kind {
            TypeKind::Struct(s) => Some(s.fields),
            TypeKind::Enum(_) => None,
        }
    }

    /// Whether this type continues the type `name` of an earlier version: it is its name or
    /// one of its earlier names ([`crate::descriptors::matching`]).
    pub fn answers_to(&self, name: &str) -> bool {
        let this: &TypeDesc = self;
        matches!(
            crate::descriptors::matching::successor(
                crate::descriptors::matching::ItemKind::Type,
                name,
                &[this]
            ),
            Ok(Some(0))
        )
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
    match &shape.kind {
        ShapeKind::Prim(p) => out.push_str(p.name()),
        ShapeKind::String(_) => out.push_str("String"),
        ShapeKind::Array { elem, len } => {
            out.push('[');
            write_shape(out, elem());
            let _ = write!(out, "; {len}]");
        }
        ShapeKind::Vec { elem, .. } => wrap(out, "Vec", elem()),
        ShapeKind::Box { elem, .. } => wrap(out, "Box", elem()),
        ShapeKind::Option { elem, .. } => wrap(out, "Option", elem()),
        ShapeKind::Pool { elem, .. } => wrap(out, "Pool", elem()),
        ShapeKind::Handle { target } => {
            let _ = write!(out, "Handle<{}>", target().name);
        }
        ShapeKind::Named(desc) => out.push_str(desc().name),
        ShapeKind::Tuple(elems) => {
            out.push('(');
            for (i, e) in elems.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_shape(out, (e.shape)());
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
            write_shape(out, key());
            if let Some(value) = value {
                out.push_str(", ");
                write_shape(out, value());
            }
            out.push('>');
        }
    }
}

fn wrap(out: &mut String, name: &str, elem: &Shape) {
    out.push_str(name);
    out.push('<');
    write_shape(out, elem);
    out.push('>');
}
