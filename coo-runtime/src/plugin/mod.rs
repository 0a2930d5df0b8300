//! The plugin boundary: the header every library that links `coo-runtime` exports, the manifest
//! of its types, hot functions and imports (calls into other plugins: [`imports`]), and the
//! calling convention of hot-function shims.
//!
//! A plugin needs no export boilerplate: [`coo_plugin_header`] is a `#[no_mangle]` function of
//! this crate, so every cdylib that links `coo-runtime` exports it. The host reads the
//! `#[repr(C)]` header first (magic, ABI version, ABI fingerprint, compiler and runtime versions,
//! panic strategy) and trusts nothing else of the library until it matches; only then does it
//! call `manifest`, whose Rust types are laid out identically in host and plugin because both
//! were built by the same compiler from the same sources of `coo-runtime` (the fingerprint, a
//! hash of those sources, tells; the version number alone does not).

mod host_object;
pub mod image;
pub mod imports;
pub mod logs;
pub mod panics;
pub mod raise;
mod strings;
mod values;

use std::sync::OnceLock;

use crate::descriptors::layout::{Prim, TypeDesc, TypeLink};
use crate::descriptors::registry::TypeRegistration;
pub use crate::plugin::host_object::{HostObject, HostType, HostTypeLink};
pub use crate::plugin::strings::{ForeignString, StrRef};
pub use crate::plugin::values::HotValue;

/// The first bytes of every Coo plugin header.
pub const MAGIC: [u8; 8] = *b"COOPLUG\0";

/// Bumped whenever the layout of [`PluginHeader`] changes. Changes of the descriptors, the
/// manifest or the shim convention change [`ABI_FINGERPRINT`] by themselves.
pub const ABI_VERSION: u32 = 2;

/// A hash of the sources of this copy of `coo-runtime` (and of `coo-derive`, when it sits next
/// to it), computed by the build script: equal fingerprints mean the types that cross the plugin
/// boundary were compiled from the same definitions. Any edit changes it, even a comment's.
pub const ABI_FINGERPRINT: [u8; 16] = abi_fingerprint::ABI_FINGERPRINT;

mod abi_fingerprint {
    include!(concat!(env!("OUT_DIR"), "/abi_fingerprint.rs"));
}

/// The compiler that built this copy of `coo-runtime` (`rustc -V`).
pub const RUSTC_VERSION: &str = env!("COO_RUSTC_VERSION");

/// This copy of `coo-runtime`'s version.
pub const RUNTIME_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The panic strategy this copy of `coo-runtime` was compiled with, which is the one of the
/// whole build that links it (a profile's `panic` applies to every crate): `"unwind"` or
/// `"abort"`. A plugin must unwind: its shims catch panics and return them as errors, and under
/// `"abort"` every panic would abort the host instead.
pub const PANIC_STRATEGY: &str = if cfg!(panic = "unwind") {
    "unwind"
} else if cfg!(panic = "abort") {
    "abort"
} else {
    "unknown"
};

/// The header a plugin exports through [`coo_plugin_header`].
///
/// Every header of ABI version 2 and later starts with `magic`, `abi_version` and
/// `fingerprint`, plain bytes at fixed offsets: a host reads those three before anything else,
/// and dereferences nothing (not even the strings below) until they match its own.
#[repr(C)]
#[derive(Debug)]
pub struct PluginHeader {
    pub magic: [u8; 8],
    pub abi_version: u32,
    /// [`ABI_FINGERPRINT`] of the `coo-runtime` the plugin was built with.
    pub fingerprint: [u8; 16],
    pub rustc_version: StrRef,
    pub runtime_version: StrRef,
    /// [`PANIC_STRATEGY`] of the plugin's build.
    pub panic_strategy: StrRef,
    /// The library's manifest, built on first call. Only call it once the fields above match.
    pub manifest: extern "C" fn() -> *const Manifest,
}

// SAFETY: the header is immutable and its pointers refer to `'static` string data.
unsafe impl Sync for PluginHeader {}

static HEADER: PluginHeader = PluginHeader {
    magic: MAGIC,
    abi_version: ABI_VERSION,
    fingerprint: ABI_FINGERPRINT,
    rustc_version: StrRef::new(RUSTC_VERSION),
    runtime_version: StrRef::new(RUNTIME_VERSION),
    panic_strategy: StrRef::new(PANIC_STRATEGY),
    manifest: manifest_of_this_build,
};

