//! `#[hot_fn]`: registers functions and methods as hot-function slots the host can call.
//!
//! The same four steps as the derive, one module each: `attr` checks the attribute's arguments
//! and finds the `#[hot_fn]` marks on methods, `ast` reads the item into a small borrowed IR
//! (one [`ast::HotFn`] per registered function, each parameter classified by how it crosses the
//! boundary), `valid` checks every rule and explains every unsupported signature, and `expand`
//! generates the shims and registrations. On error the item is emitted unchanged next to the
//! errors ([`expand::fallback`]), so the rest of the crate keeps type-checking.

pub(crate) mod ast;
pub(crate) mod attr;
pub(crate) mod expand;
pub(crate) mod valid;
