//! Read-only views of values through their descriptors: what a migration hook receives of the
//! old value, and what the host uses to print and inspect state.

use crate::storage::raw::Unaligned;
use core::fmt;

use crate::descriptors::layout::{
    FieldDesc, FieldsStyle, Prim, Shape, ShapeKind, TypeDesc, TypeKind,
};

/// Why a view could not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    #[error("`{ty}` has no field `{field}`{}", known_fields(.known))]
    NoField {
        ty: String,
        field: String,
        known: Vec<String>,
    },
    #[error("`{path}` is a `{found}`, not a `{expected}`")]
    WrongType {
        path: String,
        expected: String,
        found: String,
    },
    /// A `Box<dyn Trait>` object whose concrete type could not be learnt (asking panicked) or
    /// has no `#[coo_impl]` registered in its image.
    #[error("the `dyn {trait_name}` object at `{path}` cannot be read: {reason}")]
    UnknownObject {
        path: String,
        trait_name: String,
        reason: String,
    },
    #[error("`{path}` has {len} elements, index {index} is out of range")]
    OutOfRange {
        path: String,
        index: usize,
        len: usize,
    },
}

fn known_fields(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!("; it has {}", known.join(", "))
    }
}

/// A read-only view of a value of a `CooType`: its fields by name, with typed getters.
///
/// A migration hook receives the old value this way, since the old type's Rust definition is
/// gone from the new code: `old.get::<u32>("hp")?`, `old.str("name")?`, `old.field("pos")?`.
///
/// Inside a field of a `#[repr(packed)]` struct a value may be unaligned: such a view reads its
/// numbers unaligned and calls glue only on aligned copies ([`Unaligned`]), translating the
/// addresses the glue returns back into the value.
#[derive(Clone, Copy)]
pub struct ValueView<'a> {
    desc: &'a TypeDesc,
    ptr: *const u8,
    /// The value lies inside a field of a packed struct, so it may be unaligned.
    unaligned: bool,
    _life: core::marker::PhantomData<&'a ()>,
}

impl fmt::Debug for ValueView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueView")
            .field("type", &self.desc.name())
            .finish_non_exhaustive()
    }
}

impl<'a> ValueView<'a> {
    /// A view of the value at `ptr`.
    ///
    /// # Safety
    /// `ptr` points to a valid value described by `desc` that outlives `'a` and is not mutated
    /// while the view exists.
    pub unsafe fn new(desc: &'a TypeDesc, ptr: *const u8) -> Self {
        ValueView {
            desc,
            ptr,
            unaligned: false,
            _life: core::marker::PhantomData,
        }
    }

