//! `#[hot_fn]`'s view of its input: the registered functions, each parameter classified by how
//! it crosses the shim boundary. Borrows the `syn` nodes, so that `valid` can put errors on the
//! exact tokens. Classifying never fails: what cannot cross is [`Passing::Unsupported`], and
//! `valid` explains why.

use syn::ext::IdentExt as _;
use syn::{
    Attribute, FnArg, ImplItem, Item, ItemImpl, Pat, Path, ReturnType, Signature, Type, Visibility,
};

use super::attr;
use crate::errors::Errors;
use crate::tokens::type_text;

/// The item under `#[hot_fn]`.
pub(crate) enum Input<'a> {
    /// A free function (or, by mistake, a method whose `impl` block lacks the attribute).
    Fn(HotFn<'a>),
    /// `#[hot_fn] impl Type { ... }`.
    Impl(HotImpl<'a>),
    /// Anything else; only an error to report.
    Other(&'a Item),
}

pub(crate) struct HotImpl<'a> {
    pub original: &'a ItemImpl,
    /// The registered functions of the block.
    pub fns: Vec<HotFn<'a>>,
    /// No method of the block is marked `#[hot_fn]`, so every `pub` one is registered.
    pub all_pub: bool,
}

/// One registered function.
pub(crate) struct HotFn<'a> {
    pub sig: &'a Signature,
    /// The self type of the `impl` block, for methods and associated functions.
    pub owner: Option<&'a Type>,
    pub params: Vec<Param<'a>>,
    pub ret: Ret<'a>,
    /// The `#[cfg(...)]` attributes of the function and of its impl block: the registration
    /// exists exactly when the function does.
    pub cfgs: Vec<&'a Attribute>,
}

pub(crate) struct Param<'a> {
    /// The descriptor's name: the identifier (without `r#`), `_` or `self`; `None` for any
    /// other pattern, which `valid` reports.
    pub name: Option<String>,
    pub arg: &'a FnArg,
    pub ty: &'a Type,
    /// The parameter's `#[host]` mark, if any (see [`attr::host_mark`]).
    pub host: Option<&'a Attribute>,
    pub passing: Passing<'a>,
}

