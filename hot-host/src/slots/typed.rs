//! Typed function handles: [`HotFn<F>`], resolved once with a Rust function type `F` (by
//! [`crate::Host::resolve_typed`]) and called safely at the speed of the raw slot path.
//!
//! # What the type says
//!
//! `F` lists what the *caller* passes and gets back: `fn(u64, u64) -> u64` for
//! `fn add(a: u64, b: u64) -> u64`. Parameters that are resources (`&T` / `&mut T` of a
//! `CooType`) are not in `F`: the call binds them to the host's live resources itself, as
//! [`crate::Host::call`] does, so `fn bump(counter: &mut Counter)` is resolved as `fn()`. The
//! caller never holds a reference into the state that a reload could invalidate, and the host
//! binary needs no copy of the plugin's types (its own copy would have the old layout after a
//! reload anyway). Arguments and returns are primitives and `()`; strings and `CooType` values
//! go through [`crate::Host::call`]. Resolving checks `F` against the plugin's descriptor:
//! a mismatch is [`CallErrorKind::Mismatch`], naming both signatures.
//!
//! Host objects (`#[host] canvas: &mut Canvas` in the plugin) *are* in `F`, as the references
//! the caller passes: `fn draw(world: &World, #[host] canvas: &mut Canvas)` is resolved as
//! `fn(&mut Canvas)` and called with `(&mut canvas,)`; a trait object as
//! `fn(&(dyn Shape + 'static))`. Resolving also checks each one's identity
//! ([`coo_runtime::plugin::HostType`]): [`CallErrorKind::HostType`] names both types.
//!
//! # What a call costs
//!
//! [`HotFn::call`] (with `&mut Host`) and [`HotFn::call_shared`] (with `&Host`) compare the
//! host's id with the handle's, load the slot's *direct entry* once (null once the slot is
//! buried, so this one load also tells whether the function is still there) and call it with
//! the arguments as they are, in registers ([`coo_runtime::plugin::ErasedFn`]: not the shim,
//! whose arguments go through an array of pointers): no allocation, no lock, no lookup, no
//! hashing. Panics are caught inside the plugin, as for every call.
//! A function with resource parameters reads their addresses from a per-handle cache, valid
//! for one *epoch* of the host's state: every `&mut` access to the state (a call through
//! [`crate::Host::call`], [`crate::Host::state_mut`], a reload) starts a new epoch, and the
//! first call after it looks the resources up again (by name, checking that each is of the
//! type the live code takes).
//!
//! # Threads
//!
//! The borrow of the host is the safe point: a reload needs `&mut Host`, so while threads hold
//! `&Host` (for example inside [`std::thread::scope`]) no reload and no state edit can run, and
//! [`HotFn::call_shared`] takes no lock. It refuses functions that borrow a resource mutably
//! ([`CallErrorKind::Exclusive`]) or share one whose type is not `Sync` in the plugin's build
//! ([`CallErrorKind::NotSync`]): a plugin's code may rely on Rust's rules, no more. A handle is
//! `Send` and `Sync` and cheap to clone (clones share the resource cache, whose updates are
//! atomic). A handle belongs to the host that resolved it: called with another host it
//! returns [`CallErrorKind::OtherHost`] (that host's borrow would not keep this one's code mapped).

use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use coo_runtime::plugin::{ErasedFn, ForeignString, HotValue, ValueKind};
use coo_runtime::{State, TypeDesc};

use super::{CallError, CallErrorKind, FnRef, Slot, failure};

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

    /// Calls a direct entry of this type (see [`ErasedFn`]).
    ///
    /// # Safety
    /// `entry` is the direct entry of a function whose value parameters and return are `Self`'s
    /// and whose code stays mapped during the call; `ErasedFn`'s contract for the rest.
    #[doc(hidden)]
    unsafe fn call_direct(
        entry: ErasedFn,
        resources: *const *mut u8,
        args: Self::Args<'_>,
        ret: *mut u8,
        panic: *mut ForeignString,
    ) -> bool;

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
                resources: *const *mut u8,
                args: Self::Args<'_>,
                ret: *mut u8,
                panic: *mut ForeignString,
            ) -> bool {
                // SAFETY: the caller's contract: `entry` has this very type, erased.
                let entry = unsafe {
                    core::mem::transmute::<
                        ErasedFn,
                        unsafe fn(*const *mut u8, $($a,)* *mut u8, *mut ForeignString) -> bool,
                    >(entry)
                };
                let ($($a,)*) = args;
                // SAFETY: the caller's contract.
                unsafe { entry(resources, $($a,)* ret, panic) }
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

/// Where the shim's pointer for one parameter comes from.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// The next argument of the call.
    Arg,
    /// The resource at this index of [`Typed::bound`].
    Resource(usize),
}

