//! Support for the code that `coo-derive` generates. Not a public API: the macros name these
//! items through `::coo_runtime::__private`, so users never depend on `inventory` themselves.

use core::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub use core;
pub use inventory;
/// Named without assuming `::std`.
pub use std::boxed::Box;
/// Named without assuming `::std`.
pub use std::string::String;

pub use crate::descriptors::generics::instance_name;
#[cfg(feature = "serde")]
pub use crate::descriptors::layout::construct::opaque_json;
pub use crate::descriptors::layout::construct::opaque_shape;

/// What `#[coo(opaque, serde)]` needs when coo-runtime's `serde` feature is off: a bound no
/// type meets, so that the build says which feature to turn on.
#[cfg(not(feature = "serde"))]
#[diagnostic::on_unimplemented(
    message = "`#[coo(opaque, serde)]` needs coo-runtime's `serde` feature",
    label = "snapshots would hold `{Self}` as JSON through serde",
    note = "write `coo-runtime = {{ ..., features = [\"serde\"] }}` in the plugin's Cargo.toml, or remove `serde` from the attribute"
)]
pub trait OpaqueSerdeNeedsFeature {}

/// Without the `serde` feature: refused by its bound (see [`OpaqueSerdeNeedsFeature`]).
#[cfg(not(feature = "serde"))]
pub const fn opaque_json<F: OpaqueSerdeNeedsFeature>()
-> Option<crate::descriptors::opaque::OpaqueJson> {
    None
}

/// `core::any::type_name::<T>`, as a function pointer for descriptors.
pub fn type_name_of<T: ?Sized>() -> &'static str {
    core::any::type_name::<T>()
}

/// The only way to build descriptors: `const fn`s, so generated statics stay constant.
pub use crate::descriptors::layout::construct::{
    enum_desc, field_desc, field_desc_copy, field_desc_literal_default, generic_type_desc,
    packed_struct_desc, shape, shape_link, struct_desc, type_desc, type_glue, type_link,
    variant_desc,
};
pub use crate::descriptors::layout::construct::{impl_desc, switch_desc};
pub use crate::descriptors::layout::{
    CooField, CooType, EnumDesc, EnumRepr, FieldDesc, FieldsStyle, HookFn, Prim, Shape, ShapeKind,
    StructDesc, TypeDesc, TypeGlue, TypeKind, VariantDesc, WriteFn, drop_glue,
};
pub use crate::descriptors::layout::{ImplDesc, SwitchDesc};
pub use crate::descriptors::registry::TypeRegistration;
pub use crate::descriptors::trait_objects::{
    CooDyn, CooImpl, ImplRegistration, dyn_shape, impl_write_box, switch_convert,
};
/// The error type of generated glue (`WriteFn`, `HookFn`).
pub use crate::plugin::ForeignString;
pub use crate::plugin::construct::{fn_desc, param_desc};
pub use crate::plugin::raise::raise_panic;
pub use crate::plugin::{
    ErasedFn, FnDesc, FnRegistration, HostObject, HostTypeLink, HotValue, ParamDesc, StrRef,
    ValueKind, finish_call, finish_direct,
};
pub use crate::storage::view::ValueView;

/// The types a hot function can take by reference: `&T` and `&mut T` of a `CooType` `T` are its
/// live resource. A trait of its own, so that another type is reported in those terms.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `CooType`, so a hot function cannot take a reference to it",
    label = "`{Self}` does not implement `CooType`",
    note = "a `&T` or `&mut T` parameter of a hot function is the live resource of a `CooType` `T`: add `#[derive(CooType)]` to the type, or take `&str` or a value",
    note = "an object of the host's (a type the host and the plugin both depend on) is passed by the caller: mark the parameter `#[host]`"
)]
pub trait HotResource {
    const DESC: fn() -> &'static TypeDesc;
}

impl<T: CooType> HotResource for T {
    const DESC: fn() -> &'static TypeDesc = T::desc;
}

