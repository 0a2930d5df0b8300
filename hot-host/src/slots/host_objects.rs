//! Host objects: parameters a hot function marks `#[host]` (`#[host] canvas: &mut Canvas`,
//! `#[host] shape: &dyn Shape`), which the caller passes through a typed handle as the reference
//! it holds. What this file holds:
//! - the [`HotSig`] impls of the function types with reference parameters
//!   (`fn(&mut Canvas)`, `fn(&Canvas, u32) -> u64`, which are higher-ranked:
//!   `for<'a> fn(&'a mut Canvas)`), beside `sig.rs`'s value-only ones;
//! - the identity check at resolve ([`mismatch`]): the plugin's [`HostType`] of each such
//!   parameter (name, size, align; trait name for trait objects) must be the caller's;
//! - the check at reload ([`changed_host_types`]): a new build whose host object type has
//!   another layout than the running one's is refused, naming the type, because the host
//!   binary keeps its own definition.

use std::fmt;
use std::sync::atomic::AtomicPtr;

use coo_runtime::plugin::{
    ErasedFn, FnDesc, ForeignString, HostObject, HostType, HostTypeLink, ParamDesc, ValueKind,
};

use super::sig::{HotSig, TypedValue, sealed};
use super::{CallErrorKind, FnRef};

/// Why a typed handle cannot be resolved because of a host object parameter: the first
/// parameter whose type the plugin names differently, or lays out differently, than the
/// caller's `F`. `params` are the plugin's parameters that the caller passes (not resources),
/// `expected` the caller's kinds, in order.
pub(crate) fn mismatch(params: &[&ParamDesc], expected: &[ValueKind]) -> Option<CallErrorKind> {
    if params.len() != expected.len() {
        return None;
    }
    params
        .iter()
        .zip(expected)
        .find_map(|(param, expected)| match (param.kind(), expected) {
            (
                ValueKind::Host {
                    ty: found,
                    mutable: m,
                },
                ValueKind::Host {
                    ty: wanted,
                    mutable: n,
                },
            ) if m == n && found.get() != wanted.get() => Some(CallErrorKind::HostType {
                param: param.name().to_owned(),
                expected: wanted.get().to_string(),
                found: found.get().to_string(),
            }),
            _ => None,
        })
}

/// Why a reload is refused: the new build sees a host object type with another identity than
/// the running build did (the crate that defines it changed, and the host binary still has
/// the old definition).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the host object type {old} is now {new} in the plugin (parameter `{param}` of `{function}`): it is defined in a crate that the host was built with, and the running host still has the old definition; nothing was changed. Undo the change, or stop the host and start it again, rebuilt with the new definition"
)]
pub struct HostTypeChanged {
    /// The hot function of the new build that takes it.
    pub function: String,
    pub param: String,
    /// The type as the running build sees it.
    pub old: HostTypeText,
    /// The type as the new build sees it.
    pub new: HostTypeText,
}

/// A [`HostType`] copied out of the image that described it. An error outlives the images it
/// speaks of: the new build of a refused reload is closed before the error reaches the caller,
/// and a plugin's type name is text in that plugin's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTypeText {
    name: String,
    layout: Option<(usize, usize)>,
}

impl HostTypeText {
    /// A copy of `ty`.
    pub fn of(ty: &HostType) -> HostTypeText {
        HostTypeText {
            name: ty.name().to_owned(),
            layout: ty.layout(),
        }
    }

    /// The type's name: `shared::Canvas`, `dyn shared::Shape`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `(size, align)` of a sized type; `None` for a trait object.
    pub fn layout(&self) -> Option<(usize, usize)> {
        self.layout
    }
}

impl PartialEq<HostType<'_>> for HostTypeText {
    fn eq(&self, other: &HostType<'_>) -> bool {
        self.name == other.name() && self.layout == other.layout()
    }
}

impl fmt::Display for HostTypeText {
    /// As [`HostType`]'s: `` `shared::Canvas` (24 bytes, align 8) ``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.layout {
            Some((size, align)) => write!(f, "`{}` ({size} bytes, align {align})", self.name),
            None => write!(f, "`{}` (a trait object)", self.name),
        }
    }
}

