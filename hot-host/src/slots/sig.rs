//! The Rust function types a typed handle ([`super::HotFn`]) is resolved with ([`HotSig`]:
//! `fn(u64, u64) -> u64`), the values they pass and return ([`TypedValue`]), and how a call of
//! such a type reaches a function's raising entry ([`HotSig::call_raising`]) or direct entry
//! ([`HotSig::call_direct`]).

use std::sync::atomic::AtomicPtr;

use coo_runtime::plugin::{ErasedFn, ForeignString, HotValue, ValueKind};

#[cfg(doc)]
use super::HotFn;

/// The most parameters (resources included) a function called through a [`HotFn`] may have.
pub const MAX_PARAMS: usize = 8;

pub(super) mod sealed {
    pub trait Sealed {}
}

/// What a [`HotFn`] passes and returns: the primitives (and `()` for returns), which cross as
/// they are.
#[diagnostic::on_unimplemented(
    message = "a typed handle cannot pass or return a `{Self}`",
    label = "not a primitive",
    note = "a typed handle passes and returns primitives (and `()`), and passes host objects as `&T` or `&mut T`; do not write resource parameters (the plugin's `CooType`s): the call binds them itself",
    note = "strings and `CooType` values go through `Host::call`"
)]
pub trait TypedValue: Copy + Send + Sync + 'static + sealed::Sealed {
    #[doc(hidden)]
    const KIND: ValueKind;
}

macro_rules! typed_values {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl TypedValue for $t {
            const KIND: ValueKind = <$t as HotValue>::KIND;
        }
    )*};
}

typed_values!(
    (),
    bool,
    char,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    f32,
    f64
);

/// A Rust function type a [`HotFn`] can be resolved with: `fn(A, ..) -> R` with up to six
/// [`TypedValue`] parameters and a [`TypedValue`] return, or up to four parameters of which some
/// are host objects, `&T` / `&mut T` of a [`coo_runtime::plugin::HostObject`] (the impls are in
/// `host_objects.rs`): `fn(&mut Canvas)`, `fn(&(dyn Shape + 'static), u32) -> u64`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a function type a typed handle can call",
    label = "a typed handle cannot be resolved with this type",
    note = "a typed handle's type is `fn(A, ..) -> R` with up to six primitive parameters (or up to four, some of them host objects `&T`/`&mut T`) and a primitive or `()` return: write only the arguments the caller passes (resources are bound by the call)",
    note = "strings and `CooType` values go through `Host::call`"
)]
pub trait HotSig: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The arguments of a call, as a tuple: `(u64, u64)`, `(u64,)`, `()`, `(&'a mut Canvas,)`.
    type Args<'a>;
    /// What a call returns.
    type Ret: TypedValue;

    /// The kinds of the parameters, in order.
    #[doc(hidden)]
    fn params() -> Vec<ValueKind>;

    /// Calls a direct entry of this type (see [`ErasedFn`]): the value it returned, or `None`
    /// when it panicked (the message then written to `panic`).
    ///
    /// # Safety
    /// `entry` is the direct entry of a function whose value parameters and return are `Self`'s
    /// and whose code stays mapped during the call; `ErasedFn`'s contract for the rest.
    #[doc(hidden)]
    unsafe fn call_direct(
        entry: ErasedFn,
        resources: *const AtomicPtr<u8>,
        args: Self::Args<'_>,
        panic: *mut ForeignString,
    ) -> Option<Self::Ret>;

    /// Calls a raising entry of this type (see [`ErasedFn`] and
    /// [`coo_runtime::plugin::raise`]): the value it returned. When the function panicked, the
    /// call unwinds with a [`coo_runtime::plugin::raise::PluginPanic`] of the host's `std`.
    ///
    /// # Safety
    /// `entry` is the raising entry of a function whose value parameters and return are
    /// `Self`'s, whose code stays mapped during the call and whose image has this host's raise
    /// hook installed, or [`HotSig::buried_entry`]; `ErasedFn`'s contract for the rest.
    #[doc(hidden)]
    unsafe fn call_raising(
        entry: ErasedFn,
        resources: *const AtomicPtr<u8>,
        args: Self::Args<'_>,
    ) -> Self::Ret;

    /// A function of the host with the raising entry's type of this signature, which unwinds
    /// with `Buried` without reading its arguments: what a buried slot's raising
    /// entry becomes.
    #[doc(hidden)]
    fn buried_entry() -> ErasedFn;

    /// The type as text: `fn(u64, u32) -> u64`.
    fn text() -> String {
        let params: Vec<String> = Self::params().iter().map(ValueKind::text).collect();
        match <Self::Ret as TypedValue>::KIND {
            ValueKind::Unit => format!("fn({})", params.join(", ")),
            ret => format!("fn({}) -> {}", params.join(", "), ret.text()),
        }
    }
}

macro_rules! hot_sigs {
    ($(($($a:ident),*)),*) => {$(
        // See `host_objects.rs` for the reference signatures these do not overlap with.
        #[allow(coherence_leak_check)]
        impl<$($a: TypedValue,)* R: TypedValue> sealed::Sealed for fn($($a),*) -> R {}
        #[allow(coherence_leak_check)]
        impl<$($a: TypedValue,)* R: TypedValue> HotSig for fn($($a),*) -> R {
            type Args<'a> = ($($a,)*);
            type Ret = R;

            fn params() -> Vec<ValueKind> {
                vec![$(<$a as TypedValue>::KIND),*]
            }

            #[inline(always)]
            #[allow(non_snake_case)]
            unsafe fn call_direct(
                entry: ErasedFn,
                resources: *const AtomicPtr<u8>,
                args: Self::Args<'_>,
                panic: *mut ForeignString,
            ) -> Option<R> {
                // SAFETY: the caller's contract: `entry` has this very type, erased.
                let entry = unsafe {
                    core::mem::transmute::<
                        ErasedFn,
                        unsafe fn(*const AtomicPtr<u8>, $($a,)* *mut ForeignString) -> Option<R>,
                    >(entry)
                };
                let ($($a,)*) = args;
                // SAFETY: the caller's contract.
                unsafe { entry(resources, $($a,)* panic) }
            }

            #[inline(always)]
            #[allow(non_snake_case)]
            unsafe fn call_raising(
                entry: ErasedFn,
                resources: *const AtomicPtr<u8>,
                args: Self::Args<'_>,
            ) -> R {
                // SAFETY: the caller's contract: `entry` has this very type, erased.
                let entry = unsafe {
                    core::mem::transmute::<
                        ErasedFn,
                        unsafe fn(*const AtomicPtr<u8>, $($a,)*) -> R,
                    >(entry)
                };
                let ($($a,)*) = args;
                // SAFETY: the caller's contract.
                unsafe { entry(resources, $($a,)*) }
            }

            fn buried_entry() -> ErasedFn {
                #[allow(non_snake_case)]
                unsafe fn buried<$($a,)* R>(_: *const AtomicPtr<u8>, $(_: $a,)*) -> R {
                    std::panic::resume_unwind(Box::new(super::Buried))
                }
                // SAFETY: only the type is erased: `call_raising` transmutes it back to this
                // very type.
                unsafe {
                    core::mem::transmute::<
                        unsafe fn(*const AtomicPtr<u8>, $($a,)*) -> R,
                        ErasedFn,
                    >(buried::<$($a,)* R>)
                }
            }
        }
    )*};
}

hot_sigs!(
    (),
    (A1),
    (A1, A2),
    (A1, A2, A3),
    (A1, A2, A3, A4),
    (A1, A2, A3, A4, A5),
    (A1, A2, A3, A4, A5, A6)
);