/// The symbol the host looks up in a plugin library.
pub const HEADER_SYMBOL: &[u8] = b"coo_plugin_header";

/// Exported from every cdylib that links `coo-runtime`: the plugin's header.
#[unsafe(no_mangle)]
pub extern "C" fn coo_plugin_header() -> *const PluginHeader {
    &HEADER
}

/// Everything a build registered: its types and its hot functions.
///
/// The manifest and what it points to live in the image of the build that made it; the
/// accessors borrow `self`, so nothing read from it outlives the reference the host holds
/// together with the image's guard.
#[derive(Debug)]
pub struct Manifest {
    /// `'static` in name only, like `fns` and `set_drop_sink`: valid while the image lives.
    types: Vec<&'static TypeDesc>,
    fns: Vec<&'static FnDesc>,
    /// The alternative implementations (`#[hot_fn(alt_of = "...")]`), not in `fns`: each is
    /// called through the slot of the function it is an alternative of, when chosen.
    alternatives: Vec<&'static FnDesc>,
    /// What the build calls in other plugins (`import!`): one slot each, in this image.
    imports: Vec<&'static imports::ImportDesc>,
    /// Sends the reports of this build's drop glue (a `Drop` impl that panicked) to `sink`,
    /// a function of the host: see [`crate::plugin::panics`].
    set_drop_sink: fn(crate::plugin::panics::DropSink),
    /// Sends this build's `log` records to `sink`, a function of the host, up to a level: see
    /// [`crate::plugin::logs`].
    set_log_sink: fn(crate::plugin::logs::LogSink, usize),
    /// Makes this build's raising entries unwind through `hook`, a function of the host: see
    /// [`crate::plugin::raise`].
    set_raise_hook: fn(crate::plugin::raise::RaiseHook),
}

impl Manifest {
    /// The build's types, by stable name.
    pub fn types(&self) -> &[&TypeDesc] {
        &self.types
    }

    /// The build's hot functions, by path (their alternatives aside: see
    /// [`Manifest::alternatives`]).
    pub fn fns(&self) -> &[&FnDesc] {
        &self.fns
    }

    /// The build's alternative implementations of its hot functions
    /// (`#[hot_fn(alt_of = "change", name = "plus10")]`), sorted by the function they are an
    /// alternative of ([`FnDesc::alternative_of`]), then by name.
    pub fn alternatives(&self) -> &[&FnDesc] {
        &self.alternatives
    }

    /// The functions this build calls in other plugins ([`imports`]), by provider and name.
    pub fn imports(&self) -> &[&imports::ImportDesc] {
        &self.imports
    }

    /// Sends the reports of this build's drop glue (a `Drop` impl that panicked) to `sink`, a
    /// function of the host: see [`crate::plugin::panics`].
    pub fn set_drop_sink(&self, sink: crate::plugin::panics::DropSink) {
        (self.set_drop_sink)(sink)
    }

    /// Sends the records this build logs through the `log` facade to `sink`, a function of the
    /// host, from now on, up to `max_level` (`log::LevelFilter as usize`): see
    /// [`crate::plugin::logs`].
    pub fn set_log_sink(&self, sink: crate::plugin::logs::LogSink, max_level: usize) {
        (self.set_log_sink)(sink, max_level)
    }

    /// Makes this build's raising entries ([`FnDesc::raising`]) report panics through `hook`,
    /// a function of the host that unwinds with the host's `std`: see [`crate::plugin::raise`].
    /// A host installs it before it calls any raising entry of the build.
    pub fn set_raise_hook(&self, hook: crate::plugin::raise::RaiseHook) {
        (self.set_raise_hook)(hook)
    }

    /// The manifest of this statically linked build (what `inventory` collected in it).
    pub fn of_this_build() -> &'static Manifest {
        static MANIFEST: OnceLock<Manifest> = OnceLock::new();
        MANIFEST.get_or_init(|| {
            let mut types: Vec<_> = inventory::iter::<TypeRegistration>
                .into_iter()
                .map(|r| (r.0)())
                .collect();
            types.sort_by_key(|d| d.name());
            let (mut alternatives, mut fns): (Vec<_>, Vec<_>) = inventory::iter::<FnRegistration>
                .into_iter()
                .map(|r| r.0)
                .partition(|f| f.alt_of.is_some());
            fns.sort_by_key(|f| f.path());
            alternatives.sort_by_key(|f| (f.alternative_of(), f.alternative_name().to_owned()));
            let mut imports: Vec<_> = inventory::iter::<imports::ImportRegistration>
                .into_iter()
                .map(|r| r.0)
                .collect();
            imports.sort_by_key(|i| (i.from(), i.name(), i.module()));
            Manifest {
                types,
                fns,
                alternatives,
                imports,
                set_drop_sink: crate::plugin::panics::set_drop_sink,
                set_log_sink: crate::plugin::logs::set_log_sink,
                set_raise_hook: crate::plugin::raise::set_raise_hook,
            }
        })
    }
}

