//! [`CooField`] for the standard types a field can have: primitives, `String`, `[T; N]`,
//! `Vec<T>`, `Box<T>` and `Option<T>`, each with the glue functions its [`Shape`] carries, and
//! [`drop_glue`], the drop glue of any type. (`Pool` and `Handle` implement `CooField` beside
//! their definitions, in [`crate::storage::pool`].)

use crate::descriptors::layout::construct::{
    box_glue, option_glue, shape, shape_link, string_glue, vec_glue,
};
use crate::descriptors::layout::{CooField, Prim, Shape, ShapeKind};

/// Drop glue of any `T`. Instantiated in the library that owns `T` and called from the host's
/// frames, so a panic in a `Drop` impl is caught here, inside that library: the value then counts
/// as dropped (never dropped again; what it did not free is leaked) and the panic is reported
/// through [`crate::plugin::panics`].
///
/// # Safety
/// `p` points to a valid, suitably aligned `T` that is not used again.
pub unsafe fn drop_glue<T>(p: *mut u8) {
    if !core::mem::needs_drop::<T>() {
        return;
    }
    // SAFETY: the caller hands over a valid `T` at `p` and never uses it again; `catch_glue`
    // calls the closure once, so the value is dropped once; if the drop panics, the unwinding
    // drop glue finishes dropping the rest of the value, and nothing drops it again.
    let mut drop = || unsafe { core::ptr::drop_in_place(p.cast::<T>()) };
    let dropped = crate::__private::catch_glue(&mut drop);
    if let Err(message) = dropped {
        crate::plugin::panics::drop_panicked(core::any::type_name::<T>(), &message);
    }
}

fn type_name_of<T>() -> &'static str {
    core::any::type_name::<T>()
}

macro_rules! prim_fields {
    ($($t:ty => $p:ident),* $(,)?) => {$(
        // SAFETY: primitives are plain data; size, alignment and drop glue are the type's own.
        unsafe impl CooField for $t {
            const SHAPE: &'static Shape = &shape(
            core::mem::size_of::<$t>(),
            core::mem::align_of::<$t>(),
            false,
            drop_glue::<$t>,
            type_name_of::<$t>,
            ShapeKind::Prim(Prim::$p),
            );
        }
    )*};
}

prim_fields! {
    bool => Bool, char => Char,
    i8 => I8, i16 => I16, i32 => I32, i64 => I64, i128 => I128, isize => Isize,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64, u128 => U128, usize => Usize,
    f32 => F32, f64 => F64,
}

unsafe fn string_as_str(p: *const u8) -> (*const u8, usize) {
    // SAFETY: the caller passes a valid `String`.
    let s = unsafe { &*p.cast::<String>() };
    (s.as_ptr(), s.len())
}

unsafe fn string_write_from(dst: *mut u8, ptr: *const u8, len: usize) {
    // SAFETY: the caller passes `len` readable bytes of valid UTF-8 at `ptr`.
    let s = unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(ptr, len)) };
    // SAFETY: `dst` is valid for writes of a `String` and suitably aligned (caller's contract).
    unsafe { dst.cast::<String>().write(String::from(s)) }
}

// SAFETY: the glue below reads and writes `String`s exactly as documented on `StringGlue`.
unsafe impl CooField for String {
    const SHAPE: &'static Shape = &shape(
        core::mem::size_of::<String>(),
        core::mem::align_of::<String>(),
        true,
        drop_glue::<String>,
        type_name_of::<String>,
        ShapeKind::String(string_glue(string_as_str, string_write_from)),
    );
}

// SAFETY: arrays are `N` elements at a stride of `size_of::<T>()`, which `Array` describes.
unsafe impl<T: CooField, const N: usize> CooField for [T; N] {
    const SHAPE: &'static Shape = &shape(
        core::mem::size_of::<[T; N]>(),
        core::mem::align_of::<[T; N]>(),
        core::mem::needs_drop::<[T; N]>(),
        drop_glue::<[T; N]>,
        type_name_of::<[T; N]>,
        ShapeKind::Array {
            elem: shape_link(T::shape),
            len: N,
        },
    );
}

