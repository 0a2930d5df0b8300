//! Function slots: what a call goes through.
//!
//! A name is resolved once, by lookup, to a [`FnHandle`]: a shared [`Slot`] and the signature it
//! was resolved with. A call is then one atomic load of the slot's shim pointer and an indirect
//! call: no lock, no symbol lookup, no hashing. A reload stores new pointers into the slots. A
//! function that the new version removed gets a *tombstone* shim, which fails every call; a
//! function whose signature changed gets a new slot, and its old slot a tombstone, so handles
//! resolved against the old signature fail with [`CallErrorKind::SignatureChanged`] instead of
//! calling code with arguments of the wrong types. "Changed" includes a signature that reads
//! the same but takes or returns a `CooType` by value whose layout changed: a value built for
//! the old layout has the wrong size and offsets for the new code. So as long as a slot is live,
//! its code takes and returns by value exactly the layouts its handles were resolved with.
//!
//! Beside the shim, whose arguments go through an array of pointers, a slot holds the function's
//! *raising entry* (arguments and return value as they are, in registers; a panic re-raised
//! with the host's `std`, see [`coo_runtime::plugin::raise`]), which typed handles ([`HotFn`])
//! call, and its *direct entry* (the same, with the panic returned as a flag), which they call
//! in a host built with `panic = "abort"`. Once buried, the raising entry is a stub of the
//! host that unwinds with `Buried` and the direct entry is null, so for typed handles too one
//! atomic load gives what to call. A typed handle keeps the entries for one epoch of its host
//! (see [`typed`]): a reload, which alone changes slots, always starts a new epoch.
//!
//! # Keeping code mapped
//!
//! A slot keeps the [`ImageRef`] of the code it holds *beside* the shim pointer, under a mutex
//! the call path never touches: a call stays one atomic load and one indirect call. The guard
//! is swapped only by `Slot::update` and `Slot::bury`, which the host calls at the commit
//! of a reload, under `&mut Host`, so no call through the slot is in flight (the contract of
//! [`FnHandle::call_raw`]); the old image can then be unloaded once nothing else holds it (see
//! [`crate::load`]). A buried slot keeps owned text only (its tombstone is the host's code),
//! no descriptor and no guard. A handle keeps the guard of the image it was resolved against,
//! because it keeps that version's descriptor ([`FnHandle::desc`]): a handle held across
//! reloads keeps that one old version mapped, until it is dropped or resolved again.
//!
//! # Files
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | [`Slot`], [`FnHandle`], [`FnRef`], [`CallError`] ([`CallErrorKind`]): one atomic load and an indirect call |
//! | `plan.rs` | the host's table of slots, and what a reload does to each (planned, then committed) |
//! | [`typed`] | [`HotFn`]: handles resolved with a Rust function type, called safely without allocating, through a per-epoch cache (`checks.rs`: what is checked at resolve and at the first call of an epoch) |
//! | `sig.rs` | the Rust function types a [`HotFn`] is resolved with ([`HotSig`], [`TypedValue`]) and how their calls reach a raising or direct entry |
//! | [`release`] | the release switch: [`hot_fns!`](crate::hot_fns) declares the functions a program calls, through typed handles or, with the `static` feature, directly ([`release::LinkedFn`]) |
//! | [`choice`] | A/B implementations: a function's alternatives (`#[hot_fn(alt_of = ...)]`) and which one its slot runs, chosen live |
//! | `call.rs` | [`crate::Host::call`] step by step: bind the arguments, call, read the return |
//! | `host_objects.rs` | host objects (`#[host]` parameters): typed handles' reference signatures, the identity checks at resolve and reload |
//! | `value.rs` | [`Value`]: arguments from text, primitives in and out of the shim's buffers |

pub(crate) mod call;
pub mod choice;
pub(crate) mod host_objects;
pub(crate) mod plan;
pub mod release;
mod sig;
pub mod typed;
mod value;

use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use coo_runtime::ImageRef;
use coo_runtime::plugin::{ErasedFn, FnDesc, ForeignString, Shim};