/// How a parameter crosses the boundary (mirrors `ValueKind`).
pub(crate) enum Passing<'a> {
    /// `&T`: the argument slot points to the live resource of `T` (the referent).
    Ref(&'a Type),
    /// `&mut T`: likewise, mutably.
    RefMut(&'a Type),
    /// `#[host] x: &T` / `#[host] x: &mut T` (`T` a sized type or `dyn Trait`): an object of
    /// the caller's, passed as the reference it is.
    Host { target: &'a Type, mutable: bool },
    /// `&str`: the argument slot points to a `StrRef`.
    Str,
    /// `T` by value, moved in; `T: HotValue` is checked by the compiler.
    Value,
    /// A type the boundary cannot carry, whatever traits it implements.
    Unsupported,
}

pub(crate) enum Ret<'a> {
    /// No return type.
    Unit,
    /// `-> T`; `T: HotValue` is checked by the compiler.
    Value(&'a Type),
    /// A type that cannot be returned, whatever traits it implements.
    Unsupported(&'a Type),
}

impl<'a> Input<'a> {
    pub(crate) fn from_ast(errors: &mut Errors, item: &'a Item) -> Input<'a> {
        match item {
            Item::Fn(function) => {
                Input::Fn(HotFn::from_sig(&function.sig, None, cfgs(&function.attrs)))
            }
            Item::Impl(block) => Input::Impl(HotImpl::from_ast(errors, block)),
            other => Input::Other(other),
        }
    }
}

impl<'a> HotImpl<'a> {
    /// Reads the block: its methods marked `#[hot_fn]`, or when none is, its `pub` functions.
    fn from_ast(errors: &mut Errors, block: &'a ItemImpl) -> HotImpl<'a> {
        let mut marked = Vec::new();
        let mut public = Vec::new();
        for item in &block.items {
            let (attrs, what) = match item {
                ImplItem::Fn(function) => {
                    if !attr::marks(errors, &function.attrs).is_empty() {
                        marked.push(function);
                    } else if matches!(function.vis, Visibility::Public(_)) {
                        public.push(function);
                    }
                    continue;
                }
                ImplItem::Const(item) => (&item.attrs, "an associated constant"),
                ImplItem::Type(item) => (&item.attrs, "an associated type"),
                ImplItem::Macro(item) => (&item.attrs, "a macro invocation"),
                _ => continue,
            };
            for mark in attr::marks(errors, attrs) {
                errors.spanned(
                    mark,
                    format!(
                        "`#[hot_fn]` goes on the functions of an impl block, not on {what}: remove it"
                    ),
                );
            }
        }
        let all_pub = marked.is_empty();
        let chosen = if all_pub { public } else { marked };
        HotImpl {
            original: block,
            fns: chosen
                .into_iter()
                .map(|function| {
                    let mut conditions = cfgs(&block.attrs);
                    conditions.extend(cfgs(&function.attrs));
                    HotFn::from_sig(&function.sig, Some(&block.self_ty), conditions)
                })
                .collect(),
            all_pub,
        }
    }
}

impl<'a> HotFn<'a> {
    fn from_sig(
        sig: &'a Signature,
        owner: Option<&'a Type>,
        cfgs: Vec<&'a Attribute>,
    ) -> HotFn<'a> {
        let params = sig
            .inputs
            .iter()
            .map(|arg| match arg {
                FnArg::Receiver(receiver) => Param {
                    name: Some("self".to_owned()),
                    arg,
                    ty: &receiver.ty,
                    host: attr::host_mark(&receiver.attrs),
                    passing: Passing::of(&receiver.ty),
                },
                FnArg::Typed(typed) => {
                    let host = attr::host_mark(&typed.attrs);
                    Param {
                        name: param_name(&typed.pat),
                        arg,
                        ty: &typed.ty,
                        host,
                        passing: match host {
                            Some(_) => Passing::host(&typed.ty),
                            None => Passing::of(&typed.ty),
                        },
                    }
                }
            })
            .collect();
        let ret = match &sig.output {
            ReturnType::Default => Ret::Unit,
            ReturnType::Type(_, ty) => match ungroup(ty) {
                // `-> ()` is fine; other tuples are not.
                Type::Tuple(tuple) if tuple.elems.is_empty() => Ret::Value(ty),
                _ => match Passing::of(ty) {
                    Passing::Value => Ret::Value(ty),
                    _ => Ret::Unsupported(ty),
                },
            },
        };
        HotFn {
            sig,
            owner,
            params,
            ret,
            cfgs,
        }
    }

    /// The name in the descriptor: `tick`, or `World::step` for a function of an impl block.
    pub(crate) fn name(&self) -> String {
        let ident = self.sig.ident.unraw();
        match self.owner {
            Some(owner) => format!("{}::{ident}", owner_name(owner)),
            None => ident.to_string(),
        }
    }
}

/// The path of an impl block's self type, when it is a plain path (`World`, `sim::World`):
/// what `Self` is replaced by. `None` for other self types, which `valid` rejects.
pub(crate) fn owner_path(owner: &Type) -> Option<&Path> {
    match ungroup(owner) {
        Type::Path(path) if path.qself.is_none() => Some(&path.path),
        _ => None,
    }
}

/// The name of an impl block's self type in stable names: the last segment of its path
/// (`World` for `impl sim::World`).
pub(crate) fn owner_name(owner: &Type) -> String {
    match ungroup(owner) {
        Type::Path(path) if path.qself.is_none() => match path.path.segments.last() {
            Some(segment) => segment.ident.unraw().to_string(),
            None => type_text(owner),
        },
        _ => type_text(owner),
    }
}

impl Param<'_> {
    /// The name for messages: the parameter's name, or `_` for a pattern (which `valid`
    /// reports).
    pub(crate) fn shown_name(&self) -> &str {
        self.name.as_deref().unwrap_or("_")
    }
}

impl Passing<'_> {
    /// A `#[host]` parameter: a reference to a named type or a trait object; anything else is
    /// [`Passing::Unsupported`], which `valid` explains in terms of host objects.
    fn host(ty: &Type) -> Passing<'_> {
        match ungroup(ty) {
            Type::Reference(reference) => match ungroup(&reference.elem) {
                Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
                    Passing::Unsupported
                }
                Type::Path(_) | Type::TraitObject(_) => Passing::Host {
                    target: &reference.elem,
                    mutable: reference.mutability.is_some(),
                },
                _ => Passing::Unsupported,
            },
            _ => Passing::Unsupported,
        }
    }

    fn of(ty: &Type) -> Passing<'_> {
        match ungroup(ty) {
            Type::Reference(reference) => match ungroup(&reference.elem) {
                Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
                    if reference.mutability.is_some() {
                        Passing::Unsupported
                    } else {
                        Passing::Str
                    }
                }
                Type::Path(_) if reference.mutability.is_some() => Passing::RefMut(&reference.elem),
                Type::Path(_) => Passing::Ref(&reference.elem),
                _ => Passing::Unsupported,
            },
            // A type macro may expand to anything: the compiler checks `HotValue`.
            Type::Path(_) | Type::Macro(_) => Passing::Value,
            _ => Passing::Unsupported,
        }
    }
}

/// The `#[cfg(...)]` attributes among `attrs`.
fn cfgs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect()
}

/// `name`, `_`, `mut name`; `None` for other patterns.
fn param_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(ident) if ident.subpat.is_none() => Some(ident.ident.unraw().to_string()),
        Pat::Wild(_) => Some("_".to_owned()),
        _ => None,
    }
}

/// The type inside invisible groups (from `macro_rules!` fragments) and parentheses.
pub(crate) fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => ungroup(&group.elem),
        Type::Paren(paren) => ungroup(&paren.elem),
        other => other,
    }
}