unsafe fn vec_parts<T>(p: *const u8) -> (*const u8, usize) {
    // SAFETY: the caller passes a valid `Vec<T>`.
    let v = unsafe { &*p.cast::<Vec<T>>() };
    (v.as_ptr().cast(), v.len())
}

unsafe fn vec_parts_mut<T>(p: *mut u8) -> (*mut u8, usize) {
    // SAFETY: the caller passes a valid `Vec<T>` that nothing else references.
    let v = unsafe { &mut *p.cast::<Vec<T>>() };
    (v.as_mut_ptr().cast(), v.len())
}

unsafe fn vec_write_with_capacity<T>(dst: *mut u8, cap: usize) -> *mut u8 {
    let mut v = Vec::<T>::with_capacity(cap);
    let buf = v.as_mut_ptr().cast();
    // SAFETY: `dst` is valid for writes of a `Vec<T>` (caller's contract); moving the vector
    // does not move its heap buffer, so `buf` stays valid.
    unsafe { dst.cast::<Vec<T>>().write(v) };
    buf
}

unsafe fn vec_set_len<T>(dst: *mut u8, len: usize) {
    // SAFETY: the caller guarantees `len <= capacity` and that the first `len` elements are
    // initialized.
    unsafe { (*dst.cast::<Vec<T>>()).set_len(len) }
}

unsafe fn vec_capacity<T>(p: *const u8) -> usize {
    // SAFETY: the caller passes a valid `Vec<T>`.
    unsafe { (*p.cast::<Vec<T>>()).capacity() }
}

unsafe fn vec_realloc<T>(buf: *mut u8, old_bytes: usize, new_bytes: usize) -> *mut u8 {
    let align = core::mem::align_of::<T>();
    // SAFETY: the caller passes a block of `old_bytes` (non-zero) bytes with `T`'s alignment,
    // made by the global allocator this image's `std::alloc` calls (every image shares one: the
    // loader refuses plugins with their own); `new_bytes` is non-zero, and a size a `Vec<T>`
    // buffer already had or will have, so it does not overflow `isize` once rounded up.
    let new = unsafe {
        std::alloc::realloc(
            buf,
            std::alloc::Layout::from_size_align_unchecked(old_bytes, align),
            new_bytes,
        )
    };
    if new.is_null() {
        // SAFETY: `align` is `T`'s alignment, a power of two, and `new_bytes` fits (see above).
        let layout = unsafe { std::alloc::Layout::from_size_align_unchecked(new_bytes, align) };
        std::alloc::handle_alloc_error(layout);
    }
    new
}

unsafe fn vec_write_raw<T>(dst: *mut u8, buf: *mut u8, len: usize) {
    // SAFETY: the caller passes a block of `len * size_of::<T>()` bytes with `T`'s alignment
    // from the global allocator holding `len` valid elements, which the vector takes over, and
    // `dst` valid for writes of a `Vec<T>`.
    unsafe {
        dst.cast::<Vec<T>>()
            .write(Vec::from_raw_parts(buf.cast::<T>(), len, len))
    }
}

// SAFETY: the glue reads and builds `Vec<T>` as documented on `VecGlue`.
unsafe impl<T: CooField> CooField for Vec<T> {
    const SHAPE: &'static Shape = &shape(
        core::mem::size_of::<Vec<T>>(),
        core::mem::align_of::<Vec<T>>(),
        true,
        drop_glue::<Vec<T>>,
        type_name_of::<Vec<T>>,
        ShapeKind::Vec {
            elem: shape_link(T::shape),
            glue: vec_glue(
                vec_parts::<T>,
                vec_parts_mut::<T>,
                vec_write_with_capacity::<T>,
                vec_set_len::<T>,
                vec_capacity::<T>,
                vec_realloc::<T>,
                vec_write_raw::<T>,
            ),
        },
    );
}