pub use choice::{Alternative, AlternativeGone};
pub use host_objects::{HostTypeChanged, HostTypeText};
pub use typed::{HotFn, HotSig, MAX_PARAMS, TypedValue};
pub use value::{Value, ValueError};

/// Why a call did not run or did not finish: which function ([`CallError::name`]) and what
/// went wrong ([`CallErrorKind`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The function's stable name (its path within its crate), as it was called.
    pub name: String,
    pub kind: CallErrorKind,
}

/// What went wrong with a call of the function named by a [`CallError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallErrorKind {
    /// The plugin has no such function; `known` are those it has, sorted.
    NotFound {
        known: Vec<String>,
    },
    Removed {
        version: u64,
    },
    SignatureChanged {
        old: String,
        new: String,
        /// Types the function takes or returns by value whose layout changed (the signature
        /// text may then read the same).
        relaid: Vec<String>,
    },
    Panicked {
        message: String,
    },
    ArgCount {
        signature: String,
        expected: usize,
        found: usize,
    },
    BadArg {
        param: String,
        message: String,
    },
    NoResource {
        ty: String,
    },
    Aliased {
        ty: String,
    },
    ByValue {
        ty: String,
    },
    /// Resolved as a typed handle whose Rust function type is not the plugin's signature.
    Mismatch {
        /// The Rust function type it was resolved with.
        expected: String,
        /// The plugin's signature.
        found: String,
        /// The type to resolve it with.
        typed: String,
    },
    /// A signature that a typed handle cannot call (see [`typed`]).
    Untyped {
        signature: String,
    },
    /// A typed handle called with another host than the one that resolved it.
    OtherHost,
    /// Chosen ([`crate::Host::choose`]) by a name that none of the function's implementations
    /// has; `known` are their names (the function's own first).
    NoAlternative {
        alternative: String,
        known: Vec<String>,
    },
    /// `call_shared` of a function that borrows a resource mutably.
    Exclusive {
        ty: String,
    },
    /// `call_shared` of a function that shares a resource whose type is not `Sync`.
    NotSync {
        ty: String,
    },
    /// Declared by [`hot_fns!`](crate::hot_fns) for the other mode than the host's: the crate's
    /// `static` feature and hot-host's are not both on or both off.
    WrongMode {
        /// Whether the host runs the plugin linked into the binary ([`crate::Host::linked`]).
        host_linked: bool,
    },
    /// Resolved as a typed handle whose host object parameter `param` is of another type than
    /// the plugin's, or of the same name with another layout (see
    /// [`coo_runtime::plugin::HostType`]).
    HostType {
        param: String,
        /// The caller's type: `` `shared::Canvas` (24 bytes, align 8) ``.
        expected: String,
        /// The plugin's.
        found: String,
    },
    /// An unqualified name that several plugins of one [`crate::embed::Plugins`] define;
    /// `candidates` are its qualified names (`physics::step`), sorted.
    Ambiguous {
        candidates: Vec<String>,
    },
    /// [`crate::Host::call`] (or the REPL) of a function that takes a host object, which only a
    /// typed handle can pass.
    HostObject {
        param: String,
        /// The parameter's type: `&mut shared::Canvas`.
        ty: String,
    },
}

impl CallError {
    /// The call of the function `name` failed with `kind`.
    pub fn of(name: impl Into<String>, kind: CallErrorKind) -> CallError {
        CallError {
            name: name.into(),
            kind,
        }
    }
}

