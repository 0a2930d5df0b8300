//! The release switch: one declaration of the plugin's functions ([`hot_fns!`](crate::hot_fns))
//! whose calls go through typed handles ([`HotFn`](crate::HotFn)) while you develop, and are
//! direct, statically linked calls of the plugin crate in a release build, with the same call
//! sites.
//!
//! ```ignore
//! hot_host::hot_fns! {
//!     /// The plugin's functions this program calls.
//!     pub struct Fns = typed_plugin {
//!         fn add(a: u64, b: u64) -> u64;
//!         fn bump(counter: &mut Counter);
//!     }
//! }
//!
//! let mut coo = Coo::start("typed-plugin")?;
//! coo.host_mut().call_by_name("init", &[])?;
//! let fns = Fns::new(&coo)?;
//! fns.bump(&mut coo)?;
//! assert_eq!(fns.add(&mut coo, 2, 3)?, 5);
//! ```
//!
//! # The two modes
//!
//! The macro expands, in *your* crate, `#[cfg(feature = "static")]` and its negation:
//!
//! - without your crate's `static` feature, `Fns` holds one [`HotFn`](crate::HotFn) per function,
//!   resolved and checked against the plugin's signatures by `Fns::new` (a mismatch is
//!   [`CallErrorKind::Mismatch`]), and each method calls its handle: the plugin is built, loaded
//!   and reloaded by [`Coo`](crate::Coo), and the binary does not link it;
//! - with it, each method calls `typed_plugin::add(a, b)` itself, `#[inline]`: the plugin crate
//!   is a dependency of your binary (optional, enabled by the feature), linked as the `rlib`
//!   every plugin crate also is. The feature must also turn on hot-host's `static` feature, so
//!   that [`Coo::start`](crate::Coo::start) builds and loads nothing and runs the plugin linked
//!   into the binary instead ([`Host::linked`]): its types and functions, an empty state that
//!   its `init` (called as usual) fills, no cargo, no watcher, no library. Resource parameters
//!   (`&T`, `&mut T` of a `CooType`) are bound to that state's live resources, so the same
//!   program works in both modes. Your `Cargo.toml`:
//!
//! ```toml
//! [features]
//! static = ["dep:typed-plugin", "hot-host/static"]
//!
//! [dependencies]
//! hot-host = "0.1"
//! typed-plugin = { path = "../typed-plugin", optional = true }
//! ```
//!
//! `Fns::new` refuses a host of the other mode ([`CallErrorKind::WrongMode`]): one of the two
//! features without the other.
//!
//! # What a linked call costs
//!
//! A function without resource parameters is the plugin's function called directly, nothing
//! more ([`LinkedFn::bind`] is empty for it). One with resource parameters keeps their
//! addresses, looked up once per *epoch* of the host's state as typed handles do (a call
//! through [`Host::call`], [`Host::state_mut`] starts a new one; nothing reloads): a call
//! compares two numbers and passes the kept addresses. Panics are not caught in this mode: a
//! panic in the plugin unwinds into your code like any Rust call's (or aborts, under
//! `panic = "abort"`).
//!
//! # Scopes of calls
//!
//! `fns.calls(&mut coo)?` makes a scope that borrows the host mutably until it is dropped; its
//! methods are `Fns`'s without the host argument (`calls.bump()?`, `calls.add(2, 3)?`). In the
//! linked mode, `calls` binds every function's resources once (the epoch check and look-up of
//! [`LinkedFn::bind`], for each function) and keeps their addresses in the scope itself, so
//! each call is the direct call: the borrow proves the state unchanged, since nothing but the
//! scope's calls can run meanwhile and a linked function gets only its resources and values. In
//! the hot mode a scoped call is the typed call ([`HotFn::call`](crate::HotFn::call)) without
//! its check of the host's epoch, done once by `calls` for every handle (a typed call changes
//! neither the host's state nor its code, so the epoch stays). The scope's
//! type is declared by the macro inside an anonymous `const`: it cannot be named, only used
//! where it is made.
//!
//! # What the declaration says
//!
//! `fn name(params) -> ret;` for each function of the plugin crate's root module (its stable
//! name is `name`). A parameter `p: &mut Path` or `p: &Path` is a resource, its type named by
//! a path from the plugin crate's root (`Counter`, `sim::World`): it is not an argument of the
//! method, the call binds it. Every other parameter is an argument of the method; arguments
//! and the return are primitives (what a [`HotFn`](crate::HotFn) passes). The methods take
//! `&mut` a [`Coo`](crate::Coo) or a [`Host`], and return `Result<ret, CallError>` in both
//! modes (always `Ok` in the linked one).

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use coo_runtime::{CooType, TypeDesc};