extern "C" fn manifest_of_this_build() -> *const Manifest {
    Manifest::of_this_build()
}

/// What `#[hot_fn]` submits to `inventory`.
#[derive(Debug)]
pub struct FnRegistration(pub &'static FnDesc);

inventory::collect!(FnRegistration);

/// How a parameter or return value crosses the shim boundary. The descriptors of `Ref`,
/// `RefMut` and `Value` are [`TypeLink`]s, read through a borrow of the kind.
#[derive(Debug)]
pub enum ValueKind {
    /// `()` (returns only).
    Unit,
    /// The argument slot points to the primitive; a return is written as the primitive.
    Prim(Prim),
    /// An owned `String`. Its memory never crosses: an argument slot points to a [`StrRef`]
    /// whose bytes the plugin copies, and a return slot receives a [`ForeignString`].
    String,
    /// `&str`: the argument slot points to a [`StrRef`].
    Str,
    /// `&T`: the argument slot points to the live resource of `T`.
    Ref(TypeLink),
    /// `&mut T`: the argument slot points to the live resource of `T`.
    RefMut(TypeLink),
    /// A `CooType` value; a returned one becomes the resource of its type.
    Value(TypeLink),
    /// `#[host] x: &T` or `#[host] x: &mut T`: an object of the host's, passed through as the
    /// reference it is (a thin pointer, or a fat one for a trait object), never copied. The
    /// argument slot points to the reference. Only typed handles pass them (see
    /// [`HostObject`]).
    Host { ty: HostTypeLink, mutable: bool },
}

impl ValueKind {
    /// Rust-like text of the type: `&mut World`, `u32`, `&str`.
    pub fn text(&self) -> String {
        match self {
            ValueKind::Unit => "()".to_owned(),
            ValueKind::Prim(p) => p.name().to_owned(),
            ValueKind::String => "String".to_owned(),
            ValueKind::Str => "&str".to_owned(),
            ValueKind::Ref(d) => format!("&{}", d.get().name()),
            ValueKind::RefMut(d) => format!("&mut {}", d.get().name()),
            ValueKind::Value(d) => d.get().name().to_owned(),
            ValueKind::Host { ty, mutable: true } => format!("&mut {}", ty.get().name()),
            ValueKind::Host { ty, mutable: false } => format!("&{}", ty.get().name()),
        }
    }
}

impl PartialEq for ValueKind {
    /// Kinds are equal when they name the same primitive or the same type by stable name (the
    /// descriptors of two library versions are different objects); host objects when their
    /// types have the same identity ([`HostType`]: name, size and align), borrowed alike.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ValueKind::Host { ty: a, mutable: m }, ValueKind::Host { ty: b, mutable: n }) => {
                m == n && a.get() == b.get()
            }
            (ValueKind::Host { .. }, _) | (_, ValueKind::Host { .. }) => false,
            _ => self.text() == other.text(),
        }
    }
}

/// One parameter of a hot function.
#[derive(Debug)]
pub struct ParamDesc {
    name: &'static str,
    kind: ValueKind,
}

impl ParamDesc {
    pub const fn name(&self) -> &str {
        self.name
    }

    pub const fn kind(&self) -> &ValueKind {
        &self.kind
    }
}

/// A hot function's shim: calls the function with the arguments behind `args` (one pointer per
/// parameter, see [`ValueKind`]), writes the result to `ret` (room for the return type, see
/// [`HotValue::put_ret`]) and returns `true`; or, when the function panicked, writes the panic
/// message as a [`ForeignString`] to `panic` and returns `false`. The panic is caught inside the
/// plugin, by the plugin's own `std`: a host's `catch_unwind` cannot catch a panic raised by
/// another copy of `std`. Every by-value argument is the shim's once it is called: it is
/// dropped exactly once, by the plugin, whether or not the function runs. Calling it is
/// `unsafe`: besides the slots' contents above, the image that defined it must still be mapped
/// (hold the guard of the container the [`FnDesc`] came from).
pub type Shim = unsafe extern "C-unwind" fn(
    args: *const *mut u8,
    ret: *mut u8,
    panic: *mut ForeignString,
) -> bool;