unsafe fn box_get<T>(p: *const u8) -> *const u8 {
    // SAFETY: the caller passes a valid `Box<T>`.
    let b = unsafe { &*p.cast::<Box<T>>() };
    (&**b as *const T).cast()
}

unsafe fn box_get_mut<T>(p: *mut u8) -> *mut u8 {
    // SAFETY: the caller passes a valid `Box<T>` that nothing else references.
    let b = unsafe { &mut *p.cast::<Box<T>>() };
    (&mut **b as *mut T).cast()
}

unsafe fn box_free<T>(p: *mut u8) {
    // SAFETY: the caller passes a valid `Box<T>` whose value was moved out and is not used
    // again; `ManuallyDrop<T>` has `T`'s layout, so the allocation is freed with the right layout
    // and the value is not dropped.
    unsafe {
        drop(Box::from_raw(
            p.cast::<Box<T>>().read().cast_manually_drop(),
        ))
    }
}

trait CastManuallyDrop<T> {
    fn cast_manually_drop(self) -> *mut core::mem::ManuallyDrop<T>;
}

impl<T> CastManuallyDrop<T> for Box<T> {
    fn cast_manually_drop(self) -> *mut core::mem::ManuallyDrop<T> {
        Box::into_raw(self).cast()
    }
}

unsafe fn box_write_from<T>(dst: *mut u8, src: *mut u8) {
    // SAFETY: the caller passes a valid `T` at `src` that it will not drop again, and `dst`
    // valid for writes of a `Box<T>`.
    unsafe { dst.cast::<Box<T>>().write(Box::new(src.cast::<T>().read())) }
}

// SAFETY: the glue reads and builds `Box<T>` as documented on `BoxGlue`.
unsafe impl<T: CooField> CooField for Box<T> {
    const SHAPE: &'static Shape = &shape(
        core::mem::size_of::<Box<T>>(),
        core::mem::align_of::<Box<T>>(),
        true,
        drop_glue::<Box<T>>,
        type_name_of::<Box<T>>,
        ShapeKind::Box {
            elem: shape_link(T::shape),
            glue: box_glue(
                box_get::<T>,
                box_get_mut::<T>,
                box_write_from::<T>,
                box_free::<T>,
            ),
        },
    );
}

unsafe fn option_get<T>(p: *const u8) -> *const u8 {
    // SAFETY: the caller passes a valid `Option<T>`.
    match unsafe { &*p.cast::<Option<T>>() } {
        Some(v) => (v as *const T).cast(),
        None => core::ptr::null(),
    }
}

unsafe fn option_get_mut<T>(p: *mut u8) -> *mut u8 {
    // SAFETY: the caller passes a valid `Option<T>` that nothing else references.
    match unsafe { &mut *p.cast::<Option<T>>() } {
        Some(v) => (v as *mut T).cast(),
        None => core::ptr::null_mut(),
    }
}

unsafe fn option_write_none<T>(dst: *mut u8) {
    // SAFETY: `dst` is valid for writes of an `Option<T>` (caller's contract).
    unsafe { dst.cast::<Option<T>>().write(None) }
}

unsafe fn option_write_some<T>(dst: *mut u8, src: *mut u8) {
    // SAFETY: the caller passes a valid `T` at `src` that it will not drop again, and `dst`
    // valid for writes of an `Option<T>`.
    unsafe { dst.cast::<Option<T>>().write(Some(src.cast::<T>().read())) }
}

// SAFETY: the glue reads and builds `Option<T>` as documented on `OptionGlue`.
unsafe impl<T: CooField> CooField for Option<T> {
    const SHAPE: &'static Shape = &shape(
        core::mem::size_of::<Option<T>>(),
        core::mem::align_of::<Option<T>>(),
        core::mem::needs_drop::<Option<T>>(),
        drop_glue::<Option<T>>,
        type_name_of::<Option<T>>,
        ShapeKind::Option {
            elem: shape_link(T::shape),
            glue: option_glue(
                option_get::<T>,
                option_get_mut::<T>,
                option_write_none::<T>,
                option_write_some::<T>,
            ),
        },
    );
}