/// A resource parameter: its type's stable name, and whether it is borrowed mutably.
#[derive(Debug)]
struct ResourceParam {
    ty: &'static str,
    mutable: bool,
}

/// What a handle knows beyond its slot, shared by its clones.
struct Typed {
    /// The function as resolved, with its image's guard.
    resolved: FnRef,
    path: Arc<str>,
    places: Box<[Place]>,
    /// How many of the parameters are resources.
    resources: usize,
    /// The type of a `&mut` resource parameter, if any: such a function needs `&mut Host`.
    exclusive: Option<&'static str>,
    /// The type of a `&T` parameter that is not `Sync`, if any (see [`FnDesc::refs_sync`]).
    ///
    /// [`FnDesc::refs_sync`]: coo_runtime::plugin::FnDesc::refs_sync
    not_sync: Option<&'static str>,
    /// The epoch of the host's state that `bound` was looked up in (0: never).
    epoch: AtomicU64,
    /// The address of each resource parameter (`Place::Resource(i)`), in the state of `epoch`.
    bound: [AtomicPtr<u8>; MAX_PARAMS],
}

/// A hot function resolved with the Rust function type `F` (see the [module docs](crate::slots::typed)).
/// Calls follow reloads, and fail with [`CallErrorKind::Removed`] or
/// [`CallErrorKind::SignatureChanged`] once the function is gone or has another signature.
pub struct HotFn<F: HotSig> {
    slot: Arc<Slot>,
    host: u64,
    /// Whether the function has resource parameters (kept here: a call reads it first).
    binds: bool,
    typed: Arc<Typed>,
    _f: PhantomData<F>,
}

impl<F: HotSig> Clone for HotFn<F> {
    fn clone(&self) -> Self {
        HotFn {
            slot: self.slot.clone(),
            host: self.host,
            binds: self.binds,
            typed: self.typed.clone(),
            _f: PhantomData,
        }
    }
}

impl<F: HotSig> fmt::Debug for HotFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HotFn")
            .field("path", &self.typed.path)
            .field("type", &F::text())
            .field("signature", &self.typed.resolved.signature())
            .finish()
    }
}

impl<F: HotSig> HotFn<F> {
    /// Checks the live `slot`'s function against `F`. `host` is the id of the host it belongs
    /// to.
    pub(crate) fn resolve(slot: Arc<Slot>, path: &str, host: u64) -> Result<HotFn<F>, CallError> {
        let resolved = slot.desc().ok_or_else(|| {
            CallError::of(
                path.to_owned(),
                CallErrorKind::NotFound { known: Vec::new() },
            )
        })?;
        let untyped = || {
            CallError::of(
                path.to_owned(),
                CallErrorKind::Untyped {
                    signature: resolved.signature(),
                },
            )
        };
        let mut places = Vec::new();
        let mut resources = Vec::<ResourceParam>::new();
        let mut args = Vec::new();
        for param in resolved.params {
            match param.kind {
                ValueKind::Ref(ty) | ValueKind::RefMut(ty) => {
                    let mutable = matches!(param.kind, ValueKind::RefMut(_));
                    let ty = ty().name;
                    if resources
                        .iter()
                        .any(|r| r.ty == ty && (r.mutable || mutable))
                    {
                        return Err(CallError::of(
                            path.to_owned(),
                            CallErrorKind::Aliased { ty: ty.to_owned() },
                        ));
                    }
                    places.push(Place::Resource(resources.len()));
                    resources.push(ResourceParam { ty, mutable });
                }
                ValueKind::Prim(_) | ValueKind::Host { .. } => {
                    places.push(Place::Arg);
                    args.push(param.kind);
                }
                ValueKind::Unit | ValueKind::String | ValueKind::Str | ValueKind::Value(_) => {
                    return Err(untyped());
                }
            }
        }
        if !matches!(resolved.ret, ValueKind::Unit | ValueKind::Prim(_))
            || places.len() > MAX_PARAMS
        {
            return Err(untyped());
        }
        let passed: Vec<_> = resolved
            .params
            .iter()
            .filter(|p| !matches!(p.kind, ValueKind::Ref(_) | ValueKind::RefMut(_)))
            .collect();
        if let Some(err) = super::host_objects::mismatch(&passed, &F::params()) {
            return Err(CallError::of(path.to_owned(), err));
        }
        if args != F::params() || resolved.ret != <F::Ret as TypedValue>::KIND {
            let typed: Vec<String> = args.iter().map(ValueKind::text).collect();
            let typed = match resolved.ret {
                ValueKind::Unit => format!("fn({})", typed.join(", ")),
                ret => format!("fn({}) -> {}", typed.join(", "), ret.text()),
            };
            return Err(CallError::of(
                path.to_owned(),
                CallErrorKind::Mismatch {
                    expected: F::text(),
                    found: resolved.signature(),
                    typed,
                },
            ));
        }
        let exclusive = resources.iter().find(|r| r.mutable).map(|r| r.ty);
        let not_sync = if resolved.refs_sync {
            None
        } else {
            resources.iter().find(|r| !r.mutable).map(|r| r.ty)
        };
        Ok(HotFn {
            slot,
            host,
            binds: !resources.is_empty(),
            typed: Arc::new(Typed {
                resolved,
                path: path.into(),
                places: places.into(),
                resources: resources.len(),
                exclusive,
                not_sync,
                epoch: AtomicU64::new(0),
                bound: Default::default(),
            }),
            _f: PhantomData,
        })
    }