/// A hot function's *direct entry*, its type erased: called by the host's typed handles after
/// transmuting it back to
/// `unsafe fn(resources: *const AtomicPtr<u8>, v0: T0, .., vn: Tn, panic: *mut ForeignString) -> Option<R>`
/// (the Rust ABI, which host and plugin share: the header check guarantees one compiler), where
/// `v0..vn` are the parameters that are not resources (values and host objects: a host object
/// is the reference itself), in order, of their own types, `R` is the
/// return type (`()` included), and `resources` points to one pointer per `&T`/`&mut T`
/// parameter, in order, each to the live resource (read atomically, `Relaxed`: the host may
/// hand out the cache of a handle that other threads refresh with the same addresses). It
/// returns the function's value; when the function panicked it writes the message to `panic`
/// (caught inside the plugin, as by the [`Shim`]) and returns `None`. Unlike the shim it takes
/// the arguments and returns the value in registers, so a call of a trivial function costs
/// about what a function pointer call costs: `Option<R>` of a small `R` comes back in two
/// registers, and for a body that cannot panic the `catch_unwind` around it compiles to
/// nothing. Only ever called with the types of the function's descriptor, and without
/// aliasing a `&mut` resource (the shim's alias checks are not repeated), while the image that
/// defined it is mapped.
///
/// The *raising entry* ([`FnDesc::raising`]) is erased to the same type, and transmuted back
/// to `unsafe fn(resources: *const AtomicPtr<u8>, v0: T0, .., vn: Tn) -> R`: the same call
/// without `panic`, returning the value itself. When the function panicked, it reports the
/// message by unwinding with the host's `std` through the hook the host installed
/// ([`crate::plugin::raise`]): the host calls it inside a `catch_unwind` of its own, and a
/// call that does not panic tests nothing.
pub type ErasedFn = unsafe fn();

/// A function slot: what `#[hot_fn]` registers.
#[derive(Debug)]
pub struct FnDesc {
    module: &'static str,
    name: &'static str,
    params: &'static [ParamDesc],
    ret: ValueKind,
    shim: Shim,
    direct: ErasedFn,
    raising: ErasedFn,
    refs_sync: bool,
    /// For an alternative implementation: the name of the function (in the same module) it is
    /// an alternative of.
    alt_of: Option<&'static str>,
    /// The name it is chosen by: `name = "..."` of `#[hot_fn]`, or the function's name.
    alt_name: &'static str,
}

impl FnDesc {
    /// `module_path!()` where the function is defined (`demo_plugin::sim`).
    pub const fn module(&self) -> &str {
        self.module
    }

    /// The function's name in its module: `tick`, or `World::step` for a method.
    pub const fn name(&self) -> &str {
        self.name
    }

    pub const fn params(&self) -> &[ParamDesc] {
        self.params
    }

    pub const fn ret(&self) -> &ValueKind {
        &self.ret
    }

    /// The shim (see [`Shim`]: calling it is `unsafe`, and its contract includes that the image
    /// that defined it is still mapped).
    pub const fn shim(&self) -> Shim {
        self.shim
    }

    /// The direct entry (see [`ErasedFn`]: calling it is `unsafe`, and its contract includes
    /// that the image that defined it is still mapped).
    pub const fn direct(&self) -> ErasedFn {
        self.direct
    }

    /// The raising entry: the direct entry's convention without the panic flag (see
    /// [`ErasedFn`] and [`crate::plugin::raise`]). Calling it is `unsafe`, with the direct
    /// entry's contract, and the host must have installed its hook in the image
    /// ([`Manifest::set_raise_hook`]) and call it inside a `catch_unwind` of its own `std`.
    pub const fn raising(&self) -> ErasedFn {
        self.raising
    }

    /// Whether the type of every `&T` parameter is `Sync` (in the plugin's build), so that
    /// calls sharing one resource may run on several threads at once. A function with a
    /// `&mut T` parameter never runs on two threads at once, whatever this says.
    pub const fn refs_sync(&self) -> bool {
        self.refs_sync
    }

    /// Stable identity across versions: the path within the crate (`tick`, `sim::tick`,
    /// `World::step`), i.e. the module path without the crate name, then the name.
    pub fn path(&self) -> String {
        match self.module.split_once("::") {
            Some((_crate, module)) => format!("{module}::{}", self.name),
            None => self.name.to_owned(),
        }
    }

