//! The plugin boundary: the header every library that links `coo-runtime` exports, the manifest
//! of its types and hot functions, and the calling convention of hot-function shims.
//!
//! A plugin needs no export boilerplate: [`coo_plugin_header`] is a `#[no_mangle]` function of
//! this crate, so every cdylib that links `coo-runtime` exports it. The host reads the
//! `#[repr(C)]` header first (magic, ABI version, ABI fingerprint, compiler and runtime versions,
//! panic strategy) and trusts nothing else of the library until it matches; only then does it
//! call `manifest`, whose Rust types are laid out identically in host and plugin because both
//! were built by the same compiler from the same sources of `coo-runtime` (the fingerprint, a
//! hash of those sources, tells; the version number alone does not).

pub mod image;
pub mod logs;
pub mod panics;

use std::sync::OnceLock;

use crate::descriptors::layout::{Prim, TypeDesc};
use crate::descriptors::registry::TypeRegistration;

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

/// A string with a C layout, readable before anything else is trusted.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct StrRef {
    pub ptr: *const u8,
    pub len: usize,
}

impl StrRef {
    pub const fn new(s: &'static str) -> StrRef {
        StrRef {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// The string, lossily decoded.
    ///
    /// # Safety
    /// `ptr[..len]` is readable for `'a`.
    pub unsafe fn read<'a>(self) -> std::borrow::Cow<'a, str> {
        // SAFETY: the caller's contract.
        String::from_utf8_lossy(unsafe { core::slice::from_raw_parts(self.ptr, self.len) })
    }
}

/// A string handed from one image (the host or one plugin build) to another.
///
/// Every image has its own global allocator (a host may set `#[global_allocator]`), so memory
/// must be freed by the image that allocated it. A `ForeignString` keeps the allocation of the
/// image that made it together with that image's own function to free it: the receiver reads
/// it, copies it into its own memory ([`ForeignString::into_string`]) and the original is freed
/// by its owner when the `ForeignString` drops.
#[repr(C)]
#[derive(Debug)]
pub struct ForeignString {
    ptr: *mut u8,
    len: usize,
    cap: usize,
    free: unsafe extern "C" fn(ptr: *mut u8, len: usize, cap: usize),
}

/// Frees the parts of a `String` allocated by this image.
///
/// # Safety
/// `ptr`, `len` and `cap` are the parts of a `String` allocated by this image, not used again.
unsafe extern "C" fn free_string(ptr: *mut u8, len: usize, cap: usize) {
    // SAFETY: the caller's contract: the parts of a `String`'s bytes (a `Vec<u8>`) of this
    // image's allocator, which `ForeignString::new` took apart and nothing else owns.
    drop(unsafe { Vec::from_raw_parts(ptr, len, cap) })
}

impl ForeignString {
    /// Hands `s` over; it will be freed by this image, whichever image drops the result.
    pub fn new(s: String) -> ForeignString {
        // `Vec::as_mut_ptr`, not `str::as_mut_ptr` through `DerefMut`: a pointer valid for the
        // whole allocation, which `free_string` frees.
        let mut bytes = core::mem::ManuallyDrop::new(s.into_bytes());
        ForeignString {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
            cap: bytes.capacity(),
            // A non-generic function of this crate: the copy in the image running this code,
            // whose allocator allocated `s`.
            free: free_string,
        }
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: `ptr[..len]` are the bytes of the `String` taken apart in `new`, valid UTF-8,
        // owned by `self` and freed only when it drops.
        unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(self.ptr, self.len)) }
    }

    /// A copy in this image's memory; the original is freed by the image that allocated it.
    pub fn into_string(self) -> String {
        self.as_str().to_owned()
    }
}

impl Drop for ForeignString {
    fn drop(&mut self) {
        // SAFETY: the parts come from `new`, where `free` is the function of the image that
        // allocated them, and they are freed only here, once.
        unsafe { (self.free)(self.ptr, self.len, self.cap) }
    }
}