/// `<SyncProbe<T>>::IS_SYNC` is `true` when `T: Sync` (the inherent constant) and `false`
/// otherwise (the [`NotSync`] trait's, which the generated code imports): what `#[hot_fn]`
/// writes into [`FnDesc::refs_sync`].
#[derive(Debug)]
pub struct SyncProbe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized + Sync> SyncProbe<T> {
    pub const IS_SYNC: bool = true;
}

/// The fallback of [`SyncProbe::IS_SYNC`] for types that are not `Sync`.
pub trait NotSync {
    const IS_SYNC: bool = false;
}

impl<T: ?Sized> NotSync for SyncProbe<T> {}

/// Whether slots `a` and `b` of a hot-function shim's `args` point to the same value of a type of
/// `size` bytes: one resource passed as two parameters, one of them `&mut`. The shim refuses the
/// call rather than create a `&mut` that aliases another reference. (Values of zero-sized types
/// may share an address without overlapping, so they never count.)
///
/// # Safety
/// `args` points to at least `max(a, b) + 1` readable pointers.
pub unsafe fn same_resource(args: *const *mut u8, a: usize, b: usize, size: usize) -> bool {
    // SAFETY: the caller's contract: both slots are in bounds.
    let (first, second) = unsafe { (*args.add(a), *args.add(b)) };
    size != 0 && first == second
}

/// The message of a call that a hot-function shim refused (`message`), after it dropped the
/// call's by-value arguments (`dropped`: whether their drop panicked).
pub fn refused_call(message: &str, dropped: Result<(), String>) -> ForeignString {
    ForeignString::new(match dropped {
        Ok(()) => message.to_owned(),
        Err(panic) => format!(
            "{message}; dropping its by-value arguments then panicked: {panic} \
             (the rest of them was leaked)"
        ),
    })
}

/// Runs user code, turning a panic into `Err(message)`. Generated glue calls this inside the
/// library that owns the code, so a panic never unwinds into another library's frames.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = panic_message(&*payload);
        // The payload is a user value too: its `Drop` may panic. Such a payload is leaked.
        if let Err(inner) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            core::mem::forget(inner);
        }
        message
    })
}

pub use crate::plugin::panic_message;

/// Writes `T::default()` to `dst`.
///
/// # Safety
/// `dst` is valid for writes of a `T` and suitably aligned.
pub unsafe fn write_default<T: Default>(dst: *mut u8) -> Result<(), ForeignString> {
    // SAFETY: the caller's contract. The write happens only once `T::default()` returned: a
    // panic in it leaves `dst` unwritten.
    let mut write = || unsafe { dst.cast::<T>().write(T::default()) };
    catch_glue(&mut write).map_err(ForeignString::new)
}

/// [`catch`] for the glue instantiated once per type (`write_default`, `drop_glue`): through
/// `dyn`, so that the `catch_unwind` machinery is one instance for all of them instead of one
/// per type (about 4,000 functions fewer in a debug image of 300 types: issue 13). Not for hot
/// functions, whose `catch` stays generic so that it compiles to nothing around a body that
/// cannot panic.
pub(crate) fn catch_glue(f: &mut dyn FnMut()) -> Result<(), String> {
    catch(f)
}

/// The type a migration hook of `T` takes as `new`: `T` itself. A trait, so that a hook of
/// another type is reported with the signature to write, not as a mismatch of function types.
#[diagnostic::on_unimplemented(
    message = "this migration hook takes `&mut {Self}`, but it is the hook of `{T}`",
    label = "expected `fn(&ValueView<'_>, &mut {T}) -> Result<(), E>`",
    note = "a migration hook of `{T}` is `fn(old: &coo_runtime::ValueView<'_>, new: &mut {T}) -> Result<(), E>` where `E: Display` (`String`, for example)"
)]
pub trait HookTarget<T> {
    fn target(new: &mut T) -> &mut Self;
}

impl<T> HookTarget<T> for T {
    fn target(new: &mut T) -> &mut T {
        new
    }
}