    /// The signature as text: `fn(world: &mut World, dt: f32) -> u32`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.kind.text()))
            .collect();
        match &self.ret {
            ValueKind::Unit => format!("fn({})", params.join(", ")),
            ret => format!("fn({}) -> {}", params.join(", "), ret.text()),
        }
    }

    /// For an alternative implementation (`#[hot_fn(alt_of = "change")]`): the stable name of
    /// the function whose slot it may run in (`change`, `sim::change`: the function of that
    /// name in the same module). `None` for a hot function of its own.
    pub fn alternative_of(&self) -> Option<String> {
        let of = self.alt_of?;
        Some(match self.module.split_once("::") {
            Some((_crate, module)) => format!("{module}::{of}"),
            None => of.to_owned(),
        })
    }

    /// The name an implementation is chosen by among the alternatives of one slot: the
    /// `name = "..."` of its `#[hot_fn]`, or else its function's name (a slot's own function,
    /// too, is chosen by its name).
    pub fn alternative_name(&self) -> &str {
        self.alt_name
    }

    /// Whether two versions have the same signature (parameter names aside).
    pub fn same_signature(&self, other: &FnDesc) -> bool {
        self.ret == other.ret
            && self.params.len() == other.params.len()
            && self
                .params
                .iter()
                .zip(other.params)
                .all(|(a, b)| a.kind == b.kind)
    }
}

/// The `const fn` constructors of [`FnDesc`] and [`ParamDesc`], for the code `#[hot_fn]`
/// generates (through `coo_runtime::__private`). The fields are documented on the accessors.
pub(crate) mod construct {
    use super::{ErasedFn, FnDesc, ParamDesc, Shim, ValueKind};

    // One argument per field: generated code names each.
    #[allow(clippy::too_many_arguments)]
    pub const fn fn_desc(
        module: &'static str,
        name: &'static str,
        params: &'static [ParamDesc],
        ret: ValueKind,
        shim: Shim,
        direct: ErasedFn,
        raising: ErasedFn,
        refs_sync: bool,
        alt_of: Option<&'static str>,
        alt_name: &'static str,
    ) -> FnDesc {
        FnDesc {
            module,
            name,
            params,
            ret,
            shim,
            direct,
            raising,
            refs_sync,
            alt_of,
            alt_name,
        }
    }

    pub const fn param_desc(name: &'static str, kind: ValueKind) -> ParamDesc {
        ParamDesc { name, kind }
    }
}

/// Support for the `#[hot_fn]` shims: writes the result of a caught call, the value with `put`
/// (the return type's [`HotValue::put_ret`], named by the shim on the user's type so that a type
/// that cannot cross is reported there, once).
///
/// # Safety
/// `put` is [`HotValue::put_ret`] of `R`, `ret` has room for what it writes, and `panic` for a
/// [`ForeignString`].
pub unsafe fn finish_call<R>(
    result: Result<R, String>,
    put: unsafe fn(R, *mut u8),
    ret: *mut u8,
    panic: *mut ForeignString,
) -> bool {
    match result {
        Ok(value) => {
            // SAFETY: the caller's contract.
            unsafe { put(value, ret) };
            true
        }
        Err(message) => {
            // SAFETY: the caller's contract.
            unsafe { panic.write(ForeignString::new(message)) };
            false
        }
    }
}

/// The message of a panic payload (`&str` or `String`), or a placeholder for other payloads.
pub fn panic_message(payload: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Support for the `#[hot_fn]` direct entries (see [`ErasedFn`]): the value of a caught call, or
/// `None` after writing its panic message to `panic`.
///
/// # Safety
/// `panic` is valid for writes of a [`ForeignString`].
#[inline(always)]
pub unsafe fn finish_direct<R>(result: Result<R, String>, panic: *mut ForeignString) -> Option<R> {
    match result {
        Ok(value) => Some(value),
        Err(message) => {
            // SAFETY: the caller's contract.
            unsafe { write_panic(message, panic) };
            None
        }
    }
}

/// The panic path of [`finish_direct`], out of the direct entry's way.
///
/// # Safety
/// `panic` is valid for writes of a [`ForeignString`].
#[cold]
#[inline(never)]
unsafe fn write_panic(message: String, panic: *mut ForeignString) {
    // SAFETY: the caller's contract.
    unsafe { panic.write(ForeignString::new(message)) }
}
