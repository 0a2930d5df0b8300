//! Calls across plugins: what a plugin declares it uses from another ([`import!`](crate::import)),
//! the *import slot* each declaration leaves in the caller's image ([`ImportDesc`]), which the
//! host fills with the provider's code, and what a call returns when it cannot run
//! ([`ImportError`]).
//!
//! ```ignore
//! coo_runtime::import! {
//!     from physics {
//!         fn step(x: u64) -> u64;
//!         fn scale(canvas: &mut shared::Canvas, by: f32);
//!     }
//! }
//!
//! #[hot_fn]
//! fn tick(game: &mut Game) {
//!     game.x = physics::step(game.x).unwrap_or(game.x);
//! }
//! ```
//!
//! # What crosses
//!
//! An import passes values the caller owns and gets one back; it never binds resources (each
//! plugin owns the state of its own types, and only its host binds them): parameters are
//! primitives, `&str`, and `&T` / `&mut T` of a type both plugins take from one shared crate
//! (compared like host objects, by [`HostType`](super::HostType): name, size and alignment);
//! the return is a primitive or `()`. The provider's function is an ordinary `#[hot_fn]` at the
//! root of its crate whose parameters are those, in that order (a shared type as `#[host]`):
//! the host checks the declaration against its descriptor when both plugins are loaded, and a
//! caller whose declaration disagrees is not loaded (the error names both sides).
//!
//! # What a call does
//!
//! A call is one atomic load of the slot's entry (the provider's *direct entry*, see
//! [`ErasedFn`]), its null test, an indirect call and the test of the provider's panic flag;
//! the errors are built off that path (what they need read by `#[cold]` functions). It returns
//! [`ImportError`] instead of calling when the provider is not loaded (yet: load order is
//! free), when the provider's reload removed the function or changed its signature, and when
//! the provider's code panicked (the panic is caught inside the provider). The host stores the
//! entry at the commit of a reload of either side, when no plugin code runs, and keeps the
//! provider's image mapped while an import slot points into it.

use core::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

use super::{ErasedFn, ForeignString, HostObject, HostTypeLink, HotValue, ParamDesc, ValueKind};

/// No provider has been bound (the provider plugin is not loaded, or the plugin runs alone).
const UNBOUND: u8 = 0;
const BOUND: u8 = 1;
/// The provider's reload removed the function.
const REMOVED: u8 = 2;
/// The provider's reload changed the function's signature.
const CHANGED: u8 = 3;

/// Why a call of an imported function did not run, or did not finish. The caller's own
/// function decides what to do; the host keeps running either way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "`{plugin}::{function}` cannot be called: the plugin `{plugin}` is not loaded in this host; start the host with it (`hot-host run <this plugin> <{plugin}>`, or `Plugins::add`)"
    )]
    NotLoaded {
        plugin: &'static str,
        function: &'static str,
    },
    #[error(
        "`{plugin}::{function}` cannot be called: the last reload of `{plugin}` removed it; define it again there, or remove it from this plugin's `import!`"
    )]
    Removed {
        plugin: &'static str,
        function: &'static str,
    },
    #[error(
        "`{plugin}::{function}` cannot be called: the last reload of `{plugin}` changed its signature, which no longer matches this plugin's `import!` (the host's reload report shows both); update the declaration to the new signature"
    )]
    Changed {
        plugin: &'static str,
        function: &'static str,
    },
    #[error("`{plugin}::{function}` panicked: {message}")]
    Panicked {
        plugin: &'static str,
        function: &'static str,
        message: String,
    },
}

/// One imported function: what `import!` declares, and the slot the host fills.
#[derive(Debug)]
pub struct ImportDesc {
    from: &'static str,
    name: &'static str,
    module: &'static str,
    params: &'static [ParamDesc],
    ret: ValueKind,
    entry: AtomicPtr<()>,
    status: AtomicU8,
}

impl ImportDesc {
    /// The plugin the function is taken from (its crate name, as the host names plugins).
    pub const fn from(&self) -> &str {
        self.from
    }

    /// The function's path in the provider (`step`).
    pub const fn name(&self) -> &str {
        self.name
    }

    /// `module_path!()` of the declaration, in the caller.
    pub const fn module(&self) -> &str {
        self.module
    }

    pub const fn params(&self) -> &[ParamDesc] {
        self.params
    }

    pub const fn ret(&self) -> &ValueKind {
        &self.ret
    }