use super::{CallError, CallErrorKind, HotFn, HotSig, MAX_PARAMS};
use crate::Host;

/// The declaration macro, [`hot_fns!`](crate::hot_fns) (exported at the crate's root).
mod declare;

/// A resource parameter `&mut T` of a [`LinkedFn`].
#[derive(Debug)]
pub struct Mut<T>(PhantomData<fn() -> T>);

/// A resource parameter `&T` of a [`LinkedFn`].
#[derive(Debug)]
pub struct Ref<T>(PhantomData<fn() -> T>);

mod sealed {
    pub trait Sealed {}
}

/// [`Mut<T>`] or [`Ref<T>`]: one resource parameter.
pub trait LinkedParam: sealed::Sealed {
    /// The reference the function takes.
    type Out<'a>;
    /// Whether it is borrowed mutably.
    const MUTABLE: bool;

    /// The descriptor of the resource's type, as linked into this binary.
    fn desc() -> &'static TypeDesc;

    /// # Safety
    /// `ptr` points to a live, initialized `T` which nothing else uses (mutably, for [`Mut`])
    /// for `'a`.
    #[doc(hidden)]
    unsafe fn make<'a>(ptr: *mut u8) -> Self::Out<'a>;
}

impl<T> sealed::Sealed for Mut<T> {}

impl<T: CooType + 'static> LinkedParam for Mut<T> {
    type Out<'a> = &'a mut T;
    const MUTABLE: bool = true;

    fn desc() -> &'static TypeDesc {
        T::DESC
    }

    #[inline(always)]
    unsafe fn make<'a>(ptr: *mut u8) -> &'a mut T {
        // SAFETY: the caller's contract.
        unsafe { &mut *ptr.cast::<T>() }
    }
}

impl<T> sealed::Sealed for Ref<T> {}

impl<T: CooType + 'static> LinkedParam for Ref<T> {
    type Out<'a> = &'a T;
    const MUTABLE: bool = false;

    fn desc() -> &'static TypeDesc {
        T::DESC
    }

    #[inline(always)]
    unsafe fn make<'a>(ptr: *mut u8) -> &'a T {
        // SAFETY: the caller's contract.
        unsafe { &*ptr.cast::<T>() }
    }
}

/// The resource parameters of a [`LinkedFn`], in order: a tuple of up to [`MAX_PARAMS`]
/// [`Mut`]s and [`Ref`]s.
pub trait LinkedResources: sealed::Sealed {
    /// The references the function takes, as a tuple.
    type Out<'a>;
    /// How many there are.
    const LEN: usize;

    /// Each parameter's type and whether it is borrowed mutably.
    fn params() -> Vec<(&'static TypeDesc, bool)>;

    /// # Safety
    /// The first [`Self::LEN`] pointers of `bound` point to the live resources of the types of
    /// [`Self::params`], each used by nothing else for `'a` (and not mutably, for a [`Ref`]),
    /// no two aliased unless both are [`Ref`]s.
    #[doc(hidden)]
    unsafe fn make<'a>(bound: &[AtomicPtr<u8>; MAX_PARAMS]) -> Self::Out<'a>;

    /// [`LinkedResources::make`] from the addresses a scope of calls keeps.
    ///
    /// # Safety
    /// As for [`LinkedResources::make`], for the pointers of `bound`.
    #[doc(hidden)]
    unsafe fn make_bound<'a>(bound: &Bound) -> Self::Out<'a>;
}

/// The addresses of a function's resource parameters, kept by a scope of calls
/// ([`hot_fns!`](crate::hot_fns)' `calls`) while it borrows the host: plain pointers in the
/// scope's own memory, which the optimizer may keep in registers across the calls.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Bound([*mut u8; MAX_PARAMS]);

macro_rules! linked_tuples {
    ($($len:literal: ($($p:ident $i:tt),*)),* $(,)?) => {$(
        impl<$($p),*> sealed::Sealed for ($($p,)*) {}

        impl<$($p: LinkedParam),*> LinkedResources for ($($p,)*) {
            type Out<'a> = ($($p::Out<'a>,)*);
            const LEN: usize = $len;

            fn params() -> Vec<(&'static TypeDesc, bool)> {
                vec![$(($p::desc(), $p::MUTABLE)),*]
            }

            #[inline(always)]
            #[allow(unused_variables, clippy::unused_unit)]
            unsafe fn make<'a>(bound: &[AtomicPtr<u8>; MAX_PARAMS]) -> Self::Out<'a> {
                // SAFETY: the caller's contract, pointer by pointer.
                ($(unsafe { $p::make(bound[$i].load(Ordering::Relaxed)) },)*)
            }

            #[inline(always)]
            #[allow(unused_variables, clippy::unused_unit)]
            unsafe fn make_bound<'a>(bound: &Bound) -> Self::Out<'a> {
                // SAFETY: the caller's contract, pointer by pointer.
                ($(unsafe { $p::make(bound.0[$i]) },)*)
            }
        }
    )*};
}

