//! What crosses a hot function's boundary by value ([`HotValue`]): primitives, `String`
//! (copied in, handed out as a [`ForeignString`]) and `CooType` values.

use crate::plugin::{ForeignString, Prim, StrRef, ValueKind};

/// Types a hot function can take or return by value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross a hot function boundary by value",
    label = "a hot function cannot take or return a `{Self}`",
    note = "hot functions take and return primitives, `String`, `&str`, `&T`/`&mut T` of a `CooType` (the live resource), and `CooType` values; they take the host's objects by reference, as `#[host] x: &T`",
    note = "add `#[derive(CooType)]` to a type of your own; put an `Option`, a `Vec` or another container in a field of a `#[derive(CooType)]` struct and pass that struct"
)]
pub trait HotValue: Sized {
    const KIND: ValueKind;

    /// Takes a by-value argument out of its slot (what [`ValueKind`] says the slot holds).
    ///
    /// # Safety
    /// `slot` points to what an argument slot of [`Self::KIND`] holds; a value there is given up
    /// by the caller (not dropped or used by it again).
    #[doc(hidden)]
    unsafe fn take_arg(slot: *mut u8) -> Self {
        // SAFETY: the caller's contract: a valid `Self` that the caller gives up.
        unsafe { slot.cast::<Self>().read() }
    }

    /// Writes a return value to its slot (what [`ValueKind`] says the slot receives).
    ///
    /// # Safety
    /// `ret` is valid for writes of what a return slot of [`Self::KIND`] receives.
    #[doc(hidden)]
    unsafe fn put_ret(self, ret: *mut u8) {
        // SAFETY: the caller's contract: room for a `Self`.
        unsafe { ret.cast::<Self>().write(self) }
    }
}

impl HotValue for () {
    const KIND: ValueKind = ValueKind::Unit;
}

impl HotValue for String {
    const KIND: ValueKind = ValueKind::String;

    /// Copies the caller's bytes into a `String` of this image: the caller keeps (and frees)
    /// its own.
    unsafe fn take_arg(slot: *mut u8) -> String {
        // SAFETY: the caller's contract: a `StrRef` to UTF-8 that stays readable meanwhile.
        let s = unsafe { slot.cast::<StrRef>().read() };
        // SAFETY: as above.
        let bytes = unsafe { core::slice::from_raw_parts(s.ptr, s.len) };
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// Hands the string over as a [`ForeignString`], freed by this image.
    unsafe fn put_ret(self, ret: *mut u8) {
        // SAFETY: the caller's contract: room for a `ForeignString`.
        unsafe { ret.cast::<ForeignString>().write(ForeignString::new(self)) }
    }
}

macro_rules! hot_prims {
    ($($t:ty => $p:ident),* $(,)?) => {$(
        impl HotValue for $t { const KIND: ValueKind = ValueKind::Prim(Prim::$p); }
    )*};
}

hot_prims! {
    bool => Bool, char => Char,
    i8 => I8, i16 => I16, i32 => I32, i64 => I64, i128 => I128, isize => Isize,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64, u128 => U128, usize => Usize,
    f32 => F32, f64 => F64,
}

/// Not recommended in errors: for another type, the error is that it is no `HotValue`, not
/// that it should implement `CooType` (which `Option<u32>`, say, never can).
#[diagnostic::do_not_recommend]
impl<T: crate::descriptors::layout::CooType> HotValue for T {
    const KIND: ValueKind =
        ValueKind::Value(crate::descriptors::layout::construct::type_link(T::desc));
}