    /// The declaration as text: `physics::step: fn(x: u64) -> u64`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name(), p.kind().text()))
            .collect();
        match &self.ret {
            ValueKind::Unit => format!("fn({})", params.join(", ")),
            ret => format!("fn({}) -> {}", params.join(", "), ret.text()),
        }
    }

    /// Whether `provider` can be called through this slot: its parameters and return are of
    /// the declared kinds, in order (names aside), and it binds no resource.
    pub fn matches(&self, provider: &super::FnDesc) -> bool {
        self.ret == *provider.ret()
            && self.params.len() == provider.params().len()
            && self
                .params
                .iter()
                .zip(provider.params())
                .all(|(a, b)| a.kind() == b.kind())
    }

    /// Points the slot at `entry`, the direct entry of a function that [`matches`](Self::matches)
    /// this declaration.
    ///
    /// # Safety
    /// `entry` is the direct entry of a function for which `matches` is true, and its image
    /// stays mapped until the slot is bound again or cut. No call through this slot runs
    /// meanwhile (the host binds at the commit of a reload).
    pub unsafe fn bind(&self, entry: ErasedFn) {
        self.entry.store(entry as *mut (), Ordering::Release);
        self.status.store(BOUND, Ordering::Release);
    }

    /// Empties the slot: calls return [`ImportError::NotLoaded`] (`removed: None`),
    /// [`ImportError::Removed`] (`Some(false)`) or [`ImportError::Changed`] (`Some(true)`).
    pub fn cut(&self, removed: Option<bool>) {
        let status = match removed {
            None => UNBOUND,
            Some(false) => REMOVED,
            Some(true) => CHANGED,
        };
        self.entry.store(core::ptr::null_mut(), Ordering::Release);
        self.status.store(status, Ordering::Release);
    }

    /// Whether the slot holds a provider's code.
    pub fn is_bound(&self) -> bool {
        !self.entry.load(Ordering::Acquire).is_null()
    }

    /// The entry to call, null when the slot is empty (then [`unbound`](Self::unbound) says
    /// why). For the code `import!` generates: a non-null entry was stored by
    /// [`bind`](Self::bind) from an [`ErasedFn`].
    #[doc(hidden)]
    #[inline(always)]
    pub fn raw_entry(&self) -> *mut () {
        self.entry.load(Ordering::Acquire)
    }

    /// Why the slot is empty. For generated code, after [`raw_entry`](Self::raw_entry) was
    /// null. Built inline from what is read out of line (the status, in a `#[cold]` function):
    /// the error's fields are plain stores into the caller's `Result`, which the optimizer
    /// keeps apart from the hot path, where a `Result` written by an out-of-line constructor
    /// would be re-examined after every call (see `BENCHMARKS.md`, "A call across plugins").
    #[doc(hidden)]
    #[inline(always)]
    pub fn unbound(&self) -> ImportError {
        let (plugin, function) = (self.from, self.name);
        match self.status() {
            REMOVED => ImportError::Removed { plugin, function },
            CHANGED => ImportError::Changed { plugin, function },
            _ => ImportError::NotLoaded { plugin, function },
        }
    }

    #[cold]
    #[inline(never)]
    fn status(&self) -> u8 {
        self.status.load(Ordering::Acquire)
    }

    /// The error of a call whose provider panicked with `message`. For generated code; built
    /// inline, as [`unbound`](Self::unbound) is.
    #[doc(hidden)]
    #[inline(always)]
    pub fn panicked(&self, message: ForeignString) -> ImportError {
        ImportError::Panicked {
            plugin: self.from,
            function: self.name,
            message: panic_message(message),
        }
    }
}

/// The provider's panic message, in this image's memory (out of the hot path).
#[cold]
#[inline(never)]
fn panic_message(message: ForeignString) -> String {
    message.into_string()
}

/// What `import!` submits to `inventory`.
#[derive(Debug)]
pub struct ImportRegistration(pub &'static ImportDesc);

inventory::collect!(ImportRegistration);

/// The `const fn` constructor of [`ImportDesc`], for the code `import!` generates.
#[doc(hidden)]
pub const fn import_desc(
    from: &'static str,
    name: &'static str,
    module: &'static str,
    params: &'static [ParamDesc],
    ret: ValueKind,
) -> ImportDesc {
    ImportDesc {
        from,
        name,
        module,
        params,
        ret,
        entry: AtomicPtr::new(core::ptr::null_mut()),
        status: AtomicU8::new(UNBOUND),
    }
}

/// The types an imported function takes: primitives, `&str`, and references to types of a
/// crate both plugins depend on (passed as they are, checked like host objects).
#[diagnostic::on_unimplemented(
    message = "an imported function cannot take a `{Self}`",
    note = "imports take primitives, `&str`, and `&T`/`&mut T` of a type both plugins take from one shared crate; they never bind a resource: call a function of the plugin that owns it"
)]
pub trait ImportParam {
    const KIND: ValueKind;
}

/// The types an imported function returns: primitives and `()` (nothing allocated by one
/// image crosses to another).
#[diagnostic::on_unimplemented(
    message = "an imported function cannot return a `{Self}`",
    note = "imports return primitives or `()`"
)]
pub trait ImportRet: HotValue {}