linked_tuples!(
    0: (),
    1: (P0 0),
    2: (P0 0, P1 1),
    3: (P0 0, P1 1, P2 2),
    4: (P0 0, P1 1, P2 2, P3 3),
    5: (P0 0, P1 1, P2 2, P3 3, P4 4),
    6: (P0 0, P1 1, P2 2, P3 3, P4 4, P5 5),
    7: (P0 0, P1 1, P2 2, P3 3, P4 4, P5 5, P6 6),
    8: (P0 0, P1 1, P2 2, P3 3, P4 4, P5 5, P6 6, P7 7),
);

/// A function of the plugin linked into this binary, called directly by the code
/// [`hot_fns!`](crate::hot_fns) generates: what it keeps is where its resource parameters `R`
/// live in one [`Host::linked`]'s state.
pub struct LinkedFn<R: LinkedResources> {
    path: &'static str,
    /// The id of the host it belongs to.
    host: u64,
    /// The epoch of that host's state which `bound` was looked up in (0: never). Epochs are
    /// unique in the process, across hosts: an equal epoch is this host's state, unchanged.
    epoch: AtomicU64,
    /// The address of each resource parameter, in the state of `epoch`.
    bound: [AtomicPtr<u8>; MAX_PARAMS],
    _r: PhantomData<fn() -> R>,
}

impl<R: LinkedResources> fmt::Debug for LinkedFn<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<String> = R::params()
            .iter()
            .map(|(d, m)| format!("&{}{}", if *m { "mut " } else { "" }, d.name()))
            .collect();
        f.debug_struct("LinkedFn")
            .field("path", &self.path)
            .field("resources", &params)
            .finish()
    }
}

impl<R: LinkedResources> Clone for LinkedFn<R> {
    fn clone(&self) -> Self {
        let clone = LinkedFn {
            path: self.path,
            host: self.host,
            epoch: AtomicU64::new(0),
            bound: Default::default(),
            _r: PhantomData,
        };
        // Pointers first, then their epoch, as `look_up` stores them.
        for (to, from) in clone.bound.iter().zip(&self.bound) {
            to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        clone
            .epoch
            .store(self.epoch.load(Ordering::Acquire), Ordering::Release);
        clone
    }
}

impl<R: LinkedResources> LinkedFn<R> {
    /// The function `path` of the plugin linked into `host`'s binary, taking the resources `R`.
    /// Refused for a host that loads its plugin ([`CallErrorKind::WrongMode`]) and for a
    /// mutable resource parameter whose type another parameter takes too
    /// ([`CallErrorKind::Aliased`]).
    pub fn new(host: &Host, path: &'static str) -> Result<LinkedFn<R>, CallError> {
        if !host.is_linked() {
            return Err(CallError::of(
                path,
                CallErrorKind::WrongMode { host_linked: false },
            ));
        }
        let params = R::params();
        for (i, (desc, mutable)) in params.iter().enumerate() {
            if params[..i]
                .iter()
                .any(|(other, m)| other.name() == desc.name() && (*m || *mutable))
            {
                return Err(CallError::of(
                    path,
                    CallErrorKind::Aliased {
                        ty: desc.name().to_owned(),
                    },
                ));
            }
        }
        Ok(LinkedFn {
            path,
            host: host.id(),
            epoch: AtomicU64::new(0),
            bound: Default::default(),
            _r: PhantomData,
        })
    }