impl std::error::Error for CallError {}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.kind {
            CallErrorKind::NotFound { known } => {
                write!(f, "no hot function `{name}`{}", suggest(known))
            }
            CallErrorKind::Removed { version } => {
                write!(f, "`{name}` was removed by the reload to version {version}")
            }
            CallErrorKind::SignatureChanged { old, new, relaid } => write!(
                f,
                "the signature of `{name}` changed: it was `{old}` and is now `{new}`{}; resolve it again to call the new one",
                relaid_text(relaid)
            ),
            CallErrorKind::Panicked { message } => write!(f, "`{name}` panicked: {message}"),
            CallErrorKind::ArgCount {
                signature,
                expected,
                found,
            } => write!(
                f,
                "`{name}` takes {expected} argument{} ({signature}), {found} given",
                if *expected == 1 { "" } else { "s" }
            ),
            CallErrorKind::BadArg { param, message } => {
                write!(f, "argument `{param}` of `{name}`: {message}")
            }
            CallErrorKind::NoResource { ty } => write!(
                f,
                "`{name}` needs the resource `{ty}`, and there is none yet; call a function that returns a `{ty}` first"
            ),
            CallErrorKind::Aliased { ty } => write!(
                f,
                "`{name}` borrows the resource `{ty}` twice, once mutably; Rust's borrow rules forbid that"
            ),
            CallErrorKind::ByValue { ty } => write!(
                f,
                "`{name}` takes a `{ty}` by value; hot functions called from the host take resources as `&{ty}` or `&mut {ty}`"
            ),
            CallErrorKind::Mismatch {
                expected,
                found,
                typed,
            } => write!(
                f,
                "`{name}` is `{found}`, not `{expected}`; resolve it as `{typed}` (resources are bound by the call, not passed)"
            ),
            CallErrorKind::Untyped { signature } => write!(
                f,
                "`{name}` is `{signature}`: a typed handle passes primitives and resources, and returns a primitive or `()`, with at most {max} parameters; call it with `Host::call`",
                max = typed::MAX_PARAMS
            ),
            CallErrorKind::OtherHost => write!(
                f,
                "`{name}` was resolved by another host; resolve it with the host you call it with"
            ),
            CallErrorKind::NoAlternative { alternative, known } => write!(
                f,
                "`{name}` has no implementation named `{alternative}`; choose one of {} (alternatives are marked `#[hot_fn(alt_of = \"{name}\", name = \"...\")]`)",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            CallErrorKind::Exclusive { ty } => write!(
                f,
                "`{name}` borrows the resource `{ty}` mutably; call it with `call` and `&mut Host`, not `call_shared`"
            ),
            CallErrorKind::NotSync { ty } => write!(
                f,
                "`{name}` shares the resource `{ty}`, which is not `Sync`; call it with `call` and `&mut Host`, not `call_shared`"
            ),
            CallErrorKind::WrongMode { host_linked: true } => write!(
                f,
                "`{name}` is declared to be called through a typed handle (your crate's `static` feature is off), but the host runs the plugin linked into this binary (hot-host's `static` feature is on); turn both on or both off: write `static = [\"dep:<plugin>\", \"hot-host/static\"]` in your crate's `[features]`"
            ),
            CallErrorKind::WrongMode { host_linked: false } => write!(
                f,
                "`{name}` is declared to be called statically (your crate's `static` feature is on), but the host loaded the plugin as a library (hot-host's `static` feature is off); add \"hot-host/static\" to your crate's `static` feature"
            ),
            CallErrorKind::HostType {
                param,
                expected,
                found,
            } => write!(
                f,
                "the host object `{param}` of `{name}` is {found} in the plugin, and the handle passes {expected}: resolve it with the plugin's type; for a type of the same name, host and plugin must be built from one definition of it (a crate both depend on, unchanged since the host was built)"
            ),
            CallErrorKind::Ambiguous { candidates } => write!(
                f,
                "`{name}` is defined by several plugins: call it as {}",
                candidates
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            CallErrorKind::HostObject { param, ty } => write!(
                f,
                "`{name}` takes the host object `{param}: {ty}`, which only the program that embeds Coo can pass: resolve it with `Host::resolve_typed` and pass the object there"
            ),
        }
    }
}

fn relaid_text(relaid: &[String]) -> String {
    if relaid.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = relaid.iter().map(|t| format!("`{t}`")).collect();
        format!(
            " (the layout of {} changed, and values built for the old one do not fit the new code)",
            names.join(", ")
        )
    }
}

fn suggest(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!("; the plugin has {}", known.join(", "))
    }
}

const LIVE: u8 = 0;
const REMOVED: u8 = 1;
const SIGNATURE_CHANGED: u8 = 2;

