//! Layout descriptors.
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
//! [`crate::descriptors::collections`]. The shapes are in [`shape`], the glue in [`glue`].
//!
//! Descriptors refer to other descriptors through function pointers (`fn() -> &'static Shape`)
//! rather than references, so recursive types (`struct Node { kids: Vec<Node> }`) do not form
//! constant-evaluation cycles.
//!
//! # The rule: nothing read from a descriptor outlives the borrow of the descriptor
//!
//! A descriptor lives in the image of the build that defined it, and a plugin's image is
//! unloaded once nothing refers into it (see [`crate::plugin::image`]). So every field of every
//! descriptor type here is private, and every accessor is bounded by `&self`:
//! [`TypeDesc::name`] is a `&str` that lives as long as the `&TypeDesc` it was read from,
//! [`FieldDesc::shape`] a `&Shape` of the same lifetime, and a container's descriptor
//! ([`crate::Catalog::get`], [`crate::Resource::desc`], …) is borrowed from the container that
//! holds the image's guard. No descriptor holding image pointers is `Copy` or `Clone`. Glue
//! (function pointers into the image) is called through `unsafe fn` methods on `&self`, whose
//! contract is the pointer's own: the image is alive because the caller holds `&self`. Copy what
//! must live longer ([`crate::Schema`], `to_owned()`), or keep the container's guard.
//!
//! Descriptors are built only by the code `#[derive(CooType)]` and `#[hot_fn]` generate, through
//! the `const fn` constructors of `coo_runtime::__private`. Inside this crate, code that must keep
//! a descriptor as `&'static` (a container next to its guard) says at that place which guard
//! keeps the image alive.

use core::fmt;

pub mod glue;
pub mod objects;
pub mod shape;

pub(crate) mod construct;

use crate::descriptors::generics::GenericArgs;
pub use crate::descriptors::layout::glue::{
    BoxGlue, CollGlue, DynGlue, EntryFn, EntryFnMut, EntryFnOwned, HookFn, ImplFn, ImplGlue,
    OptionGlue, PoolGlue, StringGlue, SwitchGlue, TypeGlue, VecGlue, WriteFn,
};
pub use crate::descriptors::layout::objects::{DynDesc, ImplDesc, SwitchDesc, SwitchError};
pub use crate::descriptors::layout::shape::{
    ALL_PRIMS, CollKind, Prim, Shape, ShapeKind, ShapeLink, TupleElem, TupleElems, TypeLink,
    shape_text,
};
pub use crate::descriptors::std_fields::drop_glue;
use crate::plugin::ForeignString;

/// The descriptor of a type that derives `CooType`.
#[derive(Debug)]
pub struct TypeDesc {
    /// Stable identity across versions (`#[coo(name = "...")]`, default: the type's ident).
    name: &'static str,
    /// The Rust path of the type in the crate that defined it, for messages.
    rust_name: &'static str,
    /// Earlier names of this type (`#[coo(rename_from = "...")]`).
    rename_from: &'static [&'static str],
    size: usize,
    align: usize,
    /// `core::mem::needs_drop` of the type.
    needs_drop: bool,
    kind: TypeKind,
    /// The glue of the build that defined the type.
    glue: &'static TypeGlue,
    /// A generic type's instantiation: its name and type arguments (`None` for a type without
    /// type parameters).
    generic: Option<GenericArgs>,
}

impl TypeDesc {
    /// Stable identity across versions (`#[coo(name = "...")]`, default: the type's ident); for
    /// an instantiation of a generic type, with its type arguments: `Pair<u32>`
    /// ([`crate::descriptors::generics`]).
    pub fn name(&self) -> &str {
        match &self.generic {
            Some(generic) => generic.name(),
            None => self.name,
        }
    }

    /// The type's stable name without type arguments: `Pair` for `Pair<u32>` (what
    /// `rename_from` names refer to); the same as [`TypeDesc::name`] for a non-generic type.
    pub const fn base_name(&self) -> &str {
        self.name
    }

    /// The instantiation's type arguments, for an instantiation of a generic type.
    pub const fn generic_args(&self) -> Option<&GenericArgs> {
        self.generic.as_ref()
    }

    /// The Rust path of the type in the crate that defined it, for messages.
    pub const fn rust_name(&self) -> &str {
        self.rust_name
    }

    /// Earlier names of this type (`#[coo(rename_from = "...")]`).
    pub const fn rename_from(&self) -> &[&str] {
        self.rename_from
    }

