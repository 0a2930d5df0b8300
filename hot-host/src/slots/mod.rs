//! Function slots: what a call goes through.
//!
//! A name is resolved once, by lookup, to a [`FnHandle`]: a shared [`Slot`] and the signature it
//! was resolved with. A call is then one atomic load of the slot's shim pointer and an indirect
//! call: no lock, no symbol lookup, no hashing. A reload stores new pointers into the slots. A
//! function that the new version removed gets a *tombstone* shim, which fails every call; a
//! function whose signature changed gets a new slot, and its old slot a tombstone, so handles
//! resolved against the old signature fail with [`CallError::SignatureChanged`] instead of
//! calling code with arguments of the wrong types. "Changed" includes a signature that reads
//! the same but takes or returns a `CooType` by value whose layout changed: a value built for
//! the old layout has the wrong size and offsets for the new code. So as long as a slot is live,
//! its code takes and returns by value exactly the layouts its handles were resolved with.
//!
//! Beside the shim, whose arguments go through an array of pointers, a slot holds the function's
//! *direct entry* (arguments as they are, in registers), which typed handles ([`HotFn`]) call;
//! a buried slot holds null there, so for them too one atomic load tells whether the function
//! is still there.
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
//! | `mod.rs` | [`Slot`], [`FnHandle`], [`FnRef`], [`CallError`]: one atomic load and an indirect call |
//! | `plan.rs` | the host's table of slots, and what a reload does to each (planned, then committed) |
//! | `typed.rs` | [`HotFn`]: handles resolved with a Rust function type, called safely without allocating |
//! | `call.rs` | [`crate::Host::call`] step by step: bind the arguments, call, read the return |
//! | `value.rs` | [`Value`]: arguments from text, primitives in and out of the shim's buffers |

pub(crate) mod call;
pub(crate) mod plan;
pub mod typed;
mod value;

use std::mem::MaybeUninit;
use std::ops::Deref;
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use coo_runtime::ImageRef;
use coo_runtime::plugin::{FnDesc, ForeignString, Shim};

pub use typed::{HotFn, HotSig, MAX_PARAMS, TypedValue};
pub use value::{Value, ValueError};

/// Why a call did not run or did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("no hot function `{name}`{}", suggest(.known))]
    NotFound { name: String, known: Vec<String> },
    #[error("`{name}` was removed by the reload to version {version}")]
    Removed { name: String, version: u64 },
    #[error(
        "the signature of `{name}` changed: it was `{old}` and is now `{new}`{}; resolve it again to call the new one",
        relaid_text(.relaid)
    )]
    SignatureChanged {
        name: String,
        old: String,
        new: String,
        /// Types the function takes or returns by value whose layout changed (the signature
        /// text may then read the same).
        relaid: Vec<String>,
    },
    #[error("`{name}` panicked: {message}")]
    Panicked { name: String, message: String },
    #[error("`{name}` takes {expected} argument{} ({signature}), {found} given", if *.expected == 1 { "" } else { "s" })]
    ArgCount {
        name: String,
        signature: String,
        expected: usize,
        found: usize,
    },
    #[error("argument `{param}` of `{name}`: {message}")]
    BadArg {
        name: String,
        param: String,
        message: String,
    },
    #[error(
        "`{name}` needs the resource `{ty}`, and there is none yet; call a function that returns a `{ty}` first"
    )]
    NoResource { name: String, ty: String },
    #[error(
        "`{name}` borrows the resource `{ty}` twice, once mutably; Rust's borrow rules forbid that"
    )]
    Aliased { name: String, ty: String },
    #[error(
        "`{name}` takes a `{ty}` by value; hot functions called from the host take resources as `&{ty}` or `&mut {ty}`"
    )]
    ByValue { name: String, ty: String },
    #[error(
        "`{name}` is `{found}`, not `{expected}`; resolve it as `{typed}` (resources are bound by the call, not passed)"
    )]
    Mismatch {
        name: String,
        /// The Rust function type it was resolved with.
        expected: String,
        /// The plugin's signature.
        found: String,
        /// The type to resolve it with.
        typed: String,
    },
    #[error(
        "`{name}` is `{signature}`: a typed handle passes primitives and resources, and returns a primitive or `()`, with at most {max} parameters; call it with `Host::call`",
        max = typed::MAX_PARAMS
    )]
    Untyped { name: String, signature: String },
    #[error("`{name}` was resolved by another host; resolve it with the host you call it with")]
    OtherHost { name: String },
    #[error(
        "`{name}` borrows the resource `{ty}` mutably; call it with `call` and `&mut Host`, not `call_shared`"
    )]
    Exclusive { name: String, ty: String },
    #[error(
        "`{name}` shares the resource `{ty}`, which is not `Sync`; call it with `call` and `&mut Host`, not `call_shared`"
    )]
    NotSync { name: String, ty: String },
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

/// One function's current code.
#[derive(Debug)]
pub struct Slot {
    shim: AtomicPtr<()>,
    /// The code's direct entry (`FnDesc::direct`), for typed handles; null once buried.
    direct: AtomicPtr<()>,
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
            shim: AtomicPtr::new(code.shim as *mut ()),
            direct: AtomicPtr::new(code.direct as *mut ()),
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
    /// old version's image. Called at a commit, when no call through the slot is in flight.
    pub(crate) fn update(&self, code: FnRef) {
        self.shim.store(code.shim as *mut (), Ordering::Release);
        self.direct.store(code.direct as *mut (), Ordering::Release);
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
        // Only owned text is left; the old code's image may go.
        let old = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(old);
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
    /// [`CallError::Removed`] or [`CallError::SignatureChanged`].
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
    match (slot.status.load(Ordering::Acquire), gone) {
        (REMOVED, Some((version, Burial::Removed))) => CallError::Removed {
            name: path.to_string(),
            version,
        },
        (SIGNATURE_CHANGED, Some((_, Burial::Changed { signature, relaid }))) => {
            CallError::SignatureChanged {
                name: path.to_string(),
                old: resolved.signature(),
                new: signature,
                relaid,
            }
        }
        _ => CallError::Panicked {
            name: path.to_string(),
            // SAFETY: a live slot's code returned `false`, which it does only after writing
            // the panic message. The copy is the host's; the plugin frees its own.
            message: unsafe {
                panic
                    .expect("a slot found buried has its burial recorded")
                    .assume_init()
            }
            .into_string(),
        },
    }
}
