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
//! A handle caches what a call needs, for one *epoch* of its host: the slot's *raising entry*
//! (the function called with the arguments as they are, in registers, and returning its value
//! in registers: [`coo_runtime::plugin::ErasedFn`], not the shim, whose arguments go through an
//! array of pointers) and the address of each resource parameter. Every change of the host's
//! state or slots (a reload, a call through [`crate::Host::call`], [`crate::Host::state_mut`])
//! starts a new epoch, a number no host of the process used before. So [`HotFn::call`] (with
//! `&mut Host`) and [`HotFn::call_shared`] (with `&Host`) compare the host's epoch with the
//! cached one and, when they are equal, call the cached entry at once: one comparison, one
//! load, one indirect call. Equal epochs also prove that the host is the handle's own (an
//! epoch is never another host's), that the function is still there (a burial happens in a
//! reload, which starts an epoch) and that its code is still mapped (the slot holds its
//! image's guard until a reload). The first call in a new epoch checks all of that (cold
//! code): the host's id, whether the slot was buried ([`CallErrorKind::Removed`],
//! [`CallErrorKind::SignatureChanged`]), and looks the resources up (by name, checking that
//! each is of the type the live code takes). No allocation, no lock, no lookup and no hashing
//! on the way. [`HotFn::call_raw`] skips the epoch and lets the caller bind the resources: one
//! atomic load of the slot's raising entry and the call (a buried slot's is a stub that fails).
//!
//! Panics are caught inside the plugin, as for every call, and the raising entry then reports
//! them by unwinding with the **host's** `std` ([`coo_runtime::plugin::raise`]): the call sits
//! in a `catch_unwind` of the host, which costs nothing while nothing panics, so a call tests
//! no flag. A host built with `panic = "abort"` cannot catch an unwind: there the handles call
//! the direct entries instead, which return a panic as a flag that each call tests.
//!
//! # Threads
//!
//! The borrow of the host is the safe point: a reload needs `&mut Host`, so while threads hold
//! `&Host` (for example inside [`std::thread::scope`]) no reload and no state edit can run, and
//! [`HotFn::call_shared`] takes no lock. It refuses functions that borrow a resource mutably
//! ([`CallErrorKind::Exclusive`]) or share one whose type is not `Sync` in the plugin's build
//! ([`CallErrorKind::NotSync`]): a plugin's code may rely on Rust's rules, no more. A handle is
//! `Send` and `Sync` and cheap to clone (a clone starts with an empty cache; a cache's updates
//! are atomic, and threads sharing the host all find the same values). A handle belongs to the host that resolved it: called with another host it
//! returns [`CallErrorKind::OtherHost`] (that host's borrow would not keep this one's code mapped).

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use coo_runtime::plugin::raise::PluginPanic;
use coo_runtime::plugin::{ErasedFn, ForeignString};

pub use super::sig::{HotSig, MAX_PARAMS, TypedValue};
use super::{Buried, CallError, CallErrorKind, FnRef, Slot, failure};
use checks::Borrow;

/// The checks at resolve and at the first call of an epoch.
mod checks;

/// Whether calls go through the functions' raising entries: in a host that unwinds (the host's
/// `catch_unwind` then catches a plugin's panic, reported by the raising entry, for free when
/// nothing panics). A host built with `panic = "abort"` could catch nothing: it calls the
/// direct entries, which return a panic as a flag the call tests.
const RAISING: bool = cfg!(panic = "unwind");

/// What a handle knows beyond its slot and cache, shared by its clones; read on the slow path
/// only.
struct Typed {
    /// The function as resolved, with its image's guard.
    resolved: FnRef,
    path: Arc<str>,
    /// The id of the host that resolved it.
    host: u64,
    /// The index of each resource parameter among all parameters, in order.
    resources: Box<[usize]>,
    /// The type of a `&mut` resource parameter, if any: such a function needs `&mut Host`.
    exclusive: Option<Box<str>>,
    /// The type of a `&T` parameter that is not `Sync`, if any (see [`FnDesc::refs_sync`]).
    ///
    /// [`FnDesc::refs_sync`]: coo_runtime::plugin::FnDesc::refs_sync
    not_sync: Option<Box<str>>,
}