    /// The function's stable name.
    pub fn path(&self) -> &str {
        &self.typed.path
    }

    /// The descriptor the handle was resolved with (it keeps that version's image mapped).
    pub fn desc(&self) -> &FnRef {
        &self.typed.resolved
    }

    /// Calls the function with `args`; resource parameters are bound to the host's live
    /// resources. A panic inside the plugin is [`CallErrorKind::Panicked`].
    #[inline]
    pub fn call(&self, host: &mut crate::Host, args: F::Args<'_>) -> Result<F::Ret, CallError> {
        let (id, epoch) = (host.id(), host.epoch());
        // SAFETY: `&mut Host`: no reload runs and nothing else borrows the state during the
        // call; `Exclusive` is the state of that very host (checked against `id` first).
        unsafe { self.call_in(id, epoch, Exclusive(host.state_for_calls()), args) }
    }

    /// Calls the function while the host is only borrowed, so from several threads at once.
    /// Refused ([`CallErrorKind::Exclusive`], [`CallErrorKind::NotSync`]) for a function that borrows a
    /// resource mutably or shares one whose type is not `Sync`.
    #[inline]
    pub fn call_shared(&self, host: &crate::Host, args: F::Args<'_>) -> Result<F::Ret, CallError> {
        if self.binds {
            if let Some(ty) = self.typed.exclusive {
                return Err(CallError::of(
                    self.path().to_owned(),
                    CallErrorKind::Exclusive { ty: ty.to_owned() },
                ));
            }
            if let Some(ty) = self.typed.not_sync {
                return Err(CallError::of(
                    self.path().to_owned(),
                    CallErrorKind::NotSync { ty: ty.to_owned() },
                ));
            }
        }
        // SAFETY: `&Host`: no reload runs and the state is not changed during the call (every
        // change needs `&mut Host`); the function borrows no resource mutably (checked above),
        // and shares only resources of `Sync` types, so calls on other threads that share them
        // too are sound.
        unsafe { self.call_in(host.id(), host.epoch(), Shared(host.state()), args) }
    }