    /// The function's stable name.
    pub fn path(&self) -> &str {
        self.path
    }

    /// The live resources the function takes, borrowed from `host` for as long as the
    /// references are used. Without resource parameters it does nothing.
    #[inline(always)]
    pub fn bind<'h>(&self, host: &'h mut Host) -> Result<R::Out<'h>, CallError> {
        self.refresh(host)?;
        // SAFETY: for `LEN > 0`, `bound` holds the addresses of the live resources of `R`'s
        // types in the state of epoch `self.epoch`, stored by `look_up` before that epoch; that
        // epoch is `host`'s current one (`refresh` checked it, or looked them up). Epochs are
        // unique in the process and only `look_up` on this very host (checked there) stores
        // one, so the addresses are of `host`'s state, in which no resource was moved, replaced
        // or dropped since (every such change starts a new epoch). Each is of the type `R` says
        // (checked by `look_up`), no mutable one is aliased by another parameter (checked by
        // `new`), and `host` is borrowed mutably for `'h`, so nothing else uses its state
        // meanwhile. For `LEN == 0` there is nothing to read.
        Ok(unsafe { R::make(&self.bound) })
    }

    /// The addresses [`LinkedFn::bind`] would make its references of, for a scope of calls
    /// that borrows `host` mutably as long as it uses them
    /// ([`hot_fns!`](crate::hot_fns)' `calls`).
    #[doc(hidden)]
    pub fn bind_scope(&self, host: &mut Host) -> Result<Bound, CallError> {
        self.refresh(host)?;
        Ok(Bound(core::array::from_fn(|i| {
            self.bound[i].load(Ordering::Relaxed)
        })))
    }

    /// Makes `bound` hold the addresses of `host`'s current epoch: looked up again unless they
    /// are of it already (or there is nothing to look up).
    #[inline(always)]
    fn refresh(&self, host: &mut Host) -> Result<(), CallError> {
        if R::LEN > 0 && self.epoch.load(Ordering::Acquire) != host.epoch() {
            self.look_up(host)?;
        }
        Ok(())
    }

    /// Looks each resource up in `host`'s state and keeps its address for the current epoch.
    #[cold]
    #[inline(never)]
    fn look_up(&self, host: &mut Host) -> Result<(), CallError> {
        if host.id() != self.host {
            return Err(CallError::of(self.path, CallErrorKind::OtherHost));
        }
        let epoch = host.epoch();
        let state = host.state_for_calls();
        for ((want, _), bound) in R::params().into_iter().zip(&self.bound) {
            let resource = state.resource_mut(want.name()).ok_or_else(|| {
                CallError::of(
                    self.path,
                    CallErrorKind::NoResource {
                        ty: want.name().to_owned(),
                    },
                )
            })?;
            if !core::ptr::eq(resource.desc(), want) {
                return Err(CallError::of(
                    self.path,
                    CallErrorKind::BadArg {
                        param: want.name().to_owned(),
                        message: format!(
                            "the live `{}` is not of the type linked into this binary",
                            want.name()
                        ),
                    },
                ));
            }
            bound.store(resource.as_mut_ptr(), Ordering::Relaxed);
        }
        self.epoch.store(epoch, Ordering::Release);
        Ok(())
    }
}

/// What `Fns::new` of [`hot_fns!`](crate::hot_fns) does for each function without the `static`
/// feature: [`Host::resolve_typed`], refused for a linked host ([`CallErrorKind::WrongMode`]).
pub fn resolve_hot<F: HotSig>(host: &Host, path: &str) -> Result<HotFn<F>, CallError> {
    if host.is_linked() {
        return Err(CallError::of(
            path,
            CallErrorKind::WrongMode { host_linked: true },
        ));
    }
    host.resolve_typed(path)
}

/// So that [`hot_fns!`](crate::hot_fns) calls take a host as they take a [`Coo`](crate::Coo).
impl AsMut<Host> for Host {
    fn as_mut(&mut self) -> &mut Host {
        self
    }
}

impl AsRef<Host> for Host {
    fn as_ref(&self) -> &Host {
        self
    }
}
