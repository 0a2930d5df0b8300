//! Trait objects in live state: what `#[coo_trait]` and `#[coo_impl]` generate builds on the
//! traits and generic glue here. `#[coo_trait] trait Vehicle` implements [`CooDyn`] for
//! `dyn Vehicle` and `CooField` for `Box<dyn Vehicle>` (a [`ShapeKind::Dyn`] shape, with the
//! glue [`dyn_shape`] instantiates in the trait's image); `#[coo_impl] impl Vehicle for Bicycle`
//! implements [`CooImpl<dyn Vehicle>`](CooImpl) for `Bicycle`, fills the trait's hidden method
//! that names the concrete type, and submits an [`ImplRegistration`] to `inventory`, which the
//! trait's glue lists ([`DynDesc::impls`](crate::descriptors::layout::DynDesc::impls)).
//!
//! Migration moves each live object's value as its concrete type into a box made by the new
//! image's impl ([`crate::migration`]): the object's vtable is then the new code's.

use crate::descriptors::layout::construct::{dyn_desc, dyn_glue, shape};
use crate::descriptors::layout::{CooType, ImplDesc, Shape, ShapeKind, TypeDesc};
use crate::descriptors::std_fields::drop_glue;
use crate::plugin::ForeignString;

/// What `#[coo_trait]` implements for `dyn Trait`: the trait's stable name and the concrete
/// type of an object (through the hidden method every `#[coo_impl]` fills).
///
/// # Safety
/// `concrete_type` returns the descriptor of the object's concrete type: the type whose value
/// the object's box holds (the hidden method of `#[coo_impl]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a trait marked `#[coo_trait]`",
    label = "this trait is not marked `#[coo_trait]`",
    note = "put `#[coo_runtime::coo_trait]` on the trait's definition, so that `Box<dyn Trait>` can be live state and its impls marked `#[coo_impl]`"
)]
pub unsafe trait CooDyn: 'static {
    /// The trait's identifier: `Vehicle`.
    const TRAIT_NAME: &'static str;

    /// The descriptor of the concrete type of `self`.
    fn concrete_type(&self) -> &'static TypeDesc;
}

/// What `#[coo_impl]` implements for the concrete type of an impl of a `#[coo_trait]` trait
/// `T` (`T` is `dyn Trait`): boxing a value behind this image's vtable.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `#[coo_impl]` of `{T}`",
    label = "no `#[coo_impl]` impl for this type",
    note = "mark the impl `#[coo_impl] impl Trait for {Self}`"
)]
pub trait CooImpl<T: ?Sized + CooDyn>: CooType {
    fn boxed(self: Box<Self>) -> Box<T>;
}

/// What `#[coo_impl]` submits to `inventory` for every impl.
#[derive(Debug)]
pub struct ImplRegistration(pub fn() -> &'static ImplDesc);

inventory::collect!(ImplRegistration);

fn type_name_of<T: ?Sized>() -> &'static str {
    core::any::type_name::<T>()
}

/// The shape of `Box<T>` for `T = dyn Trait` of a `#[coo_trait]` trait (a constant: the trait
/// macro writes `const SHAPE: &'static Shape = &dyn_shape::<dyn Trait>();`).
pub const fn dyn_shape<T: ?Sized + CooDyn>() -> Shape {
    shape(
        core::mem::size_of::<Box<T>>(),
        core::mem::align_of::<Box<T>>(),
        true,
        drop_glue::<Box<T>>,
        type_name_of::<Box<T>>,
        ShapeKind::Dyn(dyn_desc(
            T::TRAIT_NAME,
            dyn_glue(
                dyn_concrete::<T>,
                dyn_get::<T>,
                dyn_get_mut::<T>,
                dyn_free::<T>,
                dyn_impls::<T>,
            ),
        )),
    )
}

unsafe fn dyn_concrete<T: ?Sized + CooDyn>(
    p: *const u8,
) -> Result<(*const u8, usize), ForeignString> {
    // SAFETY: the caller passes a valid `Box<T>`.
    let b = unsafe { &*p.cast::<Box<T>>() };
    crate::__private::catch(|| {
        let name = b.concrete_type().name();
        (name.as_ptr(), name.len())
    })
    .map_err(ForeignString::new)
}

unsafe fn dyn_get<T: ?Sized>(p: *const u8) -> *const u8 {
    // SAFETY: the caller passes a valid `Box<T>`.
    let b = unsafe { &*p.cast::<Box<T>>() };
    (&**b as *const T).cast()
}

unsafe fn dyn_get_mut<T: ?Sized>(p: *mut u8) -> *mut u8 {
    // SAFETY: the caller passes a valid `Box<T>` that nothing else references.
    let b = unsafe { &mut *p.cast::<Box<T>>() };
    (&mut **b as *mut T).cast()
}

unsafe fn dyn_free<T: ?Sized>(p: *mut u8) {
    // SAFETY: the caller passes a valid `Box<T>` whose value was moved out and that is not used
    // again: it is read out of `p` once.
    let b = unsafe { p.cast::<Box<T>>().read() };
    // The layout the box was allocated with: the concrete type's, which the vtable records.
    let layout = core::alloc::Layout::for_value::<T>(&b);
    let raw = Box::into_raw(b);
    if layout.size() != 0 {
        // SAFETY: `raw` was allocated by `Box` (the global allocator) with `layout`; its value
        // was moved out, so only the memory is freed.
        unsafe { std::alloc::dealloc(raw.cast(), layout) }
    }
}

unsafe fn dyn_impls<T: ?Sized + CooDyn>(ctx: *mut (), f: crate::descriptors::layout::ImplFn) {
    let path = type_name_of::<T>();
    for r in inventory::iter::<ImplRegistration> {
        let imp = (r.0)();
        if imp.trait_path() == path {
            // SAFETY: the caller's contract for `f` and `ctx`; `imp` lives in this image.
            unsafe { f(ctx, imp) }
        }
    }
}

/// [`ImplGlue::write_box`](crate::descriptors::layout::ImplGlue::write_box) of the impl of `T`
/// for `C`.
///
/// # Safety
/// `src` holds a valid `C` the caller gives up; `dst` is valid for writes of a `Box<T>`.
pub unsafe fn impl_write_box<T: ?Sized + CooDyn, C: CooImpl<T>>(dst: *mut u8, src: *mut u8) {
    // SAFETY: the caller's contract.
    unsafe {
        let value = src.cast::<C>().read();
        dst.cast::<Box<T>>().write(C::boxed(Box::new(value)));
    }
}

/// [`SwitchGlue::convert`](crate::descriptors::layout::SwitchGlue::convert) from `S` to `C`
/// (`From<&S> for C`), both impls of `T`.
///
/// # Safety
/// `src` is a valid `Box<T>` whose concrete type is `S`; `dst` is valid for writes of a
/// `Box<T>`.
pub unsafe fn switch_convert<
    T: ?Sized + CooDyn,
    S: CooImpl<T>,
    C: CooImpl<T> + for<'a> From<&'a S>,
>(
    dst: *mut u8,
    src: *const u8,
) -> Result<(), ForeignString> {
    // SAFETY: the caller passes a valid `Box<T>` whose concrete type is `S` (checked by the
    // caller through `concrete`): its data pointer points to a valid `S`.
    let source = unsafe { &*dyn_get::<T>(src).cast::<S>() };
    let value = crate::__private::catch(|| C::from(source)).map_err(ForeignString::new)?;
    // SAFETY: `dst` is valid for writes of a `Box<T>` (caller's contract).
    unsafe { dst.cast::<Box<T>>().write(C::boxed(Box::new(value))) };
    Ok(())
}