impl ImportRet for () {}

macro_rules! import_prims {
    ($($t:ty),* $(,)?) => {$(
        impl ImportParam for $t { const KIND: ValueKind = <$t as HotValue>::KIND; }
        impl ImportRet for $t {}
    )*};
}

import_prims!(
    bool, char, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);

impl ImportParam for &str {
    const KIND: ValueKind = ValueKind::Str;
}

impl<T: HostObject> ImportParam for &T {
    const KIND: ValueKind = ValueKind::Host {
        ty: HostTypeLink::new(T::host_type),
        mutable: false,
    };
}

impl<T: HostObject> ImportParam for &mut T {
    const KIND: ValueKind = ValueKind::Host {
        ty: HostTypeLink::new(T::host_type),
        mutable: true,
    };
}

/// Declares functions this plugin calls in another plugin (see [the module docs](crate::plugin::imports)):
///
/// ```ignore
/// coo_runtime::import! {
///     from physics {
///         fn step(x: u64) -> u64;
///     }
/// }
/// ```
///
/// generates a module `physics` (private to where it is written) with
/// `fn step(x: u64) -> Result<u64, ImportError>`, which calls the function `step` of the plugin
/// `physics` through an import slot that the host fills.
#[macro_export]
macro_rules! import {
    ($(from $from:ident {
        $(fn $name:ident ( $($param:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)? ;)*
    })*) => {$(
        #[allow(dead_code)]
        mod $from {
            #[allow(unused_imports)]
            use super::*;
            $(
                pub(crate) fn $name(
                    $($param: $ty),*
                ) -> ::core::result::Result<$crate::__import_ret!($($ret)?), $crate::plugin::imports::ImportError> {
                    type __CooRet = $crate::__import_ret!($($ret)?);
                    static __COO_IMPORT: $crate::plugin::imports::ImportDesc =
                        $crate::plugin::imports::import_desc(
                            ::core::stringify!($from),
                            ::core::stringify!($name),
                            ::core::module_path!(),
                            &[$($crate::__private::param_desc(
                                ::core::stringify!($param),
                                <$ty as $crate::plugin::imports::ImportParam>::KIND,
                            )),*],
                            <__CooRet as $crate::__private::HotValue>::KIND,
                        );
                    $crate::__private::inventory::submit! {
                        $crate::plugin::imports::ImportRegistration(&__COO_IMPORT)
                    }
                    fn __coo_ret_is_importable<R: $crate::plugin::imports::ImportRet>() {}
                    __coo_ret_is_importable::<__CooRet>();
                    let __coo_entry = __COO_IMPORT.raw_entry();
                    if __coo_entry.is_null() {
                        return ::core::result::Result::Err(__COO_IMPORT.unbound());
                    }
                    // SAFETY: a non-null entry was stored by `ImportDesc::bind` from an
                    // `ErasedFn`, and only the type is erased: the host binds the slot only to
                    // the direct entry of a function whose descriptor matches this declaration
                    // (`ImportDesc::matches`), whose type is this one (`ErasedFn`'s contract),
                    // and keeps its image mapped while the slot points into it.
                    let __coo_fn = unsafe {
                        ::core::mem::transmute::<
                            *mut (),
                            unsafe fn(
                                *const ::core::sync::atomic::AtomicPtr<u8>,
                                $($ty,)*
                                *mut $crate::__private::ForeignString,
                            ) -> ::core::option::Option<__CooRet>,
                        >(__coo_entry)
                    };
                    let mut __coo_panic =
                        ::core::mem::MaybeUninit::<$crate::__private::ForeignString>::uninit();
                    // SAFETY: `ErasedFn`'s contract: the arguments are of the descriptor's
                    // types, the provider binds no resource (a function that does never
                    // matches), so its resource array is never read, and `__coo_panic` has
                    // room for the message. Its image is mapped (above).
                    match unsafe {
                        __coo_fn(
                            ::core::ptr::NonNull::dangling().as_ptr(),
                            $($param,)*
                            __coo_panic.as_mut_ptr(),
                        )
                    } {
                        ::core::option::Option::Some(__coo_value) => ::core::result::Result::Ok(__coo_value),
                        // SAFETY: the direct entry wrote the message before returning `None`.
                        ::core::option::Option::None => ::core::result::Result::Err(
                            __COO_IMPORT.panicked(unsafe { __coo_panic.assume_init() }),
                        ),
                    }
                }
            )*
        }
    )*};
}

/// The return type of an `import!` declaration: `()` when it names none.
#[doc(hidden)]
#[macro_export]
macro_rules! __import_ret {
    () => {
        ()
    };
    ($ret:ty) => {
        $ret
    };
}