    pub const fn size(&self) -> usize {
        self.size
    }

    pub const fn align(&self) -> usize {
        self.align
    }

    /// `core::mem::needs_drop` of the type.
    pub const fn needs_drop(&self) -> bool {
        self.needs_drop
    }

    /// A struct's fields or an enum's variants.
    pub const fn kind(&self) -> &TypeKind {
        &self.kind
    }

    /// The glue of the build that defined the type.
    pub const fn glue(&self) -> &TypeGlue {
        self.glue
    }

    /// A struct's `#[repr(packed(N))]` ([`StructDesc::packing`]); `None` for a struct that is
    /// not packed and for an enum (rustc refuses `packed` on enums).
    pub const fn packing(&self) -> Option<usize> {
        match &self.kind {
            TypeKind::Struct(s) => s.packing,
            TypeKind::Enum(_) => None,
        }
    }

    /// The fields of a struct, or `None` for an enum.
    pub fn struct_fields(&self) -> Option<&[FieldDesc]> {
        match &self.kind {
            TypeKind::Struct(s) => Some(s.fields()),
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

/// A struct's fields.
#[derive(Debug)]
pub struct StructDesc {
    style: FieldsStyle,
    fields: &'static [FieldDesc],
    /// `#[repr(packed(N))]`: `Some(N)` (`Some(1)` for `packed`), `None` when not packed.
    packing: Option<usize>,
}

impl StructDesc {
    pub const fn style(&self) -> FieldsStyle {
        self.style
    }

    /// The struct's `#[repr(packed(N))]`: `Some(N)` (`Some(1)` for `#[repr(packed)]`), `None`
    /// when it is not packed.
    ///
    /// A packed struct's fields may lie at addresses their types' alignment does not divide, so
    /// no code may make a reference to one or hand its address to typed glue. The rule Coo
    /// keeps: a packed struct's fields have no drop glue (the derive checks it), and every field
    /// of a packed struct is read and written as bytes, through an aligned temporary
    /// ([`crate::storage::raw::Unaligned`]) whenever typed code (glue, conversions, defaults,
    /// views) is to see it.
    pub const fn packing(&self) -> Option<usize> {
        self.packing
    }

    pub const fn fields(&self) -> &[FieldDesc] {
        self.fields
    }
}

/// One field of a struct or of an enum variant.
#[derive(Debug)]
pub struct FieldDesc {
    /// The field's name (`"0"`, `"1"`, … for tuple fields).
    name: &'static str,
    offset: usize,
    shape: ShapeLink,
    /// Earlier names of the field (`#[coo(rename_from = "...")]`).
    rename_from: &'static [&'static str],
    /// `#[coo(default = EXPR)]`, the value for a field that is new in this version.
    default: Option<WriteFn>,
    /// When `EXPR` is a literal and the field a primitive (`#[coo(default = 1.0)] mass: f32`):
    /// the bytes the writer writes, computed by the compiler from the same constant, so that a
    /// migration can fill many values without calling into the image for each.
    default_bytes: Option<&'static [u8]>,
}

impl FieldDesc {
    /// The offset of an enum variant's field.
    pub const NO_OFFSET: usize = usize::MAX;

    /// The field's name (`"0"`, `"1"`, … for tuple fields).
    pub const fn name(&self) -> &str {
        self.name
    }

    /// Byte offset in the struct (`core::mem::offset_of!`). Enum variant fields have no fixed
    /// offset: they hold [`FieldDesc::NO_OFFSET`] and are reached through [`EnumDesc::read`].
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The shape of the field's type.
    pub fn shape(&self) -> &Shape {
        self.shape.get()
    }

    /// Earlier names of the field (`#[coo(rename_from = "...")]`).
    pub const fn rename_from(&self) -> &[&str] {
        self.rename_from
    }

    /// Whether the field has `#[coo(default = EXPR)]`.
    pub const fn has_default(&self) -> bool {
        self.default.is_some()
    }

    /// Writes the field's `#[coo(default = EXPR)]` to `dst` (`None` when it has none); a panic
    /// in `EXPR` is caught in the field's library and returned as `Err`.
    ///
    /// # Safety
    /// [`WriteFn`]'s contract: `dst` is valid for writes of the field's type and suitably
    /// aligned. (The code is mapped: it lives in the image of `self`, which the caller borrows.)
    pub unsafe fn write_default(&self, dst: *mut u8) -> Option<Result<(), ForeignString>> {
        // SAFETY: the caller's contract.
        self.default.map(|write| unsafe { write(dst) })
    }

    /// The raw writer, for the crate's plans, which keep it next to the guard of its image.
    pub(crate) fn default_writer(&self) -> Option<WriteFn> {
        self.default
    }

    /// The bytes of a literal `#[coo(default = ...)]` of a primitive field (see the field),
    /// borrowed from the descriptor.
    pub(crate) fn default_bytes(&self) -> Option<&[u8]> {
        self.default_bytes
    }
}

/// An enum: its representation, its variants and the glue to take a value apart and put one
/// together.
#[derive(Debug)]
pub struct EnumDesc {
    repr: EnumRepr,
    variants: &'static [VariantDesc],
    read: unsafe fn(value: *const u8, fields_out: *mut *const u8) -> usize,
    read_mut: unsafe fn(value: *mut u8, fields_out: *mut *mut u8) -> usize,
    write: unsafe fn(dst: *mut u8, variant: usize, fields_in: *const *mut u8),
}

impl EnumDesc {
    /// The enum's `#[repr(...)]`. Where the tag lies and where variant fields lie depend on it,
    /// even when size and alignment do not change, so two versions whose `repr`s differ never
    /// share values byte for byte.
    pub const fn repr(&self) -> EnumRepr {
        self.repr
    }

    pub const fn variants(&self) -> &[VariantDesc] {
        self.variants
    }

    /// Returns the index of the value's variant and writes the address of each of its fields, in
    /// declaration order, to `fields_out` (which has room for the largest variant).
    ///
    /// # Safety
    /// `value` points to a valid value of this enum and `fields_out` to room for as many
    /// pointers as the largest variant has fields.
    pub unsafe fn read(&self, value: *const u8, fields_out: *mut *const u8) -> usize {
        // SAFETY: the caller's contract; the code lives in the image of `self`.
        unsafe { (self.read)(value, fields_out) }
    }

    /// As [`EnumDesc::read`], with addresses through which the fields may be written or dropped
    /// (`value` is borrowed mutably for as long as they are used).
    ///
    /// # Safety
    /// As for [`EnumDesc::read`], and nothing else refers to the value meanwhile.
    pub unsafe fn read_mut(&self, value: *mut u8, fields_out: *mut *mut u8) -> usize {
        // SAFETY: the caller's contract; the code lives in the image of `self`.
        unsafe { (self.read_mut)(value, fields_out) }
    }

    /// Writes variant `variant` to `dst`, moving each of its fields out of the addresses in
    /// `fields_in` (which stay allocated but must no longer be dropped).
    ///
    /// # Safety
    /// `dst` is valid for writes of this enum, `variant` is in range, and `fields_in` holds one
    /// pointer per field of that variant, each to a valid value of the field's type that the
    /// caller gives up.
    pub unsafe fn write(&self, dst: *mut u8, variant: usize, fields_in: *const *mut u8) {
        // SAFETY: the caller's contract; the code lives in the image of `self`.
        unsafe { (self.write)(dst, variant, fields_in) }
    }
}

/// One variant of an enum.
#[derive(Debug)]
pub struct VariantDesc {
    name: &'static str,
    discriminant: i128,
    style: FieldsStyle,
    fields: &'static [FieldDesc],
    rename_from: &'static [&'static str],
}

impl VariantDesc {
    pub const fn name(&self) -> &str {
        self.name
    }

    /// The variant's discriminant, as rustc assigns it: the explicit `= EXPR` evaluated at
    /// compile time, else the previous variant's plus one (the first one's is 0). Held as an
    /// `i128` whatever the `repr`: a `u128` discriminant above `i128::MAX` wraps to a negative
    /// number, which keeps equality exact since the `repr`s are compared too. For an enum
    /// with fields and no primitive `repr` this is the logical discriminant; where its tag is
    /// stored (or whether a niche holds it) is rustc's choice and not recorded.
    pub const fn discriminant(&self) -> i128 {
        self.discriminant
    }

    pub const fn style(&self) -> FieldsStyle {
        self.style
    }

    pub const fn fields(&self) -> &[FieldDesc] {
        self.fields
    }

    pub const fn rename_from(&self) -> &[&str] {
        self.rename_from
    }
}

/// The `#[repr(...)]` of an enum, as written (several `repr` attributes combine).
/// rustc refuses `#[repr(packed)]` on enums (a struct's packing is [`StructDesc::packing`]).
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
