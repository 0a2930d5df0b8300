//! Every rule of `#[hot_fn]`: which items and signatures it accepts, and for each type that
//! cannot cross the shim boundary, why not and what to write instead. Types that are only
//! checked by trait (`HotValue`, `CooType`) are left to the compiler, whose errors land on the
//! type through the spans `expand` gives them.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{
    FnArg, GenericParam, Item, ItemImpl, Lifetime, Meta, PathArguments, Type, TypeReference,
};

use super::ast::{HotFn, HotImpl, Input, Passing, Ret, owner_name, owner_path, ungroup};
use super::attr;
use crate::errors::Errors;
use crate::self_type::{mentions_self, replace_self};
use crate::tokens::type_text;

/// Records every rule the input breaks.
pub(crate) fn check(errors: &mut Errors, input: &Input<'_>) {
    match input {
        Input::Fn(function) => {
            check_free_fn(errors, function);
            check_fn(errors, function);
        }
        Input::Impl(block) => check_impl(errors, block),
        Input::Other(item) => check_other(errors, item),
    }
}

/// A function under its own `#[hot_fn]` that is really a method: the attribute cannot see the
/// impl block, so the block needs the attribute. Detected by a receiver or a `Self` in the
/// signature; an associated function without either looks like a free function.
fn check_free_fn(errors: &mut Errors, function: &HotFn<'_>) {
    let sig = function.sig;
    let uses_self = sig.inputs.iter().any(|arg| match arg {
        FnArg::Receiver(_) => true,
        FnArg::Typed(typed) => mentions_self(&*typed.ty),
    }) || mentions_self(&sig.output);
    if uses_self {
        errors.at(
            Span::call_site(),
            "`#[hot_fn]` on a method needs `#[hot_fn]` on its `impl` block too: write `#[hot_fn] impl Type { ... }`; the block's attribute registers the methods marked `#[hot_fn]`",
        );
    }
}