    /// The stable name of the value's type.
    pub fn type_name(&self) -> &'a str {
        self.desc.name()
    }

    pub fn desc(&self) -> &'a TypeDesc {
        self.desc
    }

    /// The name of the value's variant, for an enum.
    pub fn variant(&self) -> Option<&'a str> {
        match self.desc.kind() {
            TypeKind::Struct(_) => None,
            TypeKind::Enum(e) => {
                let (index, _) = self.enum_fields();
                Some(e.variants()[index].name())
            }
        }
    }

    fn enum_fields(&self) -> (usize, Vec<*const u8>) {
        let TypeKind::Enum(e) = self.desc.kind() else {
            unreachable!("only called for enums")
        };
        let max = e
            .variants()
            .iter()
            .map(|v| v.fields().len())
            .max()
            .unwrap_or(0);
        let mut addrs = vec![core::ptr::null::<u8>(); max];
        if self.unaligned {
            // SAFETY: the value's bytes are readable (constructor contract).
            let copy = unsafe { Unaligned::read_type(self.desc, self.ptr) };
            // SAFETY: the copy is an aligned valid value of this enum; `addrs` has room for the
            // largest variant.
            let index = unsafe { e.read(copy.as_ptr(), addrs.as_mut_ptr()) };
            for a in &mut addrs {
                *a = copy.translate(*a, self.ptr);
            }
            return (index, addrs);
        }
        // SAFETY: `self.ptr` is a valid value of this enum (constructor contract) and `addrs`
        // has room for the largest variant.
        let index = unsafe { e.read(self.ptr, addrs.as_mut_ptr()) };
        (index, addrs)
    }

    /// The fields of the value (of its current variant, for an enum) with their addresses. The
    /// fields of a packed struct (and everything inside them) may be unaligned: their views
    /// know it ([`FieldView::is_unaligned`]).
    pub fn fields(&self) -> Vec<(&'a FieldDesc, FieldView<'a>)> {
        match self.desc.kind() {
            TypeKind::Struct(s) => {
                let unaligned = self.unaligned || s.packing().is_some();
                s.fields()
                    .iter()
                    .map(|f| {
                        // SAFETY: the offset comes from `offset_of!` on this very type, so the
                        // field lies inside the value.
                        let ptr = unsafe { self.ptr.add(f.offset()) };
                        (f, FieldView::inside(f.shape(), ptr, unaligned))
                    })
                    .collect()
            }
            TypeKind::Enum(e) => {
                let (index, addrs) = self.enum_fields();
                e.variants()[index]
                    .fields()
                    .iter()
                    .zip(addrs)
                    .map(|(f, ptr)| (f, FieldView::inside(f.shape(), ptr, self.unaligned)))
                    .collect()
            }
        }
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Result<FieldView<'a>, ViewError> {
        let fields = self.fields();
        let known = || fields.iter().map(|(f, _)| f.name().to_owned()).collect();
        fields
            .iter()
            .find(|(f, _)| f.name() == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| ViewError::NoField {
                ty: self.desc.name().to_owned(),
                field: name.to_owned(),
                known: known(),
            })
    }

    /// The primitive field `name`, which must have exactly type `T`.
    pub fn get<T: ViewPrim>(&self, name: &str) -> Result<T, ViewError> {
        self.field(name)?.get::<T>()
    }

    /// The `String` field `name`.
    pub fn str(&self, name: &str) -> Result<&'a str, ViewError> {
        self.field(name)?.str()
    }
}

/// A read-only view of one value of any shape (which may be unaligned inside a field of a
/// packed struct, see [`ValueView`]).
#[derive(Clone, Copy)]
pub struct FieldView<'a> {
    shape: &'a Shape,
    ptr: *const u8,
    /// The value lies inside a field of a packed struct, so it may be unaligned.
    unaligned: bool,
    _life: core::marker::PhantomData<&'a ()>,
}

impl fmt::Debug for FieldView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FieldView({})",
            crate::descriptors::layout::shape_text(self.shape)
        )
    }
}

impl<'a> FieldView<'a> {
    fn at(shape: &'a Shape, ptr: *const u8) -> Self {
        FieldView::inside(shape, ptr, false)
    }

    fn inside(shape: &'a Shape, ptr: *const u8, unaligned: bool) -> Self {
        FieldView {
            shape,
            ptr,
            unaligned,
            _life: core::marker::PhantomData,
        }
    }

    /// Whether the value lies inside a field of a `#[repr(packed)]` struct, where it may be
    /// unaligned: [`FieldView::ptr`] must then not be handed to typed code or glue (copy the
    /// value's bytes to aligned memory first; it owns nothing, since the fields of packed
    /// structs have no drop glue).
    pub fn is_unaligned(&self) -> bool {
        self.unaligned
    }

    /// A view of the value at `ptr`.
    ///
    /// # Safety
    /// As for [`ValueView::new`], with a value of `shape`.
    pub unsafe fn new(shape: &'a Shape, ptr: *const u8) -> Self {
        FieldView::at(shape, ptr)
    }

