//! The attribute itself: `#[hot_fn]` takes no arguments, but on a free function it may mark an
//! alternative implementation of another hot function (`#[hot_fn(alt_of = "change", name =
//! "plus10")]`); inside a `#[hot_fn] impl` block it marks the methods to register. This is the
//! only place that recognizes the attribute.

use proc_macro2::TokenStream;
use syn::punctuated::Punctuated;
use syn::{Attribute, Item, LitStr, Meta, Token};

use crate::errors::Errors;

/// What to write instead of any arguments.
const NO_ARGUMENTS: &str = "`#[hot_fn]` takes no arguments: write `#[hot_fn]`; the stable name of a hot function is its path in the crate, like `sim::tick` or `World::step`";

/// What to write instead of arguments a free function's `#[hot_fn]` does not take.
const ALTERNATIVE_ARGUMENTS: &str = "`#[hot_fn]` takes no arguments, except on an alternative implementation of another hot function: write `#[hot_fn]`, or `#[hot_fn(alt_of = \"change\", name = \"plus10\")]` for an alternative of the hot function `change` of this module (`name` is optional: the function's name by default); the stable name of a hot function is its path in the crate, like `sim::tick`";

/// `#[hot_fn(alt_of = "change", name = "plus10")]`: the function is an alternative
/// implementation of the hot function `change` of the same module, chosen by the name `plus10`.
pub(crate) struct Alternative {
    /// The function it is an alternative of (an identifier, checked).
    pub of: LitStr,
    /// The name it is chosen by, if given (an identifier, checked).
    pub name: Option<LitStr>,
}

/// The attribute's arguments: none (`None`), or on a free function an [`Alternative`]. Records
/// an error for anything else.
pub(crate) fn check_args(
    errors: &mut Errors,
    args: &TokenStream,
    item: &Item,
) -> Option<Alternative> {
    if args.is_empty() {
        return None;
    }
    let Item::Fn(function) = item else {
        errors.spanned(args, NO_ARGUMENTS);
        return None;
    };
    let parsed = syn::parse::Parser::parse2(
        Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated,
        args.clone(),
    );
    let Ok(pairs) = parsed else {
        errors.spanned(args, ALTERNATIVE_ARGUMENTS);
        return None;
    };
    let mut of = None;
    let mut name = None;
    for pair in &pairs {
        let key = pair.path.get_ident().map(ToString::to_string);
        let target = match key.as_deref() {
            Some("alt_of") if of.is_none() => &mut of,
            Some("name") if name.is_none() => &mut name,
            _ => {
                errors.spanned(pair, ALTERNATIVE_ARGUMENTS);
                continue;
            }
        };
        match &pair.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) if syn::parse_str::<syn::Ident>(&text.value()).is_ok() => {
                *target = Some(text.clone())
            }
            // `alt_of = change`, as the compiler's suggestions write it.
            syn::Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
                let ident = path.path.get_ident().expect("checked above");
                *target = Some(LitStr::new(&ident.to_string(), ident.span()))
            }
            other => errors.spanned(
                other,
                "write the name of a function, as a string or not: `alt_of = \"change\"`, `name = \"plus10\"` (one identifier each)",
            ),
        }
    }
    let Some(of) = of else {
        if pairs.iter().all(|pair| pair.path.is_ident("name")) {
            errors.spanned(args, ALTERNATIVE_ARGUMENTS);
        }
        return None;
    };
    if function.sig.ident == of.value() {
        errors.spanned(
            &of,
            "a hot function cannot be an alternative of itself: `alt_of` names another hot function of this module",
        );
        return None;
    }
    Some(Alternative { of, name })
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