/// The shim of a function that is gone: fails every call without touching its arguments.
unsafe extern "C-unwind" fn tombstone(
    _: *const *mut u8,
    _: *mut u8,
    _: *mut ForeignString,
) -> bool {
    false
}

/// Why a slot was given a tombstone.
#[derive(Debug, Clone)]
pub(crate) enum Burial {
    /// The new version has no such function.
    Removed,
    /// The new version's function has another signature (`signature`), or the same signature
    /// text where the types in `relaid`, taken or returned by value, have another layout.
    Changed {
        signature: String,
        relaid: Vec<String>,
    },
}

/// A function's descriptor together with the guard of the image it lives in: it derefs to the
/// descriptor for as long as it is held.
#[derive(Debug, Clone)]
pub struct FnRef {
    desc: &'static FnDesc,
    image: ImageRef,
}

impl FnRef {
    /// # Safety
    /// `image` guards the image `desc` lives in (or `desc` is compiled into this binary).
    pub(crate) unsafe fn new(desc: &'static FnDesc, image: ImageRef) -> FnRef {
        FnRef { desc, image }
    }

    /// The guard of the descriptor's image.
    pub fn image(&self) -> &ImageRef {
        &self.image
    }
}

impl Deref for FnRef {
    type Target = FnDesc;

    fn deref(&self) -> &FnDesc {
        self.desc
    }
}

/// The payload of the unwind of a buried slot's raising entry ([`HotSig::buried_entry`]): the
/// handle reports the burial ([`CallErrorKind::Removed`], [`CallErrorKind::SignatureChanged`]).
#[derive(Debug)]
pub(crate) struct Buried;

/// One function's current code.
#[derive(Debug)]
pub struct Slot {
    shim: AtomicPtr<()>,
    /// The code's direct entry (`FnDesc::direct`), for typed handles in a host that aborts on
    /// panics; null once buried.
    direct: AtomicPtr<()>,
    /// The code's raising entry (`FnDesc::raising`), for typed handles; once buried,
    /// [`Slot::stub`].
    raising: AtomicPtr<()>,
    /// A function of the host with the raising entry's type that raises [`Buried`]: set by the
    /// first typed handle resolved (every handle of a slot has one type, that of its code), so
    /// that a raising call of a buried slot needs no test. Null until then.
    stub: AtomicPtr<()>,
    status: AtomicU8,
    /// The code the shim belongs to and its image's guard; `None` once buried. Never locked on
    /// the call path.
    current: Mutex<Option<FnRef>>,
    /// Set with the tombstone: the version that buried the slot, and why.
    gone: Mutex<Option<(u64, Burial)>>,
}

impl Slot {
    pub(crate) fn new(code: FnRef) -> Arc<Slot> {
        Arc::new(Slot {
            shim: AtomicPtr::new(code.shim() as *mut ()),
            direct: AtomicPtr::new(code.direct() as *mut ()),
            raising: AtomicPtr::new(code.raising() as *mut ()),
            stub: AtomicPtr::new(core::ptr::null_mut()),
            status: AtomicU8::new(LIVE),
            current: Mutex::new(Some(code)),
            gone: Mutex::new(None),
        })
    }

    /// The descriptor of the code the slot holds now, with its image's guard; `None` once the
    /// slot was buried.
    pub fn desc(&self) -> Option<FnRef> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Points the slot at a new version of the function (same signature), and lets go of the
    /// old version's image. Called at a commit, or to choose an alternative implementation
    /// (under `&mut Host`), when no call through the slot is in flight.
    pub(crate) fn update(&self, code: FnRef) {
        self.shim.store(code.shim() as *mut (), Ordering::Release);
        self.direct
            .store(code.direct() as *mut (), Ordering::Release);
        self.raising
            .store(code.raising() as *mut (), Ordering::Release);
        let old = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(code);
        drop(old);
    }