/// Checks that every host object type of `new` that the running functions `old` also take has
/// the same identity in both (by name: a renamed or another type is a signature change, which
/// the slots handle).
pub(crate) fn changed_host_types(
    old: &[(String, FnRef)],
    new: &[&FnDesc],
) -> Result<(), Box<HostTypeChanged>> {
    fn host_types(f: &FnDesc) -> Vec<(&str, HostType<'_>)> {
        f.params()
            .iter()
            .filter_map(|p| match p.kind() {
                ValueKind::Host { ty, .. } => Some((p.name(), ty.get())),
                _ => None,
            })
            .collect()
    }
    let running: Vec<HostType> = old
        .iter()
        .flat_map(|(_, f)| host_types(f))
        .map(|(_, ty)| ty)
        .collect();
    for f in new {
        for (param, ty) in host_types(f) {
            if let Some(old) = running
                .iter()
                .find(|old| old.name() == ty.name() && **old != ty)
            {
                return Err(Box::new(HostTypeChanged {
                    function: f.path(),
                    param: param.to_owned(),
                    old: HostTypeText::of(old),
                    new: HostTypeText::of(&ty),
                }));
            }
        }
    }
    Ok(())
}

/// `impl HotSig` for one function type with at least one reference parameter, built parameter
/// by parameter: `V A` a value (`A: TypedValue`), `R 'a T` a `&'a T` and `M 'a T` a
/// `&'a mut T` host object (`T: HostObject`, sized or `dyn Trait`).
macro_rules! host_sig {
    // All parameters read: the impl.
    (@impl [$($l:lifetime)*] [$($g:tt)*] [$($f:ty,)*] [$($a:ty,)*] [$($k:expr,)*] [$($n:ident)*];) => {
        // Coherence sees `fn(A)` (`sig.rs`) and `for<'a> fn(&'a T)` as overlapping but for
        // the leak check (rust-lang/rust#56105); they are distinct types, and `A: TypedValue`
        // is never a reference.
        #[allow(coherence_leak_check)]
        impl<$($g)* R: TypedValue> sealed::Sealed for for<$($l),*> fn($($f),*) -> R {}
        #[allow(coherence_leak_check)]
        impl<$($g)* R: TypedValue> HotSig for for<$($l),*> fn($($f),*) -> R {
            type Args<'x> = ($($a,)*);
            type Ret = R;

            fn params() -> Vec<ValueKind> {
                vec![$($k),*]
            }

            #[inline(always)]
            #[allow(non_snake_case)]
            unsafe fn call_direct<'x>(
                entry: ErasedFn,
                resources: *const AtomicPtr<u8>,
                args: Self::Args<'x>,
                panic: *mut ForeignString,
            ) -> Option<R> {
                // SAFETY: the caller's contract: `entry` has this very type, erased. A host
                // object parameter is the reference itself (thin, or fat for a trait object),
                // whatever its lifetime, to a type of the identity `params` gave at resolve
                // (name, size, align; the trait's name), which `mismatch` and the kinds'
                // equality checked against the plugin's, and which a reload cannot change
                // under a live slot (a changed kind buries it).
                let entry = unsafe {
                    core::mem::transmute::<
                        ErasedFn,
                        unsafe fn(*const AtomicPtr<u8>, $($a,)* *mut ForeignString) -> Option<R>,
                    >(entry)
                };
                let ($($n,)*) = args;
                // SAFETY: the caller's contract.
                unsafe { entry(resources, $($n,)* panic) }
            }

            #[inline(always)]
            #[allow(non_snake_case)]
            unsafe fn call_raising<'x>(
                entry: ErasedFn,
                resources: *const AtomicPtr<u8>,
                args: Self::Args<'x>,
            ) -> R {
                // SAFETY: as in `call_direct`, for the raising entry's type.
                let entry = unsafe {
                    core::mem::transmute::<
                        ErasedFn,
                        unsafe fn(*const AtomicPtr<u8>, $($a,)*) -> R,
                    >(entry)
                };
                let ($($n,)*) = args;
                // SAFETY: the caller's contract.
                unsafe { entry(resources, $($n,)*) }
            }

            fn buried_entry() -> ErasedFn {
                #[allow(non_snake_case)]
                unsafe fn buried<$($l,)* $($g)* R: TypedValue>(
                    _: *const AtomicPtr<u8>,
                    $(_: $f,)*
                ) -> R {
                    std::panic::resume_unwind(Box::new(super::Buried))
                }
                // SAFETY: only the type is erased: `call_raising` transmutes it back to this
                // very type (the references' lifetimes aside, which do not change a call).
                unsafe {
                    core::mem::transmute::<
                        for<$($l),*> unsafe fn(*const AtomicPtr<u8>, $($f,)*) -> R,
                        ErasedFn,
                    >(buried::<$($n,)* R>)
                }
            }
        }
    };
    (@impl [$($l:lifetime)*] [$($g:tt)*] [$($f:ty,)*] [$($a:ty,)*] [$($k:expr,)*] [$($n:ident)*];
        V $t:ident $(, $($rest:tt)*)?) => {
        host_sig!(@impl [$($l)*] [$($g)* $t: TypedValue,] [$($f,)* $t,] [$($a,)* $t,]
            [$($k,)* <$t as TypedValue>::KIND,] [$($n)* $t]; $($($rest)*)?);
    };
    (@impl [$($l:lifetime)*] [$($g:tt)*] [$($f:ty,)*] [$($a:ty,)*] [$($k:expr,)*] [$($n:ident)*];
        R $lt:lifetime $t:ident $(, $($rest:tt)*)?) => {
        host_sig!(@impl [$($l)* $lt] [$($g)* $t: ?Sized + HostObject,] [$($f,)* &$lt $t,]
            [$($a,)* &'x $t,]
            [$($k,)* ValueKind::Host { ty: HostTypeLink::new(<$t as HostObject>::host_type), mutable: false },]
            [$($n)* $t]; $($($rest)*)?);
    };
    (@impl [$($l:lifetime)*] [$($g:tt)*] [$($f:ty,)*] [$($a:ty,)*] [$($k:expr,)*] [$($n:ident)*];
        M $lt:lifetime $t:ident $(, $($rest:tt)*)?) => {
        host_sig!(@impl [$($l)* $lt] [$($g)* $t: ?Sized + HostObject,] [$($f,)* &$lt mut $t,]
            [$($a,)* &'x mut $t,]
            [$($k,)* ValueKind::Host { ty: HostTypeLink::new(<$t as HostObject>::host_type), mutable: true },]
            [$($n)* $t]; $($($rest)*)?);
    };
    ($(($($p:tt)*))*) => {
        $(host_sig!(@impl [] [] [] [] [] []; $($p)*);)*
    };
}

// Every mix of values and host objects (`&T`, `&mut T`) with up to four parameters, at least one
// a host object (`sig.rs` has the value-only ones).
host_sig! {
    (R 'a A) (M 'a A)
    (V A, R 'b B) (V A, M 'b B) (R 'a A, V B) (R 'a A, R 'b B) (R 'a A, M 'b B) (M 'a A, V B)
    (M 'a A, R 'b B) (M 'a A, M 'b B)
    (V A, V B, R 'c C) (V A, V B, M 'c C) (V A, R 'b B, V C) (V A, R 'b B, R 'c C)
    (V A, R 'b B, M 'c C) (V A, M 'b B, V C) (V A, M 'b B, R 'c C) (V A, M 'b B, M 'c C)
    (R 'a A, V B, V C) (R 'a A, V B, R 'c C) (R 'a A, V B, M 'c C) (R 'a A, R 'b B, V C)
    (R 'a A, R 'b B, R 'c C) (R 'a A, R 'b B, M 'c C) (R 'a A, M 'b B, V C)
    (R 'a A, M 'b B, R 'c C) (R 'a A, M 'b B, M 'c C) (M 'a A, V B, V C) (M 'a A, V B, R 'c C)
    (M 'a A, V B, M 'c C) (M 'a A, R 'b B, V C) (M 'a A, R 'b B, R 'c C)
    (M 'a A, R 'b B, M 'c C) (M 'a A, M 'b B, V C) (M 'a A, M 'b B, R 'c C)
    (M 'a A, M 'b B, M 'c C)
    (V A, V B, V C, R 'd D) (V A, V B, V C, M 'd D) (V A, V B, R 'c C, V D)
    (V A, V B, R 'c C, R 'd D) (V A, V B, R 'c C, M 'd D) (V A, V B, M 'c C, V D)
    (V A, V B, M 'c C, R 'd D) (V A, V B, M 'c C, M 'd D) (V A, R 'b B, V C, V D)
    (V A, R 'b B, V C, R 'd D) (V A, R 'b B, V C, M 'd D) (V A, R 'b B, R 'c C, V D)
    (V A, R 'b B, R 'c C, R 'd D) (V A, R 'b B, R 'c C, M 'd D) (V A, R 'b B, M 'c C, V D)
    (V A, R 'b B, M 'c C, R 'd D) (V A, R 'b B, M 'c C, M 'd D) (V A, M 'b B, V C, V D)
    (V A, M 'b B, V C, R 'd D) (V A, M 'b B, V C, M 'd D) (V A, M 'b B, R 'c C, V D)
    (V A, M 'b B, R 'c C, R 'd D) (V A, M 'b B, R 'c C, M 'd D) (V A, M 'b B, M 'c C, V D)
    (V A, M 'b B, M 'c C, R 'd D) (V A, M 'b B, M 'c C, M 'd D) (R 'a A, V B, V C, V D)
    (R 'a A, V B, V C, R 'd D) (R 'a A, V B, V C, M 'd D) (R 'a A, V B, R 'c C, V D)
    (R 'a A, V B, R 'c C, R 'd D) (R 'a A, V B, R 'c C, M 'd D) (R 'a A, V B, M 'c C, V D)
    (R 'a A, V B, M 'c C, R 'd D) (R 'a A, V B, M 'c C, M 'd D) (R 'a A, R 'b B, V C, V D)
    (R 'a A, R 'b B, V C, R 'd D) (R 'a A, R 'b B, V C, M 'd D) (R 'a A, R 'b B, R 'c C, V D)
    (R 'a A, R 'b B, R 'c C, R 'd D) (R 'a A, R 'b B, R 'c C, M 'd D)
    (R 'a A, R 'b B, M 'c C, V D) (R 'a A, R 'b B, M 'c C, R 'd D)
    (R 'a A, R 'b B, M 'c C, M 'd D) (R 'a A, M 'b B, V C, V D) (R 'a A, M 'b B, V C, R 'd D)
    (R 'a A, M 'b B, V C, M 'd D) (R 'a A, M 'b B, R 'c C, V D) (R 'a A, M 'b B, R 'c C, R 'd D)
    (R 'a A, M 'b B, R 'c C, M 'd D) (R 'a A, M 'b B, M 'c C, V D)
    (R 'a A, M 'b B, M 'c C, R 'd D) (R 'a A, M 'b B, M 'c C, M 'd D) (M 'a A, V B, V C, V D)
    (M 'a A, V B, V C, R 'd D) (M 'a A, V B, V C, M 'd D) (M 'a A, V B, R 'c C, V D)
    (M 'a A, V B, R 'c C, R 'd D) (M 'a A, V B, R 'c C, M 'd D) (M 'a A, V B, M 'c C, V D)
    (M 'a A, V B, M 'c C, R 'd D) (M 'a A, V B, M 'c C, M 'd D) (M 'a A, R 'b B, V C, V D)
    (M 'a A, R 'b B, V C, R 'd D) (M 'a A, R 'b B, V C, M 'd D) (M 'a A, R 'b B, R 'c C, V D)
    (M 'a A, R 'b B, R 'c C, R 'd D) (M 'a A, R 'b B, R 'c C, M 'd D)
    (M 'a A, R 'b B, M 'c C, V D) (M 'a A, R 'b B, M 'c C, R 'd D)
    (M 'a A, R 'b B, M 'c C, M 'd D) (M 'a A, M 'b B, V C, V D) (M 'a A, M 'b B, V C, R 'd D)
    (M 'a A, M 'b B, V C, M 'd D) (M 'a A, M 'b B, R 'c C, V D) (M 'a A, M 'b B, R 'c C, R 'd D)
    (M 'a A, M 'b B, R 'c C, M 'd D) (M 'a A, M 'b B, M 'c C, V D)
    (M 'a A, M 'b B, M 'c C, R 'd D) (M 'a A, M 'b B, M 'c C, M 'd D)
}
