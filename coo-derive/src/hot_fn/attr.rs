//! The attribute itself: `#[hot_fn]` takes no arguments, and inside a `#[hot_fn] impl` block it
//! marks the methods to register. This is the only place that recognizes the attribute.

use proc_macro2::TokenStream;
use syn::{Attribute, Meta};

use crate::errors::Errors;

/// What to write instead of any arguments.
const NO_ARGUMENTS: &str = "`#[hot_fn]` takes no arguments: write `#[hot_fn]`; the stable name of a hot function is its path in the crate, like `sim::tick` or `World::step`";

/// Records an error if the attribute was given arguments: `#[hot_fn(...)]`.
pub(crate) fn check_args(errors: &mut Errors, args: &TokenStream) {
    if !args.is_empty() {
        errors.spanned(args, NO_ARGUMENTS);
    }
}

/// Whether `attr` is a `#[hot_fn]` mark, however its path is written (`hot_fn`,
/// `coo_runtime::hot_fn`).
pub(crate) fn is_mark(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "hot_fn")
}

/// The `#[hot_fn]` marks among `attrs`, each checked for arguments.
pub(crate) fn marks<'a>(errors: &mut Errors, attrs: &'a [Attribute]) -> Vec<&'a Attribute> {
    let marks: Vec<&Attribute> = attrs.iter().filter(|attr| is_mark(attr)).collect();
    for mark in &marks {
        match &mark.meta {
            Meta::Path(_) => {}
            Meta::List(list) => errors.at(list.delimiter.span().join(), NO_ARGUMENTS),
            Meta::NameValue(value) => errors.spanned(&value.value, NO_ARGUMENTS),
        }
    }
    marks
}

/// The `#[host]` mark among a parameter's attributes: the parameter is an object of the caller's
/// (see `Passing::Host`). `valid` checks that it has no arguments and where it is.
pub(crate) fn host_mark(attrs: &[Attribute]) -> Option<&Attribute> {
    attrs.iter().find(|attr| is_host(attr))
}

/// Whether `attr` is `#[host]` (with or without arguments, which `valid` reports).
pub(crate) fn is_host(attr: &Attribute) -> bool {
    attr.path().is_ident("host")
}

/// Removes the `#[host]` marks of a signature's parameters: `#[hot_fn]` has read them, and the
/// compiler knows no such attribute.
pub(crate) fn strip_host_marks(sig: &mut syn::Signature) {
    for arg in &mut sig.inputs {
        match arg {
            syn::FnArg::Receiver(receiver) => receiver.attrs.retain(|attr| !is_host(attr)),
            syn::FnArg::Typed(typed) => typed.attrs.retain(|attr| !is_host(attr)),
        }
    }
}

/// Removes the `#[hot_fn]` marks: the enclosing `#[hot_fn] impl` block has read them, and left
/// in place they would expand on their own.
pub(crate) fn strip_marks(attrs: &mut Vec<Attribute>) {
    attrs.retain(|attr| !is_mark(attr));
}