impl core::fmt::Display for ForeignString {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// Sends the reports of this build's drop glue (a `Drop` impl that panicked) to `sink`,
    /// a function of the host: see [`crate::plugin::panics`].
    set_drop_sink: fn(crate::plugin::panics::DropSink),
    /// Sends this build's `log` records to `sink`, a function of the host, up to a level: see
    /// [`crate::plugin::logs`].
    set_log_sink: fn(crate::plugin::logs::LogSink, usize),
}

impl Manifest {
    /// The build's types, by stable name.
    pub fn types(&self) -> &[&TypeDesc] {
        &self.types
    }

    /// The build's hot functions, by path.
    pub fn fns(&self) -> &[&FnDesc] {
        &self.fns
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

    /// The manifest of this statically linked build (what `inventory` collected in it).
    pub fn of_this_build() -> &'static Manifest {
        static MANIFEST: OnceLock<Manifest> = OnceLock::new();
        MANIFEST.get_or_init(|| {
            let mut types: Vec<_> = inventory::iter::<TypeRegistration>
                .into_iter()
                .map(|r| (r.0)())
                .collect();
            types.sort_by_key(|d| d.name);
            let mut fns: Vec<_> = inventory::iter::<FnRegistration>
                .into_iter()
                .map(|r| r.0)
                .collect();
            fns.sort_by_key(|f| f.path());
            Manifest {
                types,
                fns,
                set_drop_sink: crate::plugin::panics::set_drop_sink,
                set_log_sink: crate::plugin::logs::set_log_sink,
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

/// How a parameter or return value crosses the shim boundary.
#[derive(Debug, Clone, Copy)]
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
    Ref(fn() -> &'static TypeDesc),
    /// `&mut T`: the argument slot points to the live resource of `T`.
    RefMut(fn() -> &'static TypeDesc),
    /// A `CooType` value; a returned one becomes the resource of its type.
    Value(fn() -> &'static TypeDesc),
    /// `#[host] x: &T` or `#[host] x: &mut T`: an object of the host's, passed through as the
    /// reference it is (a thin pointer, or a fat one for a trait object), never copied. The
    /// argument slot points to the reference. Only typed handles pass them (see
    /// [`HostObject`]).
    Host { ty: fn() -> HostType, mutable: bool },
}

impl ValueKind {
    /// Rust-like text of the type: `&mut World`, `u32`, `&str`.
    pub fn text(&self) -> String {
        match self {
            ValueKind::Unit => "()".to_owned(),
            ValueKind::Prim(p) => p.name().to_owned(),
            ValueKind::String => "String".to_owned(),
            ValueKind::Str => "&str".to_owned(),
            ValueKind::Ref(d) => format!("&{}", d().name),
            ValueKind::RefMut(d) => format!("&mut {}", d().name),
            ValueKind::Value(d) => d().name.to_owned(),
            ValueKind::Host { ty, mutable: true } => format!("&mut {}", ty().name),
            ValueKind::Host { ty, mutable: false } => format!("&{}", ty().name),
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
                m == n && a() == b()
            }
            (ValueKind::Host { .. }, _) | (_, ValueKind::Host { .. }) => false,
            _ => self.text() == other.text(),
        }
    }
}

/// The identity of a host object's type as the build that names it sees it: its name
/// (`core::any::type_name`) and, for a sized type, its size and alignment. Host and plugin each
/// compute their own; a typed handle is resolved only when they are equal, and a reload whose
/// plugin sees a type the host knows with another layout is refused. A trait object's identity
/// is the trait's name (`dyn shared::Shape`).
///
/// What it cannot see: a change that keeps the name, the size and the alignment (two fields of
/// one size swapped, a trait's methods changed). The crate that defines host object types is
/// compiled into the host binary once: edit it only with the host stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostType {
    name: &'static str,
    /// `(size, align)`; `None` for a trait object.
    layout: Option<(usize, usize)>,
}

impl HostType {
    /// The identity of the sized type `T`.
    pub fn of<T>() -> HostType {
        HostType {
            name: core::any::type_name::<T>(),
            layout: Some((core::mem::size_of::<T>(), core::mem::align_of::<T>())),
        }
    }

    /// The identity of the trait object type `T` (`dyn Trait`): its name.
    pub fn object<T: ?Sized>() -> HostType {
        HostType {
            name: core::any::type_name::<T>(),
            layout: None,
        }
    }

    /// The type's name: `shared::Canvas`, `alloc::vec::Vec<alloc::string::String>`,
    /// `dyn shared::Shape`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `(size, align)` of a sized type; `None` for a trait object.
    pub fn layout(&self) -> Option<(usize, usize)> {
        self.layout
    }
}

impl core::fmt::Display for HostType {
    /// `` `shared::Canvas` (24 bytes, align 8) ``, `` `dyn shared::Shape` (a trait object) ``.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.layout {
            Some((size, align)) => write!(f, "`{}` ({size} bytes, align {align})", self.name),
            None => write!(f, "`{}` (a trait object)", self.name),
        }
    }
}

/// The types a hot function can take as a host object (`#[host] x: &T`, `#[host] x: &mut T`):
/// every sized type, and the trait objects named with [`host_trait!`](crate::host_trait) in the
/// crate that defines the trait (a few of `std`'s are named here).
///
/// Such a type must be defined in a crate that the host and the plugin both depend on (or in
/// `std`): the plugin's copy of it must be the host's. See [`HostType`] for what is checked.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a host object type",
    label = "a hot function cannot take this as a host object",
    note = "for a trait object, write `coo_runtime::host_trait!({Self});` in the crate that defines the trait"
)]
pub trait HostObject: 'static {
    /// The type's identity in this build.
    fn host_type() -> HostType;
}