    /// # Safety
    /// If `host` is this handle's host, no reload of it runs during the call and `state` is its
    /// state, in epoch `epoch`, not changed during the call; an `Exclusive` state is borrowed by
    /// nothing else, and a `Shared` one is only used for functions without `&mut` resources.
    #[inline(always)]
    unsafe fn call_in(
        &self,
        host: u64,
        epoch: u64,
        state: impl Resources,
        args: F::Args<'_>,
    ) -> Result<F::Ret, CallError> {
        if host != self.host {
            return Err(self.other_host());
        }
        let direct = self.slot.direct.load(Ordering::Acquire);
        if direct.is_null() {
            // Buried: removed, or its signature changed.
            return Err(self.failure());
        }
        // SAFETY: the slot only ever holds null or the `direct` of a `FnDesc`, an `ErasedFn`.
        let direct = unsafe { core::mem::transmute::<*mut (), ErasedFn>(direct) };
        let mut ret = MaybeUninit::<F::Ret>::uninit();
        let mut panic = MaybeUninit::<ForeignString>::uninit();
        let ret_ptr = ret.as_mut_ptr().cast::<u8>();
        let ok = if !self.binds {
            // SAFETY: the entry's code is mapped: it is stored in the slot with its image's
            // guard, changed only by a reload, and none runs (the caller's contract). A live
            // slot's code has the signature the handle was checked against at resolve (a
            // change buries the slot), so its value parameters and return are `F`'s; it has no
            // resource parameters; `ret` has room for the return value.
            unsafe { F::call_direct(direct, core::ptr::null(), args, ret_ptr, panic.as_mut_ptr()) }
        } else {
            let t = &*self.typed;
            if t.epoch.load(Ordering::Acquire) != epoch {
                // SAFETY: the caller's contract; the slot is live (its entry is not null).
                unsafe { self.look_up(epoch, state) }?;
            }
            let mut resources = [core::ptr::null_mut::<u8>(); MAX_PARAMS];
            for (ptr, bound) in resources.iter_mut().zip(&t.bound[..t.resources]) {
                // Stored for this epoch: by `look_up` above, or by a call on another thread,
                // before its `Release` store of the epoch we `Acquire`d.
                *ptr = bound.load(Ordering::Relaxed);
            }
            // SAFETY: as above, with one pointer per resource parameter, each to the live
            // resource of the type the live code takes (checked when it was looked up, in
            // this epoch of the state), mutable ones not aliased by any other parameter
            // (checked at resolve) nor by anything else (`Exclusive`: `&mut Host`).
            unsafe {
                F::call_direct(
                    direct,
                    resources.as_ptr(),
                    args,
                    ret_ptr,
                    panic.as_mut_ptr(),
                )
            }
        };
        if ok {
            // SAFETY: the shim returned `true`, so it wrote the return value.
            Ok(unsafe { ret.assume_init() })
        } else {
            let t = &self.typed;
            Err(failure(&self.slot, &t.path, &t.resolved, Some(panic)))
        }
    }

    /// The error of a buried slot.
    #[cold]
    fn failure(&self) -> CallError {
        let t = &self.typed;
        failure(&self.slot, &t.path, &t.resolved, None)
    }

    /// Looks each resource up in `state` and stores its address for `epoch`.
    ///
    /// # Safety
    /// The slot is live, and `state` is the host's state in epoch `epoch`, not changed during
    /// the call this lookup is for.
    #[cold]
    unsafe fn look_up(&self, epoch: u64, mut state: impl Resources) -> Result<(), CallError> {
        let t = &self.typed;
        let live = self
            .slot
            .desc()
            .expect("the caller checked the slot is live");
        for (param, place) in live.params.iter().zip(&t.places) {
            let Place::Resource(i) = *place else { continue };
            let (ValueKind::Ref(ty) | ValueKind::RefMut(ty)) = param.kind else {
                unreachable!("a live slot keeps the signature it was resolved with")
            };
            let want = ty();
            let (ptr, desc) = state.get(want.name).ok_or_else(|| {
                CallError::of(
                    self.path().to_owned(),
                    CallErrorKind::NoResource {
                        ty: want.name.to_owned(),
                    },
                )
            })?;
            if !core::ptr::eq(desc, want) {
                return Err(CallError::of(
                    self.path().to_owned(),
                    CallErrorKind::BadArg {
                        param: param.name.to_owned(),
                        message: format!(
                            "the live `{}` is not of this version of the type",
                            want.name
                        ),
                    },
                ));
            }
            t.bound[i].store(ptr, Ordering::Relaxed);
        }
        t.epoch.store(epoch, Ordering::Release);
        Ok(())
    }

    #[cold]
    fn other_host(&self) -> CallError {
        CallError::of(self.path().to_owned(), CallErrorKind::OtherHost)
    }
}

/// The host's state as a call may use it: borrowed exclusively or shared.
trait Resources {
    /// The address of the live resource named `ty`, and the address of its type's descriptor
    /// (to compare only: the descriptor is the state's, borrowed no longer than this call).
    fn get(&mut self, ty: &str) -> Option<(*mut u8, *const TypeDesc)>;
}

struct Exclusive<'a>(&'a mut State);

impl Resources for Exclusive<'_> {
    fn get(&mut self, ty: &str) -> Option<(*mut u8, *const TypeDesc)> {
        let resource = self.0.resource_mut(ty)?;
        Some((resource.as_mut_ptr(), resource.desc()))
    }
}

struct Shared<'a>(&'a State);

impl Resources for Shared<'_> {
    /// A read-only address: only functions without `&mut` resources are called through it.
    fn get(&mut self, ty: &str) -> Option<(*mut u8, *const TypeDesc)> {
        let resource = self.0.resource(ty)?;
        Some((resource.as_ptr().cast_mut(), resource.desc()))
    }
}