    pub fn shape(&self) -> &'a Shape {
        self.shape
    }

    /// A view of the value at `ptr`, which lies inside a field of a `#[repr(packed)]` struct
    /// (and may be unaligned) when `unaligned` is set.
    ///
    /// # Safety
    /// As for [`FieldView::new`]; when `ptr` is not aligned for `shape`, `unaligned` is set.
    pub unsafe fn new_in(shape: &'a Shape, ptr: *const u8, unaligned: bool) -> Self {
        FieldView::inside(shape, ptr, unaligned)
    }

    /// The value's address; possibly unaligned (see [`FieldView::is_unaligned`]).
    pub fn ptr(&self) -> *const u8 {
        self.ptr
    }

    fn wrong(&self, expected: &str) -> ViewError {
        ViewError::WrongType {
            path: String::new(),
            expected: expected.to_owned(),
            found: crate::descriptors::layout::shape_text(self.shape),
        }
    }

    /// The value as a primitive of exactly type `T`.
    pub fn get<T: ViewPrim>(&self) -> Result<T, ViewError> {
        match self.shape.kind() {
            ShapeKind::Prim(p) if *p == T::PRIM => {
                // SAFETY: the shape says the value is a `T` (same primitive kind); read
                // unaligned, as it may lie in a field of a packed struct.
                Ok(unsafe { self.ptr.cast::<T>().read_unaligned() })
            }
            _ => Err(self.wrong(T::PRIM.name())),
        }
    }

    /// The value of a `#[coo(opaque)]` field as the foreign type `F` (what a migration hook
    /// reads an old opaque field with): only when the field's type name, size and alignment
    /// are `F`'s.
    pub fn opaque<F: 'static>(&self) -> Result<&'a F, ViewError> {
        match self.shape.kind() {
            // No reference to an unaligned value may exist.
            ShapeKind::Opaque(_) if self.unaligned => Err(self.wrong("aligned opaque value")),
            ShapeKind::Opaque(_)
                if self.shape.type_name() == core::any::type_name::<F>()
                    && self.shape.size() == core::mem::size_of::<F>()
                    && self.shape.align() == core::mem::align_of::<F>() =>
            {
                // SAFETY: the value is a valid value of the field's opaque type, which has
                // `F`'s Rust name, size and alignment. That is the rule by which Coo moves an
                // opaque value into a new version bitwise (`descriptors::opaque`: a foreign
                // type that kept its path, size and alignment is taken to be the same type, as
                // the `#[coo(opaque)]` documentation tells the user), so reading it as `F`
                // is what the new version would do with the moved value; the view borrows it
                // for `'a`.
                Ok(unsafe { &*self.ptr.cast::<F>() })
            }
            _ => Err(self.wrong(core::any::type_name::<F>())),
        }
    }

    /// The value as any integer, widened to `i128` (`u128` values above `i128::MAX` fail).
    pub fn int(&self) -> Result<i128, ViewError> {
        match self.shape.kind() {
            ShapeKind::Prim(p) if p.is_int() => {
                // SAFETY: the shape says the value is an integer of kind `p`.
                let v = unsafe { crate::migration::casts::read_int(*p, self.ptr) };
                v.ok_or_else(|| self.wrong("integer that fits i128"))
            }
            _ => Err(self.wrong("integer")),
        }
    }

    /// The value as any number, converted to `f64` (possibly rounding large integers).
    pub fn float(&self) -> Result<f64, ViewError> {
        match self.shape.kind() {
            ShapeKind::Prim(Prim::F32) => {
                // SAFETY: the shape says the value is an `f32`; read unaligned, as it may lie in
                // a field of a packed struct.
                Ok(unsafe { self.ptr.cast::<f32>().read_unaligned() } as f64)
            }
            // SAFETY: the shape says the value is an `f64`; read unaligned, as above.
            ShapeKind::Prim(Prim::F64) => Ok(unsafe { self.ptr.cast::<f64>().read_unaligned() }),
            _ => self
                .int()
                .map(|v| v as f64)
                .map_err(|_| self.wrong("number")),
        }
    }

    /// The value as a string slice.
    pub fn str(&self) -> Result<&'a str, ViewError> {
        match self.shape.kind() {
            ShapeKind::String(glue) => {
                // SAFETY: the value is a valid `String` that outlives `'a`.
                let (ptr, len) = unsafe { glue.as_str(self.ptr) };
                // SAFETY: a `String`'s bytes are valid UTF-8 and live as long as it does.
                Ok(
                    unsafe {
                        core::str::from_utf8_unchecked(core::slice::from_raw_parts(ptr, len))
                    },
                )
            }
            _ => Err(self.wrong("String")),
        }
    }

    /// The value as a nested `CooType`, or the value a `Box` holds.
    pub fn value(&self) -> Result<ValueView<'a>, ViewError> {
        match self.shape.kind() {
            ShapeKind::Named(desc) => Ok(ValueView {
                // The value is a valid value of `desc` that outlives `'a`, unaligned where
                // this view is.
                desc: desc.get(),
                ptr: self.ptr,
                unaligned: self.unaligned,
                _life: core::marker::PhantomData,
            }),
            ShapeKind::Box { glue, elem } => {
                // SAFETY: the value is a valid box.
                let inner = unsafe { glue.get(self.ptr) };
                FieldView::at(elem.get(), inner).value()
            }
            ShapeKind::Dyn(_) => self.object().map(|(_, v)| v),
            _ => Err(self.wrong("struct or enum")),
        }
    }

    /// The object a `Box<dyn Trait>` holds: its concrete type's stable name and its value.
    pub fn object(&self) -> Result<(&'a str, ValueView<'a>), ViewError> {
        let ShapeKind::Dyn(d) = self.shape.kind() else {
            return Err(self.wrong("Box<dyn Trait>"));
        };
        let unknown = |reason: String| ViewError::UnknownObject {
            path: String::new(),
            trait_name: d.trait_name().to_owned(),
            reason,
        };
        // SAFETY: the value is a valid `Box<dyn Trait>` of the shape's image.
        let name = unsafe { d.concrete_name(self.ptr) }
            .map_err(|m| unknown(format!("asking its type panicked: {m}")))?;
        let imp = d.impl_named(name).ok_or_else(|| {
            unknown(format!(
                "its type `{name}` has no `#[coo_impl]` registered in the plugin"
            ))
        })?;
        // SAFETY: the box holds a valid value of its concrete type, which outlives `'a`.
        let inner = unsafe { d.glue().get(self.ptr) };
        // SAFETY: as above.
        Ok((name, unsafe { ValueView::new(imp.ty(), inner) }))
    }

    /// The value a `Box` holds, of any shape (where [`FieldView::value`] only reaches a boxed
    /// `CooType`).
    pub fn unboxed(&self) -> Result<FieldView<'a>, ViewError> {
        match self.shape.kind() {
            ShapeKind::Box { glue, elem } => {
                // SAFETY: the value is a valid box.
                let inner = unsafe { glue.get(self.ptr) };
                Ok(FieldView::at(elem.get(), inner))
            }
            _ => Err(self.wrong("Box")),
        }
    }

    /// The payload of an `Option` (`None` for `None`).
    pub fn option(&self) -> Result<Option<FieldView<'a>>, ViewError> {
        match self.shape.kind() {
            ShapeKind::Option { glue, elem } if self.unaligned => {
                // SAFETY: the value's bytes are readable.
                let copy = unsafe { Unaligned::read(self.shape, self.ptr) };
                // SAFETY: the copy is an aligned valid `Option`; its payload lies inline (an
                // option inside a packed struct owns nothing), so at the same offset here.
                let inner = copy.translate(unsafe { glue.get(copy.as_ptr()) }, self.ptr);
                Ok((!inner.is_null()).then(|| FieldView::inside(elem.get(), inner, true)))
            }
            ShapeKind::Option { glue, elem } => {
                // SAFETY: the value is a valid `Option`.
                let inner = unsafe { glue.get(self.ptr) };
                Ok((!inner.is_null()).then(|| FieldView::at(elem.get(), inner)))
            }
            _ => Err(self.wrong("Option")),
        }
    }

    /// The elements of an array or `Vec`.
    pub fn elements(&self) -> Result<Vec<FieldView<'a>>, ViewError> {
        let (elem, base, len) = match self.shape.kind() {
            ShapeKind::Array { elem, len } => (elem.get(), self.ptr, *len),
            ShapeKind::Vec { elem, glue } => {
                // SAFETY: the value is a valid `Vec`.
                let (ptr, len) = unsafe { glue.parts(self.ptr) };
                (elem.get(), ptr, len)
            }
            _ => return Err(self.wrong("array or Vec")),
        };
        // A `Vec`'s buffer is its own (aligned) allocation; an array lies where its value does.
        let unaligned = self.unaligned && matches!(self.shape.kind(), ShapeKind::Array { .. });
        Ok((0..len)
            // SAFETY: element `i < len` lies at `i * size` from the start of the buffer.
            .map(|i| FieldView::inside(elem, unsafe { base.add(i * elem.size()) }, unaligned))
            .collect())
    }

    /// The elements of a tuple, in order.
    pub fn tuple(&self) -> Result<Vec<FieldView<'a>>, ViewError> {
        match self.shape.kind() {
            ShapeKind::Tuple(elems) => Ok(elems
                .get()
                .iter()
                // SAFETY: each element lies at its offset in the valid tuple.
                .map(|e| {
                    FieldView::inside(
                        e.shape(),
                        // SAFETY: as above.
                        unsafe { self.ptr.add(e.offset()) },
                        self.unaligned,
                    )
                })
                .collect()),
            _ => Err(self.wrong("tuple")),
        }
    }

    /// The entries of a `VecDeque`, map or set in iteration order: the element (or key) and,
    /// for a map, the value.
    pub fn entries(&self) -> Result<Vec<(FieldView<'a>, Option<FieldView<'a>>)>, ViewError> {
        match self.shape.kind() {
            ShapeKind::Coll {
                key, value, glue, ..
            } => {
                let mut addrs = Vec::new();
                // SAFETY: the value is a valid collection, unchanged while the view lives.
                unsafe { crate::migration::execute::push_entries(glue, self.ptr, &mut addrs) };
                Ok(addrs
                    .chunks(2)
                    .map(|e| {
                        (
                            FieldView::at(key.get(), e[0]),
                            value.as_ref().map(|v| FieldView::at(v.get(), e[1])),
                        )
                    })
                    .collect())
            }
            _ => Err(self.wrong("VecDeque, map or set")),
        }
    }

    /// The occupied slots of a `Pool` as `(index, generation, value)`.
    pub fn pool_entries(&self) -> Result<Vec<(u32, u32, FieldView<'a>)>, ViewError> {
        match self.shape.kind() {
            ShapeKind::Pool { elem, glue } => {
                // SAFETY: the value is a valid pool.
                let n = unsafe { glue.slot_count(self.ptr) };
                Ok((0..n)
                    .filter_map(|i| {
                        // SAFETY: `i < slot_count`.
                        let (generation, ptr) = unsafe { glue.slot(self.ptr, i) };
                        (!ptr.is_null())
                            .then(|| (i as u32, generation, FieldView::at(elem.get(), ptr)))
                    })
                    .collect())
            }
            _ => Err(self.wrong("Pool")),
        }
    }

    /// The raw parts `(index, generation)` of a `Handle`.
    pub fn handle(&self) -> Result<(u32, u32), ViewError> {
        match self.shape.kind() {
            ShapeKind::Handle { .. } => {
                // SAFETY: a handle is `repr(C)` `{ index: u32, generation: u32 }`.
                let parts = unsafe { self.ptr.cast::<[u32; 2]>().read() };
                Ok((parts[0], parts[1]))
            }
            _ => Err(self.wrong("Handle")),
        }
    }
}

/// Primitives readable with [`ValueView::get`] / [`FieldView::get`].
pub trait ViewPrim: Copy + sealed::Sealed {
    const PRIM: Prim;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! view_prims {
    ($($t:ty => $p:ident),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl ViewPrim for $t { const PRIM: Prim = Prim::$p; }
    )*};
}

view_prims! {
    bool => Bool, char => Char,
    i8 => I8, i16 => I16, i32 => I32, i64 => I64, i128 => I128, isize => Isize,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64, u128 => U128, usize => Usize,
    f32 => F32, f64 => F64,
}

/// The fields style of a type or the variant a value is in, for printers.
pub fn style_of(value: &ValueView<'_>) -> FieldsStyle {
    match value.desc.kind() {
        TypeKind::Struct(s) => s.style(),
        TypeKind::Enum(e) => {
            let (index, _) = value.enum_fields();
            e.variants()[index].style()
        }
    }
}