impl<T: 'static> HostObject for T {
    fn host_type() -> HostType {
        HostType::of::<T>()
    }
}

/// Makes a trait object type a host object type, so that hot functions can take it as
/// `#[host] x: &dyn Trait` or `&mut dyn Trait`, and typed handles pass it:
/// `coo_runtime::host_trait!(dyn Shape);`, in the crate that defines `Shape`.
#[macro_export]
macro_rules! host_trait {
    ($($object:tt)+) => {
        impl $crate::plugin::HostObject for $($object)+ {
            fn host_type() -> $crate::plugin::HostType {
                $crate::plugin::HostType::object::<$($object)+>()
            }
        }
    };
}

host_trait!(dyn core::fmt::Write);
host_trait!(dyn std::io::Write);
host_trait!(dyn core::any::Any);

#[derive(Debug)]
pub struct ParamDesc {
    pub name: &'static str,
    pub kind: ValueKind,
}

/// A hot function's shim: calls the function with the arguments behind `args` (one pointer per
/// parameter, see [`ValueKind`]), writes the result to `ret` (room for the return type, see
/// [`HotValue::put_ret`]) and returns `true`; or, when the function panicked, writes the panic
/// message as a [`ForeignString`] to `panic` and returns `false`. The panic is caught inside the
/// plugin, by the plugin's own `std`: a host's `catch_unwind` cannot catch a panic raised by
/// another copy of `std`. Every by-value argument is the shim's once it is called: it is
/// dropped exactly once, by the plugin, whether or not the function runs.
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
/// aliasing a `&mut` resource (the shim's alias checks are not repeated).
pub type ErasedFn = unsafe fn();

/// A function slot: what `#[hot_fn]` registers.
#[derive(Debug)]
pub struct FnDesc {
    /// `module_path!()` where the function is defined (`demo_plugin::sim`).
    pub module: &'static str,
    /// The function's name in its module: `tick`, or `World::step` for a method.
    pub name: &'static str,
    pub params: &'static [ParamDesc],
    pub ret: ValueKind,
    pub shim: Shim,
    /// The direct entry (see [`ErasedFn`]).
    pub direct: ErasedFn,
    /// Whether the type of every `&T` parameter is `Sync` (in the plugin's build), so that
    /// calls sharing one resource may run on several threads at once. A function with a
    /// `&mut T` parameter never runs on two threads at once, whatever this says.
    pub refs_sync: bool,
}

impl FnDesc {
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
        match self.ret {
            ValueKind::Unit => format!("fn({})", params.join(", ")),
            ret => format!("fn({}) -> {}", params.join(", "), ret.text()),
        }
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
    const KIND: ValueKind = ValueKind::Value(T::desc);
}