/// What a call needs, valid in one epoch of the handle's host (see the [module docs]). Written
/// only on the slow path, after the host's id was checked, with the values of that epoch; read
/// after an `Acquire` load of an epoch, which a `Release` store publishes last.
///
/// [module docs]: crate::slots::typed
struct Cache {
    /// The epoch in which `entry` and `bound` were found for calls with `&mut Host`; 0: none.
    epoch: AtomicU64,
    /// The same for calls with `&Host`: never set for a function `call_shared` refuses.
    shared_epoch: AtomicU64,
    /// The slot's raising entry in that epoch (never null once an epoch is set).
    raising: AtomicPtr<()>,
    /// The slot's direct entry in that epoch (never null once an epoch is set), for a host
    /// that aborts on panics (see [`RAISING`]).
    direct: AtomicPtr<()>,
    /// The address of each resource parameter's live resource in that epoch, in order (the
    /// entry reads them from here).
    bound: [AtomicPtr<u8>; MAX_PARAMS],
}

impl Cache {
    fn empty() -> Cache {
        Cache {
            epoch: AtomicU64::new(0),
            shared_epoch: AtomicU64::new(0),
            raising: AtomicPtr::new(core::ptr::null_mut()),
            direct: AtomicPtr::new(core::ptr::null_mut()),
            bound: Default::default(),
        }
    }
}

/// A hot function resolved with the Rust function type `F` (see the [module docs](crate::slots::typed)).
/// Calls follow reloads, and fail with [`CallErrorKind::Removed`] or
/// [`CallErrorKind::SignatureChanged`] once the function is gone or has another signature.
pub struct HotFn<F: HotSig> {
    cache: Cache,
    slot: Arc<Slot>,
    typed: Arc<Typed>,
    _f: PhantomData<F>,
}