fn check_impl(errors: &mut Errors, block: &HotImpl<'_>) {
    let original = block.original;
    let owner = owner_name(&original.self_ty);
    if let Some((bang, path, for_token)) = &original.trait_ {
        errors.spanned(
            quote!(#bang #path #for_token),
            format!(
                "`#[hot_fn]` does not support trait impls: hot functions are called by name, not through a trait; put the functions in an inherent impl block, `#[hot_fn] impl {owner} {{ ... }}`, and call them from the trait impl if it needs them"
            ),
        );
        // The functions of a trait impl are not registered: nothing more to check.
        return;
    }
    check_impl_generics(errors, original);
    // The arguments of `impl<T> Grid<T>` are the parameters just reported.
    if original.generics.params.is_empty() {
        check_self_type(errors, &original.self_ty);
    }
    if block.fns.is_empty() {
        errors.at(
            Span::call_site(),
            format!(
                "`#[hot_fn]` on `impl {owner}` registers no function: mark the methods to register with `#[hot_fn]`, or make them `pub` to register all of them"
            ),
        );
    }
    for function in &block.fns {
        let mut fn_errors = Errors::default();
        check_fn(&mut fn_errors, function);
        if let Err(error) = fn_errors.finish() {
            errors.push(error);
            if block.all_pub {
                errors.spanned(
                    &function.sig.ident,
                    format!(
                        "`{owner}::{}` is registered because it is `pub` and no function of the block is marked `#[hot_fn]`: mark the ones to register with `#[hot_fn]`",
                        function.sig.ident
                    ),
                );
            }
        }
    }
}

fn check_impl_generics(errors: &mut Errors, block: &ItemImpl) {
    for param in &block.generics.params {
        let message = match param {
            GenericParam::Type(param) => format!(
                "`#[hot_fn]` does not support generic impl blocks: remove the type parameter `{}` and write the block for a concrete type; the host calls one compiled function per slot",
                param.ident
            ),
            GenericParam::Lifetime(param) => format!(
                "`#[hot_fn]` does not support impl blocks with lifetime parameters: remove `{}`; hot functions take resources that Coo owns, which borrow nothing",
                param.lifetime
            ),
            GenericParam::Const(param) => format!(
                "`#[hot_fn]` does not support generic impl blocks: remove the const parameter `{}` and write the block for a concrete type",
                param.ident
            ),
        };
        errors.spanned(param, message);
    }
}

/// The self type must be a plain named type: the shims call `<Type>::method`, and the stable
/// names are `Type::method`.
fn check_self_type(errors: &mut Errors, self_ty: &Type) {
    match ungroup(self_ty) {
        Type::Path(path) if path.qself.is_none() => {
            for segment in &path.path.segments {
                if !matches!(segment.arguments, PathArguments::None) {
                    errors.spanned(
                        &segment.arguments,
                        format!(
                            "`#[hot_fn]` does not support impl blocks of generic types like `{}`: stable names such as `{}::method` cannot tell its instances apart; register free functions with `#[hot_fn]` instead",
                            type_text(self_ty),
                            segment.ident,
                        ),
                    );
                }
            }
        }
        _ => errors.spanned(
            self_ty,
            format!(
                "`#[hot_fn]` needs an impl block of a named type, like `impl World {{ ... }}`, not of `{}`",
                type_text(self_ty)
            ),
        ),
    }
}

/// `#[hot_fn]` on a struct, a trait, a module...
fn check_other(errors: &mut Errors, item: &Item) {
    let (tokens, what) = match item {
        Item::Const(item) => (pair(item.const_token, &item.ident), "a constant"),
        Item::Enum(item) => (pair(item.enum_token, &item.ident), "an enum"),
        Item::ExternCrate(item) => (item.to_token_stream(), "an `extern crate` item"),
        Item::ForeignMod(item) => (item.abi.to_token_stream(), "an `extern` block"),
        Item::Macro(item) => (item.mac.path.to_token_stream(), "a macro invocation"),
        Item::Mod(item) => (pair(item.mod_token, &item.ident), "a module"),
        Item::Static(item) => (pair(item.static_token, &item.ident), "a static"),
        Item::Struct(item) => (pair(item.struct_token, &item.ident), "a struct"),
        Item::Trait(item) => (pair(item.trait_token, &item.ident), "a trait"),
        Item::TraitAlias(item) => (pair(item.trait_token, &item.ident), "a trait alias"),
        Item::Type(item) => (pair(item.type_token, &item.ident), "a type alias"),
        Item::Union(item) => (pair(item.union_token, &item.ident), "a union"),
        Item::Use(item) => (item.to_token_stream(), "a `use` item"),
        other => (other.to_token_stream(), "this item"),
    };
    let advice = match item {
        Item::Struct(item) => format!(
            "; to register methods of `{0}`, write `#[hot_fn] impl {0} {{ ... }}`",
            item.ident
        ),
        Item::Enum(item) => format!(
            "; to register methods of `{0}`, write `#[hot_fn] impl {0} {{ ... }}`",
            item.ident
        ),
        Item::Trait(_) => {
            "; hot functions are concrete functions: implement them in an inherent impl block, `#[hot_fn] impl Type { ... }`".to_owned()
        }
        Item::Verbatim(_) => "; the function needs a body".to_owned(),
        _ => String::new(),
    };
    errors.spanned(
        tokens,
        format!(
            "`#[hot_fn]` goes on a function or on an inherent `impl` block, not on {what}{advice}"
        ),
    );
}

/// The tokens of `a` then `b`, to span an error on both.
fn pair(a: impl ToTokens, b: impl ToTokens) -> TokenStream {
    quote!(#a #b)
}

/// The rules of one registered function.
fn check_fn(errors: &mut Errors, function: &HotFn<'_>) {
    let sig = function.sig;
    let mut declared_lifetimes = Vec::new();
    for param in &sig.generics.params {
        let message = match param {
            GenericParam::Type(param) => format!(
                "`#[hot_fn]` does not support generic functions: remove the type parameter `{}` and name a concrete type; the host calls one compiled function per slot",
                param.ident
            ),
            GenericParam::Lifetime(param) => {
                declared_lifetimes.push(&param.lifetime);
                format!(
                    "`#[hot_fn]` does not support lifetime parameters: remove `{}` and leave the lifetimes elided, like `&World`; the references a hot function receives are valid for the call",
                    param.lifetime
                )
            }
            GenericParam::Const(param) => format!(
                "`#[hot_fn]` does not support const generic parameters: remove `{}` and use a concrete value; the host calls one compiled function per slot",
                param.ident
            ),
        };
        errors.spanned(param, message);
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.spanned(
            asyncness,
            "`#[hot_fn]` does not support `async fn`: the host calls hot functions synchronously; remove `async`",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(
            unsafety,
            "`#[hot_fn]` does not support `unsafe fn`: the host cannot uphold a safety contract it does not know; remove `unsafe` and use `unsafe` blocks inside the function",
        );
    }
    if let Some(abi) = &sig.abi {
        let abi_text = quote!(#abi).to_string();
        errors.spanned(
            abi,
            format!(
                "`#[hot_fn]` does not support `{abi_text}` functions: remove `{abi_text}` and write a plain Rust function; `#[hot_fn]` generates the `extern` shim that the host calls"
            ),
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(
            variadic,
            "`#[hot_fn]` does not support variadic functions: remove `...` and list the parameters",
        );
    }
    for param in &function.params {
        let attrs = match param.arg {
            FnArg::Receiver(receiver) => &receiver.attrs,
            FnArg::Typed(typed) => &typed.attrs,
        };
        for attr in attrs {
            if !attr::is_host(attr) {
                errors.spanned(
                    attr,
                    "`#[hot_fn]` does not support attributes on parameters other than `#[host]`: remove it; the host calls the function with the parameters as written",
                );
            } else if let FnArg::Receiver(_) = param.arg {
                errors.spanned(
                    attr,
                    "`self` cannot be a host object: remove `#[host]`; `&self` of a `CooType` is its live resource",
                );
            } else if !matches!(attr.meta, Meta::Path(_)) {
                errors.spanned(
                    &attr.meta,
                    "`#[host]` takes no arguments: write `#[host] name: &Type` or `#[host] name: &mut Type`",
                );
            }
        }
        if let (None, FnArg::Typed(typed)) = (&param.name, param.arg) {
            errors.spanned(
                &typed.pat,
                format!(
                    "hot function parameters need a plain name, which the host sees: write `name: {}` and destructure it in the body",
                    type_text(&typed.ty)
                ),
            );
        }
        match param.passing {
            Passing::Unsupported if param.host.is_some() => {
                errors.spanned(param.ty, unsupported_host(param.ty))
            }
            Passing::Unsupported => errors.spanned(param.ty, unsupported_param(param.ty)),
            Passing::Ref(_) | Passing::RefMut(_) | Passing::Str | Passing::Host { .. } => {
                if let Type::Reference(reference) = ungroup(param.ty) {
                    check_lifetime(errors, param.arg, reference, &declared_lifetimes);
                }
            }
            Passing::Value => {}
        }
    }
    check_aliasing(errors, function);
    if let Ret::Unsupported(ty) = function.ret {
        errors.spanned(ty, unsupported_return(ty));
    }
}

/// `&T` and `&mut T` parameters are the one live resource of `T`, so a function that takes it
/// mutably cannot take it a second time: the shim would hold two references to one value, one
/// of them `&mut`. Types are compared as written, with every `Self` replaced by the impl
/// block's type as `expand` replaces it (`<Self as Has>::Part` is `<World as Has>::Part`), so
/// this cannot see through type aliases.
fn check_aliasing(errors: &mut Errors, function: &HotFn<'_>) {
    let owner = function.owner.and_then(owner_path);
    // (resource type as written, `&mut`, parameter name)
    let mut seen: Vec<(String, bool, String)> = Vec::new();
    for param in &function.params {
        let (target, mutable) = match param.passing {
            Passing::Ref(target) => (target, false),
            Passing::RefMut(target) => (target, true),
            _ => continue,
        };
        let resource = match owner {
            Some(owner) => type_text(&replace_self(target, owner)),
            None => type_text(target),
        };
        let name = param.shown_name().to_owned();
        let earlier = seen
            .iter()
            .find(|(other, other_mutable, _)| *other == resource && (mutable || *other_mutable));
        if let Some((_, _, other_name)) = earlier {
            errors.spanned(
                param.ty,
                format!(
                    "`{other_name}` and `{name}` would both be the live resource of `{resource}`, and one of them is `&mut`: take the resource once, as `&mut {resource}`"
                ),
            );
        }
        seen.push((resource, mutable, name));
    }
}

/// A reference parameter borrows for the call only, so it cannot name a longer lifetime:
/// `&'static World` would let the function keep the resource after the call.
fn check_lifetime(
    errors: &mut Errors,
    arg: &FnArg,
    reference: &TypeReference,
    declared: &[&Lifetime],
) {
    let Some(lifetime) = &reference.lifetime else {
        return;
    };
    // `'_` is elided; declared lifetimes are already reported on their declaration.
    if lifetime.ident == "_" || declared.contains(&lifetime) {
        return;
    }
    let elided = match arg {
        FnArg::Receiver(receiver) if receiver.colon_token.is_none() => match reference.mutability {
            Some(_) => "&mut self".to_owned(),
            None => "&self".to_owned(),
        },
        _ => {
            let mut elided = reference.clone();
            elided.lifetime = None;
            type_text(&Type::Reference(elided))
        }
    };
    errors.spanned(
        lifetime,
        format!(
            "remove the lifetime `{lifetime}`: a hot function's references are valid only for the call; write `{elided}`"
        ),
    );
}

/// What hot functions take, for messages.
const TAKES: &str = "hot functions take primitives, `String`, `&str`, `CooType` values, `&T` or `&mut T` of a `CooType` (its live resource), and the caller's objects as `#[host] name: &T`";

/// Why a parameter type cannot cross the boundary, and what to write instead.
fn unsupported_param(ty: &Type) -> String {
    let text = type_text(ty);
    match ungroup(ty) {
        Type::Reference(reference) => match ungroup(&reference.elem) {
            Type::Path(_) => {
                // The only path a reference is unsupported for: `&mut str`.
                "hot functions cannot take `&mut str`: take `&str` and return the edited text as a `String`".to_owned()
            }
            Type::Slice(slice) => format!(
                "hot functions cannot take `{text}`: a reference parameter is `&str` or points to the live resource of a `CooType`; keep the items in a `Vec<{}>` field of a `#[derive(CooType)]` type and take a reference to that type",
                type_text(&slice.elem)
            ),
            Type::Tuple(_) => format!(
                "hot functions cannot take `{text}`: a reference parameter is `&str` or points to the live resource of a `CooType`; pass the elements as separate parameters, or put them in a `#[derive(CooType)]` struct and take a reference to it"
            ),
            Type::ImplTrait(_) => impl_trait_param(&text),
            Type::TraitObject(_) => format!(
                "a `{text}` parameter is an object of the caller's: mark it `#[host]`, as in `#[host] name: {text}`; a typed handle passes it (the trait must be named with `coo_runtime::host_trait!`)"
            ),
            _ => format!(
                "hot functions cannot take `{text}`: a reference parameter is `&str` or points to the live resource of a `CooType`, like `&World` or `&mut World`"
            ),
        },
        Type::Tuple(tuple) if tuple.elems.is_empty() => {
            "a hot function parameter cannot be `()`: remove the parameter".to_owned()
        }
        Type::Tuple(_) => format!(
            "hot functions cannot take tuples: pass the elements of `{text}` as separate parameters, or put them in a `#[derive(CooType)]` struct and take that"
        ),
        Type::Array(_) => format!(
            "hot functions cannot take arrays by value: put the `{text}` in a field of a `#[derive(CooType)]` struct and take that struct, or pass the elements as separate parameters"
        ),
        Type::Slice(slice) => format!(
            "hot functions cannot take slices: keep the items in a `Vec<{}>` field of a `#[derive(CooType)]` type and take a reference to that type",
            type_text(&slice.elem)
        ),
        Type::Ptr(pointer) => {
            let pointee = type_text(&pointer.elem);
            let reference = if pointer.mutability.is_some() {
                format!("&mut {pointee}")
            } else {
                format!("&{pointee}")
            };
            format!(
                "hot functions cannot take raw pointers: the host passes values, `&str`, and references to `CooType` resources; take `{reference}` instead of `{text}`"
            )
        }
        Type::BareFn(_) => format!(
            "hot functions cannot take function pointers: a `{text}` could point into a library that a reload unloads; register the function with `#[hot_fn]` and let the host call it"
        ),
        Type::TraitObject(_) => format!(
            "hot functions cannot take trait objects: the host cannot build a `{text}`; name a concrete type"
        ),
        Type::ImplTrait(_) => impl_trait_param(&text),
        Type::Never(_) => "a hot function parameter cannot be `!`: remove the parameter".to_owned(),
        _ => format!("hot functions cannot take `{text}`: {TAKES}"),
    }
}

/// Why a `#[host]` parameter's type cannot be a host object, and what to write instead.
fn unsupported_host(ty: &Type) -> String {
    let text = type_text(ty);
    match ungroup(ty) {
        Type::Reference(reference) => match ungroup(&reference.elem) {
            Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
                format!("a `{text}` is passed as it is: remove `#[host]`")
            }
            Type::Slice(slice) => format!(
                "a host object is a sized type or a trait object, not a slice: take `&Vec<{}>`, or a type of your own that holds the items",
                type_text(&slice.elem)
            ),
            Type::ImplTrait(_) => impl_trait_param(&text),
            _ => format!(
                "a host object is a named type or a trait object behind a reference, like `&mut Canvas` or `&dyn Shape`, not `{text}`"
            ),
        },
        _ => format!(
            "host objects are passed by reference: write `&{text}` or `&mut {text}`; a hot function cannot take a host object by value"
        ),
    }
}

fn impl_trait_param(text: &str) -> String {
    format!(
        "hot functions cannot take `{text}`: `impl Trait` makes the function generic, and the host calls one compiled function per slot; name a concrete type"
    )
}

/// Why a return type cannot cross the boundary, and what to write instead.
fn unsupported_return(ty: &Type) -> String {
    let text = type_text(ty);
    match ungroup(ty) {
        Type::Reference(reference) => match ungroup(&reference.elem) {
            Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => format!(
                "hot functions cannot return `{text}`: the host would keep a borrow of the plugin's data past the call; return a `String`"
            ),
            _ => format!(
                "hot functions cannot return references: the host would keep `{text}` past the call; return an owned value (a primitive, `String` or a `CooType`), or change a resource through a `&mut` parameter"
            ),
        },
        Type::ImplTrait(_) => format!(
            "hot functions cannot return `{text}`: the host needs the concrete type; name it, like `-> u32`"
        ),
        Type::Tuple(_) => format!(
            "hot functions cannot return tuples: return a `#[derive(CooType)]` struct with one field per element of `{text}`"
        ),
        Type::Array(_) => format!(
            "hot functions cannot return arrays: return a `#[derive(CooType)]` struct with a `{text}` field"
        ),
        Type::Never(_) => {
            "hot functions cannot return `!`: remove `-> !`; a panic in a hot function is caught and reported to the host".to_owned()
        }
        Type::Ptr(_) => format!(
            "hot functions cannot return raw pointers: the host cannot use a `{text}` into the plugin's memory; return an owned value"
        ),
        Type::BareFn(_) => format!(
            "hot functions cannot return function pointers: a `{text}` could point into a library that a reload unloads; register the function with `#[hot_fn]` and let the host call it"
        ),
        Type::TraitObject(_) | Type::Slice(_) => format!(
            "hot functions cannot return `{text}`: return a sized, owned value (a primitive, `String` or a `CooType`)"
        ),
        _ => format!(
            "hot functions cannot return `{text}`: hot functions return primitives, `String`, `()` and `CooType` values"
        ),
    }
}
