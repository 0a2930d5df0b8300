//! Panics in drop glue.
//!
//! The host drops plugin values through their glue ([`crate::descriptors::layout::drop_glue`]) from its own
//! frames: when a migration drops a removed field, when a resource is replaced, when a call that
//! never ran gives its arguments back. A panic must not unwind out of the plugin (another copy of
//! `std` cannot catch it: the process aborts), so the glue catches it inside the plugin. The
//! value is then neither dropped again nor used (what its `Drop` did not free is leaked), and
//! the panic is reported: the glue sends it to the sink that the host installed in every library
//! it loaded ([`crate::plugin::Manifest::set_drop_sink`]), which records it on the host's side,
//! in the host's memory, for the calling thread; [`take_drop_panics`] hands the records over.
//! Without a sink (a statically linked build, or the host itself) the records stay in this copy
//! of the runtime, which is then the host's.

use core::cell::RefCell;
use core::fmt;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::plugin::StrRef;

/// A function of the host that records a drop panic: the type's name and the panic message,
/// both borrowed for the call only.
pub type DropSink = extern "C" fn(ty: StrRef, message: StrRef);

/// A value whose `Drop` panicked: it was not dropped again, and what it had not freed is leaked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropPanic {
    /// The Rust type whose drop glue panicked.
    pub ty: String,
    pub message: String,
}

impl fmt::Display for DropPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dropping a `{}` panicked: {}; the value was leaked, not dropped again \
             (a `Drop` impl must not panic)",
            self.ty, self.message
        )
    }
}

/// The sink of this copy of the runtime (null: record here).
static SINK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

thread_local! {
    static RECORDED: RefCell<Vec<DropPanic>> = const { RefCell::new(Vec::new()) };
}

/// Installs `sink` for this copy of the runtime. What [`crate::plugin::Manifest`] exposes.
pub fn set_drop_sink(sink: DropSink) {
    SINK.store(sink as *mut (), Ordering::Release);
}

/// The sink that records into this copy of the runtime: what a host installs in the libraries
/// it loads.
pub fn this_sink() -> DropSink {
    record
}

extern "C" fn record(ty: StrRef, message: StrRef) {
    // SAFETY: `DropSink`'s contract: both strings are readable for the call.
    let (ty, message) = unsafe { (ty.read().into_owned(), message.read().into_owned()) };
    // A thread being torn down has no list left; the report is lost then, never the process.
    let _ = RECORDED.try_with(|list| {
        if let Ok(mut list) = list.try_borrow_mut() {
            list.push(DropPanic { ty, message });
        }
    });
}

/// Reports that the drop glue of `ty` panicked with `message`.
pub(crate) fn drop_panicked(ty: &str, message: &str) {
    let sink = SINK.load(Ordering::Acquire);
    let sink: DropSink = if sink.is_null() {
        record
    } else {
        // SAFETY: only `set_drop_sink` stores into `SINK`, and it stores a `DropSink`.
        unsafe { core::mem::transmute::<*mut (), DropSink>(sink) }
    };
    sink(
        StrRef {
            ptr: ty.as_ptr(),
            len: ty.len(),
        },
        StrRef {
            ptr: message.as_ptr(),
            len: message.len(),
        },
    );
}

/// Takes the drop panics recorded on this thread since the last call.
pub fn take_drop_panics() -> Vec<DropPanic> {
    RECORDED
        .try_with(|list| core::mem::take(&mut *list.borrow_mut()))
        .unwrap_or_default()
}