/// What a migration hook returns: `Result<(), E>` with an error that can be shown.
#[diagnostic::on_unimplemented(
    message = "a migration hook returns `Result<(), E>` where `E: Display`, not `{Self}`",
    label = "expected `Result<(), E>` where `E: Display`",
    note = "return `Ok(())` once the new value is complete, or `Err(message)` to refuse the reload (the old code and state keep running); `Result<(), String>`, for example"
)]
pub trait HookResult {
    /// The error type, shown to the user when the hook refuses the reload.
    type Error: core::fmt::Display;
    fn into_result(self) -> Result<(), Self::Error>;
}

#[diagnostic::do_not_recommend]
impl<E: core::fmt::Display> HookResult for Result<(), E> {
    type Error = E;
    fn into_result(self) -> Result<(), E> {
        self
    }
}

/// Runs a user migration hook `f(old, &mut new)`, catching a panic and rendering its error, all
/// inside the library that owns the hook: the error's `Display` and `Drop` are user code too.
/// `A` and `R` are inferred from the hook, and their bounds say what is wrong with a hook of the
/// wrong signature.
///
/// # Safety
/// `new` points to a valid `T`.
pub unsafe fn run_hook<T, A: HookTarget<T>, R: HookResult>(
    f: impl FnOnce(&ValueView<'_>, &mut A) -> R,
    old: &ValueView<'_>,
    new: *mut u8,
) -> Result<(), ForeignString> {
    // SAFETY: the caller passes a valid `T` at `new` and no other reference to it is live.
    let new = unsafe { &mut *new.cast::<T>() };
    let message = match catch(|| f(old, A::target(new)).into_result()) {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => match catch(move || e.to_string()) {
            Ok(message) => message,
            Err(panic) => format!(
                "the hook returned an error whose `Display` panicked: {panic}; \
                 make the error type's `Display` impl not panic"
            ),
        },
        Err(panic) => format!("the hook panicked: {panic}"),
    };
    Err(ForeignString::new(message))
}

/// Autoref probe for whether a concrete type implements `Default`:
/// `(&DefaultProbe::<T>::NEW).default_writer()` is `Some` exactly when `T: Default`.
#[derive(Debug)]
pub struct DefaultProbe<T>(PhantomData<fn() -> T>);

impl<T> DefaultProbe<T> {
    pub const NEW: Self = DefaultProbe(PhantomData);
}

pub trait HasDefault {
    fn default_writer(&self) -> Option<WriteFn>;
}

impl<T: Default> HasDefault for DefaultProbe<T> {
    fn default_writer(&self) -> Option<WriteFn> {
        Some(write_default::<T>)
    }
}

pub trait NoDefault {
    fn default_writer(&self) -> Option<WriteFn>;
}

impl<T> NoDefault for &DefaultProbe<T> {
    fn default_writer(&self) -> Option<WriteFn> {
        None
    }
}

/// The derive's check that a field of a `#[repr(packed)]` struct has no drop glue: fails the
/// build (in constant evaluation, on the field's type) with `message`. Coo moves the fields of
/// packed structs as bytes through aligned copies ([`crate::storage::raw::Unaligned`]), which
/// is a move only for values that own nothing.
pub const fn packed_field<T>(message: &'static str) {
    if core::mem::needs_drop::<T>() {
        panic!("{}", message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NotDefault;

    #[test]
    // The borrow selects the fallback impl for types without `Default`.
    #[allow(clippy::needless_borrow)]
    fn default_probe_tells_default_types_apart() {
        #[allow(unused_imports)]
        use super::{HasDefault as _, NoDefault as _};
        assert!((&DefaultProbe::<u32>::NEW).default_writer().is_some());
        assert!((&DefaultProbe::<String>::NEW).default_writer().is_some());
        assert!(
            (&DefaultProbe::<NotDefault>::NEW)
                .default_writer()
                .is_none()
        );
    }

    #[test]
    fn catch_returns_panic_message() {
        let err = catch(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert_eq!(err, "boom 7");
    }
}