impl<F: HotSig> Clone for HotFn<F> {
    fn clone(&self) -> Self {
        HotFn {
            cache: Cache::empty(),
            slot: self.slot.clone(),
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
    /// The function's stable name.
    pub fn path(&self) -> &str {
        &self.typed.path
    }

    /// The id of the host that resolved it.
    pub(crate) fn host_id(&self) -> u64 {
        self.typed.host
    }

    /// The descriptor the handle was resolved with (it keeps that version's image mapped).
    pub fn desc(&self) -> &FnRef {
        &self.typed.resolved
    }

    /// Calls the function with `args`; resource parameters are bound to the host's live
    /// resources. A panic inside the plugin is [`CallErrorKind::Panicked`].
    #[inline]
    pub fn call(&self, host: &mut crate::Host, args: F::Args<'_>) -> Result<F::Ret, CallError> {
        if self.cache.epoch.load(Ordering::Acquire) != host.epoch()
            && let Err(e) = self.renew(Borrow::Exclusive(host))
        {
            return Err(*e);
        }
        // SAFETY: the cache holds this epoch's values, checked by `renew` (now or earlier in
        // this epoch) for this very host, which `&mut Host` keeps from reloading or changing
        // its state during the call (either would start a new epoch) and whose resources
        // nothing else borrows meanwhile.
        unsafe { self.call_cached::<RAISING>(args) }
    }

    /// Readies the handle for calls in a scope that holds `host` exclusively
    /// ([`hot_fns!`](crate::hot_fns)' `calls`): whether [`HotFn::call_in_scope`] may be used
    /// until the scope ends (false: the function is not callable now, and `call` says why).
    #[doc(hidden)]
    pub fn ready_for_scope(&self, host: &mut crate::Host) -> bool {
        self.cache.epoch.load(Ordering::Acquire) == host.epoch()
            || self.renew(Borrow::Exclusive(host)).is_ok()
    }

    /// [`HotFn::call`] without the epoch check, in a scope readied by
    /// [`HotFn::ready_for_scope`].
    ///
    /// # Safety
    /// `ready_for_scope` returned true for the host the caller holds exclusively (`&mut`) since
    /// then, without changing its state or code in between (a typed call changes neither).
    #[doc(hidden)]
    #[inline]
    pub unsafe fn call_in_scope(&self, args: F::Args<'_>) -> Result<F::Ret, CallError> {
        // SAFETY: the cache holds the values of the host's current epoch (the caller's
        // contract: readied in it, which has not ended), and the caller's exclusive borrow of
        // that host lasts for the call, as in `call`.
        unsafe { self.call_cached::<RAISING>(args) }
    }

    /// [`HotFn::call`] through the function's direct entry, which returns a panic as a flag
    /// that the call tests: what `call` does in a host built with `panic = "abort"`, here for
    /// the tests of a host that unwinds.
    #[doc(hidden)]
    pub fn call_by_flag(
        &self,
        host: &mut crate::Host,
        args: F::Args<'_>,
    ) -> Result<F::Ret, CallError> {
        if self.cache.epoch.load(Ordering::Acquire) != host.epoch()
            && let Err(e) = self.renew(Borrow::Exclusive(host))
        {
            return Err(*e);
        }
        // SAFETY: as in `call`.
        unsafe { self.call_cached::<false>(args) }
    }

    /// Calls the function while the host is only borrowed, so from several threads at once.
    /// Refused ([`CallErrorKind::Exclusive`], [`CallErrorKind::NotSync`]) for a function that
    /// borrows a resource mutably or shares one whose type is not `Sync`.
    #[inline]
    pub fn call_shared(&self, host: &crate::Host, args: F::Args<'_>) -> Result<F::Ret, CallError> {
        if self.cache.shared_epoch.load(Ordering::Acquire) != host.epoch()
            && let Err(e) = self.renew(Borrow::Shared(host))
        {
            return Err(*e);
        }
        // SAFETY: the cache holds this epoch's values for shared calls, which `renew` stores
        // only for this very host and for a function that borrows no resource mutably and
        // shares only resources of `Sync` types; `&Host` keeps the host from reloading or
        // changing its state during the call (both need `&mut Host`), so calls on other
        // threads that share the same resources are sound.
        unsafe { self.call_cached::<RAISING>(args) }
    }

    /// Calls the function's current code with `args` and the resources at `resources`, without
    /// the handle's cache or any check of the host: one atomic load of the slot's raising entry
    /// and the call, inside a `catch_unwind` that costs nothing unless the call unwinds. A
    /// buried slot's entry is a stub of the host that unwinds at once ([`CallErrorKind::Removed`],
    /// [`CallErrorKind::SignatureChanged`], and `resources` is not read). (In a host built with
    /// `panic = "abort"`: the direct entry, its null test, and the test of its panic flag.)
    ///
    /// # Safety
    /// No reload of the host that resolved the handle runs during the call. `resources` points
    /// to one pointer per resource parameter (`&T`/`&mut T`) of the live code, in order, each
    /// the address of the live resource of that type in that host's current state (fetched
    /// after the last reload: a resource moves when its layout changes), and Rust's rules hold
    /// for them during the call: a `&mut` one is referenced by nothing else, a shared one is
    /// not changed meanwhile, and one whose type is not `Sync` is not used on another thread.
    /// It may be dangling for a function without resource parameters.
    #[inline]
    pub unsafe fn call_raw(
        &self,
        resources: *const *mut u8,
        args: F::Args<'_>,
    ) -> Result<F::Ret, CallError> {
        // SAFETY: the caller's contract.
        unsafe { self.call_raw_by::<RAISING>(resources, args) }
    }

    /// [`HotFn::call_raw`] through the function's direct entry, as in a host built with
    /// `panic = "abort"` (see [`HotFn::call_by_flag`]).
    ///
    /// # Safety
    /// As for [`HotFn::call_raw`].
    #[doc(hidden)]
    pub unsafe fn call_raw_by_flag(
        &self,
        resources: *const *mut u8,
        args: F::Args<'_>,
    ) -> Result<F::Ret, CallError> {
        // SAFETY: the caller's contract.
        unsafe { self.call_raw_by::<false>(resources, args) }
    }

    /// [`HotFn::call_raw`] through the raising entry (`RAISE`) or the direct entry.
    ///
    /// # Safety
    /// As for [`HotFn::call_raw`]; `RAISE` only in a host that unwinds.
    #[inline(always)]
    unsafe fn call_raw_by<const RAISE: bool>(
        &self,
        resources: *const *mut u8,
        args: F::Args<'_>,
    ) -> Result<F::Ret, CallError> {
        let entry = if RAISE {
            // Never null: a live slot's raising entry, or once buried the stub `resolve` set
            // before this handle existed.
            self.slot.raising.load(Ordering::Acquire)
        } else {
            let direct = self.slot.direct.load(Ordering::Acquire);
            if direct.is_null() {
                // Buried: removed, or its signature changed.
                return Err(*self.buried());
            }
            direct
        };
        // SAFETY: a slot's entries are the `raising` and `direct` of a `FnDesc`, or the stub
        // `F::buried_entry()`: `ErasedFn`s.
        let entry = unsafe { core::mem::transmute::<*mut (), ErasedFn>(entry) };
        // SAFETY: the entry's code is mapped: it is stored in the slot with its image's guard,
        // changed only by a reload, and none runs (the caller's contract), or it is the host's
        // stub. A live slot's code has the signature the handle was checked against at resolve
        // (a change buries the slot), so its value parameters and return are `F`'s; the stub
        // was made by the first typed handle of the slot, whose type has the same parameter and
        // return kinds (`resolve` checks each handle's against the slot's code), so the same
        // types, and it reads none of its arguments. The resources are the caller's contract
        // (an `AtomicPtr<u8>` has the layout of a `*mut u8`, and nothing writes them during
        // the call); `RAISE` only in a host that unwinds (the caller's contract).
        unsafe { self.call_entry::<RAISE>(entry, resources.cast(), args) }
    }

    /// Calls the cached raising entry (`RAISE`) or direct entry with the cached resources.
    ///
    /// # Safety
    /// The cache holds the values of the host's current epoch, found by `renew` for the kind of
    /// borrow the caller holds of that host, which lasts for the call; `RAISE` only in a host
    /// that unwinds.
    #[inline(always)]
    unsafe fn call_cached<const RAISE: bool>(
        &self,
        args: F::Args<'_>,
    ) -> Result<F::Ret, CallError> {
        // Stored before the epoch the caller `Acquire`d, by `renew` on this or another thread.
        let entry = if RAISE {
            self.cache.raising.load(Ordering::Relaxed)
        } else {
            self.cache.direct.load(Ordering::Relaxed)
        };
        // SAFETY: `renew` stores only the non-null entries of a live slot, `ErasedFn`s.
        let entry = unsafe { core::mem::transmute::<*mut (), ErasedFn>(entry) };
        let resources = self.cache.bound.as_ptr();
        // SAFETY: the entry's code is mapped: in this epoch the slot still holds it with its
        // image's guard (only a reload changes the slot, and it starts a new epoch), and the
        // caller's borrow keeps a reload from running. A live slot's code has the signature the
        // handle was checked against at resolve (a change buries the slot), so its value
        // parameters and return are `F`'s. `bound` holds one pointer per resource parameter,
        // each to the live resource of the type the live code takes (checked by `renew` in
        // this epoch, in which no resource moved), mutable ones not aliased by another
        // parameter (checked at resolve) nor by anything else (the caller's borrow); `RAISE`
        // only in a host that unwinds (the caller's contract).
        unsafe { self.call_entry::<RAISE>(entry, resources, args) }
    }

    /// Calls `entry`, a raising entry (`RAISE`: inside a `catch_unwind`, which turns what it
    /// raises into the call's error) or a direct entry (its panic flag tested).
    ///
    /// # Safety
    /// `entry` is the raising (`RAISE`) or direct entry of code whose value parameters and
    /// return are `F`'s, mapped for the call, whose image has this host's raise hook (installed
    /// at load), or the raising stub `F::buried_entry()`; `resources` as `ErasedFn`'s contract
    /// says, for the code's resource parameters; `RAISE` only in a host that unwinds.
    #[inline(always)]
    unsafe fn call_entry<const RAISE: bool>(
        &self,
        entry: ErasedFn,
        resources: *const AtomicPtr<u8>,
        args: F::Args<'_>,
    ) -> Result<F::Ret, CallError> {
        if RAISE {
            // SAFETY: the caller's contract; the `catch_unwind` around the call catches what
            // the hook or the stub raises, since this host unwinds.
            let call = || unsafe { F::call_raising(entry, resources, args) };
            match catch_unwind(AssertUnwindSafe(call)) {
                Ok(value) => Ok(value),
                Err(payload) => Err(*self.caught(payload)),
            }
        } else {
            let mut panic = MaybeUninit::<ForeignString>::uninit();
            // SAFETY: the caller's contract; `panic` has room for the message the entry writes
            // when it returns `None`.
            match unsafe { F::call_direct(entry, resources, args, panic.as_mut_ptr()) } {
                Some(value) => Ok(value),
                None => Err(*self.panicked(panic)),
            }
        }
    }

    fn error(&self, kind: CallErrorKind) -> CallError {
        CallError::of(self.path().to_owned(), kind)
    }

    /// The error of a buried slot.
    #[cold]
    fn failure(&self) -> CallError {
        let t = &self.typed;
        failure(&self.slot, &t.path, &t.resolved, None)
    }

    /// [`HotFn::failure`], boxed for the call path (see [`HotFn::panicked`]).
    #[cold]
    #[inline(never)]
    fn buried(&self) -> Box<CallError> {
        Box::new(self.failure())
    }

    /// The error of a raising call that unwound: the plugin's panic, or the stub of a buried
    /// slot. Any other payload (a panic of the host's own code, which no entry calls) goes on
    /// unwinding.
    #[cold]
    #[inline(never)]
    fn caught(&self, payload: Box<dyn Any + Send>) -> Box<CallError> {
        let payload = match payload.downcast::<PluginPanic>() {
            Ok(panic) => {
                let message = panic.message;
                return Box::new(self.error(CallErrorKind::Panicked { message }));
            }
            Err(payload) => payload,
        };
        if payload.is::<Buried>() {
            return Box::new(self.failure());
        }
        std::panic::resume_unwind(payload)
    }

    /// The error of a call that panicked: the direct entry wrote the message to `panic`.
    ///
    /// Boxed, like every error of the call path: a `CallError` returned by a function that is
    /// not inlined is written to memory, where the inlined call's `Result` would then have to
    /// live too, and every successful call would store and reload its value and discriminant.
    /// Moved out of a box, the error's fields reach the `Result` as values.
    #[cold]
    #[inline(never)]
    fn panicked(&self, panic: MaybeUninit<ForeignString>) -> Box<CallError> {
        // SAFETY: the direct entry returned `None`, which it does only after writing the panic
        // message. The copy is the host's; the plugin frees its own.
        let message = unsafe { panic.assume_init() }.into_string();
        Box::new(self.error(CallErrorKind::Panicked { message }))
    }
}
