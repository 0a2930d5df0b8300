//! Panics of hot functions reported by unwinding: how a typed call reaches a plugin's function
//! at the cost of a function pointer call.
//!
//! A panic inside a plugin is caught inside the plugin, by the plugin's own `std`: a host's
//! `catch_unwind` cannot catch a panic raised by another copy of `std` (it aborts). The shim and
//! the direct entry then *return* the panic (a flag and a message), and every call tests the
//! flag. The *raising entry* ([`crate::plugin::FnDesc::raising`]) does without the flag: it
//! catches the panic the same way, then calls the host's [`RaiseHook`] with the message, a
//! function of the host that starts a new unwind with the **host's** `std`
//! (`std::panic::resume_unwind` of a [`PluginPanic`]). That unwind passes through the raising
//! entry's frame (allowed: the hook is `extern "C-unwind"`, and the frame holds nothing but the
//! message, which its cleanup frees with the plugin's allocator) and is caught by the host's
//! `catch_unwind` around the call, which is free on the path that does not panic. The plugin's
//! own `catch_unwind` never sees the host's unwind: it returned before the hook is called.
//!
//! A host installs its hook in every library it loads ([`crate::plugin::Manifest::set_raise_hook`])
//! before it calls any raising entry. Without a hook (the host itself, or a statically linked
//! build, where the host's `std` is this copy's), this copy's own [`this_raise_hook`] raises.
//! A host built with `panic = "abort"` cannot catch anything, and calls the direct entry
//! instead.

use std::sync::atomic::{AtomicPtr, Ordering};

use crate::plugin::StrRef;

/// A function of the host that never returns: it unwinds, with the host's `std`, with a
/// [`PluginPanic`] holding a copy of `message` (borrowed for the call only).
pub type RaiseHook = extern "C-unwind" fn(message: StrRef) -> !;

/// The payload of the unwind that a [`RaiseHook`] starts: the message of the panic that the
/// plugin caught.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginPanic {
    pub message: String,
}

/// The hook of this copy of the runtime (null: this copy's own).
static HOOK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Installs `hook` for this copy of the runtime. What [`crate::plugin::Manifest`] exposes.
pub fn set_raise_hook(hook: RaiseHook) {
    HOOK.store(hook as *mut (), Ordering::Release);
}

/// The hook that raises with this copy of `std`: what a host installs in the libraries it
/// loads.
pub fn this_raise_hook() -> RaiseHook {
    raise
}

extern "C-unwind" fn raise(message: StrRef) -> ! {
    // SAFETY: `RaiseHook`'s contract: the string is readable for the call.
    let message = unsafe { message.read() }.into_owned();
    std::panic::resume_unwind(Box::new(PluginPanic { message }))
}

/// Reports the panic of a raising entry (its message) to the host: unwinds with the host's
/// `std` through the installed hook. Support for the code `#[hot_fn]` generates.
#[cold]
#[inline(never)]
pub fn raise_panic(message: String) -> ! {
    let hook = HOOK.load(Ordering::Acquire);
    let hook: RaiseHook = if hook.is_null() {
        raise
    } else {
        // SAFETY: only `set_raise_hook` stores into `HOOK`, and it stores a `RaiseHook`.
        unsafe { core::mem::transmute::<*mut (), RaiseHook>(hook) }
    };
    // `message` stays this frame's: the unwind's cleanup drops it here, with this image's
    // allocator.
    hook(StrRef {
        ptr: message.as_ptr(),
        len: message.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raises_a_plugin_panic_with_the_message() {
        let caught = std::panic::catch_unwind(|| raise_panic("boom at 3".to_owned()));
        let payload = caught.expect_err("raise_panic unwinds");
        let panic = payload.downcast::<PluginPanic>().expect("a PluginPanic");
        assert_eq!(panic.message, "boom at 3");
    }
}