    /// Makes every call through this slot fail: the function was removed or its signature
    /// changed (by `version`).
    pub(crate) fn bury(&self, version: u64, why: Burial) {
        let status = match why {
            Burial::Removed => REMOVED,
            Burial::Changed { .. } => SIGNATURE_CHANGED,
        };
        *self.gone.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, why));
        self.status.store(status, Ordering::Release);
        self.shim.store(tombstone as *mut (), Ordering::Release);
        self.direct.store(core::ptr::null_mut(), Ordering::Release);
        self.raising
            .store(self.stub.load(Ordering::Acquire), Ordering::Release);
        // Only owned text is left; the old code's image may go.
        let old = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(old);
    }

    /// Sets the slot's [`Slot::stub`] unless one is set (by a handle of the same type).
    pub(crate) fn set_stub(&self, stub: ErasedFn) {
        let _ = self.stub.compare_exchange(
            core::ptr::null_mut(),
            stub as *mut (),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    pub fn is_live(&self) -> bool {
        self.status.load(Ordering::Acquire) == LIVE
    }
}

/// A resolved function: call it as often as needed; it follows reloads.
#[derive(Debug, Clone)]
pub struct FnHandle {
    slot: Arc<Slot>,
    /// The function as resolved: its path and signature, with its image's guard.
    resolved: FnRef,
    path: Arc<str>,
}

impl FnHandle {
    /// A handle to a live slot (`None` if it was buried).
    pub(crate) fn new(slot: Arc<Slot>, path: &str) -> Option<FnHandle> {
        Some(FnHandle {
            resolved: slot.desc()?,
            slot,
            path: path.into(),
        })
    }

    /// The function's stable name.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The descriptor the handle was resolved with (its signature is the one calls must use).
    /// The handle keeps its image mapped.
    pub fn desc(&self) -> &FnDesc {
        &self.resolved
    }

    pub fn slot(&self) -> &Slot {
        &self.slot
    }

    pub(crate) fn slot_arc(&self) -> Arc<Slot> {
        self.slot.clone()
    }

    /// Calls the function's current code: one atomic load, one indirect call. When the slot
    /// was buried (the function was removed, or its signature or the layout of a type it takes
    /// or returns by value changed), this reads neither `args` nor `ret` and returns
    /// [`CallErrorKind::Removed`] or [`CallErrorKind::SignatureChanged`].
    ///
    /// # Safety
    /// `args` holds one pointer per parameter of [`FnHandle::desc`], each as its
    /// [`coo_runtime::plugin::ValueKind`] documents: `&T`/`&mut T` point to the live resource
    /// of `T` in the host's current state (whose layout is the current version's, which may
    /// differ from the one the handle was resolved with: fetch the pointer after the last
    /// reload), valid and not aliased against Rust's rules; values taken by value are moved in
    /// with the layout of [`FnHandle::desc`]'s types (a live slot's code has those very
    /// layouts; a reload that changes them buries the slot); `ret` has room for what the
    /// return kind of [`FnHandle::desc`] receives (a `ForeignString` for `String`). No reload may
    /// run during the call.
    #[inline]
    pub unsafe fn call_raw(&self, args: *const *mut u8, ret: *mut u8) -> Result<(), CallError> {
        let shim = self.slot.shim.load(Ordering::Acquire);
        // SAFETY: the slot only ever holds pointers to `Shim`s (a plugin's, or `tombstone`),
        // stored from values of that very type.
        let shim: Shim = unsafe { core::mem::transmute::<*mut (), Shim>(shim) };
        let mut panic = MaybeUninit::<ForeignString>::uninit();
        // SAFETY: the caller's contract; the shim catches panics inside the plugin and writes a
        // message to `panic` exactly when it returns `false` with a live slot. The shim's code
        // is mapped: a plugin's shim is stored together with its image's guard in
        // `self.slot.current` (which `update`/`bury` change only at a commit, and no reload
        // runs during this call, by the contract), and `tombstone` is the host's own code.
        if unsafe { shim(args, ret, panic.as_mut_ptr()) } {
            Ok(())
        } else {
            Err(self.failure(panic))
        }
    }

    #[cold]
    fn failure(&self, panic: MaybeUninit<ForeignString>) -> CallError {
        failure(&self.slot, &self.path, &self.resolved, Some(panic))
    }
}

/// Why a call through `slot` returned `false`: the slot was buried, or (live) the function
/// panicked and the shim wrote the message to `panic`. `path` and `resolved` are what the
/// handle was resolved with. `panic` is `None` when no call was made because the slot was
/// found buried.
#[cold]
fn failure(
    slot: &Slot,
    path: &str,
    resolved: &FnDesc,
    panic: Option<MaybeUninit<ForeignString>>,
) -> CallError {
    let gone = slot.gone.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let kind = match (slot.status.load(Ordering::Acquire), gone) {
        (REMOVED, Some((version, Burial::Removed))) => CallErrorKind::Removed { version },
        (SIGNATURE_CHANGED, Some((_, Burial::Changed { signature, relaid }))) => {
            CallErrorKind::SignatureChanged {
                old: resolved.signature(),
                new: signature,
                relaid,
            }
        }
        _ => CallErrorKind::Panicked {
            // SAFETY: a live slot's code returned `false`, which it does only after writing
            // the panic message. The copy is the host's; the plugin frees its own.
            message: unsafe {
                panic
                    .expect("a slot found buried has its burial recorded")
                    .assume_init()
            }
            .into_string(),
        },
    };
    CallError::of(path, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind prints, with the function's name, exactly the text `CallError` printed when
    /// each variant carried the name itself (the texts below were printed by that version).
    #[test]
    fn each_kind_prints_the_name_once_in_the_old_text() {
        let s = |t: &str| t.to_owned();
        let cases = vec![
            (
                CallErrorKind::NotFound { known: vec![] },
                "no hot function `sim::tick`",
            ),
            (
                CallErrorKind::NotFound {
                    known: vec![s("a"), s("b")],
                },
                "no hot function `sim::tick`; the plugin has a, b",
            ),
            (
                CallErrorKind::Removed { version: 4 },
                "`sim::tick` was removed by the reload to version 4",
            ),
            (
                CallErrorKind::SignatureChanged {
                    old: s("fn(u32)"),
                    new: s("fn(u64)"),
                    relaid: vec![],
                },
                "the signature of `sim::tick` changed: it was `fn(u32)` and is now `fn(u64)`; resolve it again to call the new one",
            ),
            (
                CallErrorKind::SignatureChanged {
                    old: s("fn(P)"),
                    new: s("fn(P)"),
                    relaid: vec![s("P"), s("Q")],
                },
                "the signature of `sim::tick` changed: it was `fn(P)` and is now `fn(P)` (the layout of `P`, `Q` changed, and values built for the old one do not fit the new code); resolve it again to call the new one",
            ),
            (
                CallErrorKind::Panicked { message: s("boom") },
                "`sim::tick` panicked: boom",
            ),
            (
                CallErrorKind::ArgCount {
                    signature: s("fn(u32)"),
                    expected: 1,
                    found: 0,
                },
                "`sim::tick` takes 1 argument (fn(u32)), 0 given",
            ),
            (
                CallErrorKind::ArgCount {
                    signature: s("fn(u32, u32)"),
                    expected: 2,
                    found: 3,
                },
                "`sim::tick` takes 2 arguments (fn(u32, u32)), 3 given",
            ),
            (
                CallErrorKind::BadArg {
                    param: s("dt"),
                    message: s("not a number"),
                },
                "argument `dt` of `sim::tick`: not a number",
            ),
            (
                CallErrorKind::NoResource { ty: s("World") },
                "`sim::tick` needs the resource `World`, and there is none yet; call a function that returns a `World` first",
            ),
            (
                CallErrorKind::Aliased { ty: s("World") },
                "`sim::tick` borrows the resource `World` twice, once mutably; Rust's borrow rules forbid that",
            ),
            (
                CallErrorKind::ByValue { ty: s("World") },
                "`sim::tick` takes a `World` by value; hot functions called from the host take resources as `&World` or `&mut World`",
            ),
        ];
        for (kind, text) in cases {
            let e = CallError::of("sim::tick", kind);
            assert_eq!(e.name, "sim::tick");
            assert_eq!(e.to_string(), text);
        }
    }
}
